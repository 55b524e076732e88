"""The API alone: `python -m api` serves it with uvicorn, without the engine and the workers.

uvicorn's own X-Forwarded-For handling is switched off: it believes any loopback peer, and the API reads the
header itself from the proxies in LAPOR_TRUSTED_PROXIES only (api/deps.py). Every way of starting the API
(this command, the run command, the container) must pass `proxy_headers=False` / `--no-proxy-headers`.

Outside production it also starts a mail catcher where LAPOR_SMTP_HOST/PORT point (registration codes appear
in the log and in var/mail/kotak-masuk.txt) and prints the local intake credentials, generated once into var/.
"""

import argparse
import json
import os
import secrets
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api import mailcatcher
from lapor.logging import configure_logging
from lapor.settings import Settings, get_settings

LOCAL_CREDENTIALS = "local-intake-credentials.json"
_CREDENTIAL_ENV = {
    "staff_api_tokens": "LAPOR_STAFF_API_TOKENS",
    "national_api_tokens": "LAPOR_NATIONAL_API_TOKENS",
    "sms_webhook_secret": "LAPOR_SMS_WEBHOOK_SECRET",
}


def server_config(app: FastAPI | str, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn as the API needs it: the app's own proxy handling, no framework access log (api/main.py logs)."""
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,  # keep lapor.logging's handlers
    )


def local_intake_credentials(settings: Settings) -> dict[str, str]:
    """Environment for the intake credentials a local run leaves unset: random, generated once into data_dir.

    Empty in production (there every credential is the operator's) and for credentials that are set.
    """
    if settings.environment == "production":
        return {}
    path = settings.data_dir / LOCAL_CREDENTIALS
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generated = {name: "lokal-" + secrets.token_urlsafe(24) for name in _CREDENTIAL_ENV}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(generated, handle)
    stored: dict[str, str] = json.loads(path.read_text())
    return {env: stored[name] for name, env in _CREDENTIAL_ENV.items() if not getattr(settings, name)}


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    credentials = local_intake_credentials(settings)
    if credentials:
        os.environ.update(credentials)
        get_settings.cache_clear()  # the app factory reads the settings again, with these
        print("Kredensial intake lokal (juga di " + str(settings.data_dir / LOCAL_CREDENTIALS) + "):")
        for env, value in credentials.items():
            print(f"  {env}={value}")
    if settings.environment != "production":
        catcher = mailcatcher.start(settings.smtp_host, settings.smtp_port, settings.data_dir)
        inbox = Path(settings.data_dir) / mailcatcher.INBOX
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        print(f"Email lokal (kode verifikasi) di {inbox}" + ("" if catcher else f" bila server di {where} menulisnya"))
    uvicorn.Server(server_config("api.main:create_app", host=args.host, port=args.port)).run()


if __name__ == "__main__":
    main()
