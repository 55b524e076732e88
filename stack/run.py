"""`python -m stack run`: the schema migrated, the engine started, bpmn/ deployed and the roles provisioned, then the
workers and the API as child processes with their own service logins; Ctrl-C stops all of them."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import structlog

from engine import LocalEngine
from engine.foreground import print_addresses, wait_for_signal
from lapor.deploy import deploy_and_provision
from lapor.migrate import upgrade
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT, local_logins
from lapor.settings import ROOT, Settings, get_settings

log = structlog.get_logger("stack")
API_PORT = 8000
ENGINE_PORT = 8080
DATA_DIR = ROOT / "var" / "engine"
# A worker waits out its last long poll (up to 25 s) to hand its tasks back before it exits.
SERVICE_STOP_SECONDS = 30


class ServiceError(RuntimeError):
    """A service of the run (the workers, the API) ended or did not answer while the run was starting."""


def run(*, data_dir: Path = DATA_DIR, port: int = ENGINE_PORT, api_port: int = API_PORT) -> None:
    """Everything up, the addresses printed once the API answers, and everything stopped on Ctrl-C."""
    settings = get_settings()
    upgrade(settings.database_url)  # the schema first: workers and API write from their first second
    log.info("database.migrated", database=settings.database_url)
    # Cockpit's SLA view: the engine reads the API's GET /staff/sla with a token of this run (or the one set).
    sla_token = os.environ.get("LAPOR_SLA_API_TOKEN") or secrets.token_hex(16)
    engine = LocalEngine(
        data_dir=data_dir,
        port=port,
        admin_user=settings.engine_admin_user,
        admin_password=settings.engine_admin_password,
        extra_env={"LAPOR_API_URL": f"http://127.0.0.1:{api_port}", "LAPOR_SLA_API_TOKEN": sla_token},
    )
    engine.start()
    services: list[subprocess.Popen[bytes]] = []
    try:
        settings = settings.model_copy(update={"engine_url": engine.rest_url})
        deployment, _ = deploy_and_provision(settings, attempts=5, delay=2)
        log.info("bpmn.deployed", deployment=deployment.id, changed=deployment.resources)
        services = start_services(settings, api_port=api_port, sla_token=sla_token)
        wait_until_answering(f"http://127.0.0.1:{api_port}/health", services)
        print_addresses({**engine.addresses(), **application_addresses(api_port)})
        wait_for_signal()
    finally:
        stop_services(services)
        engine.stop()


def start_services(settings: Settings, *, api_port: int, sla_token: str) -> list[subprocess.Popen[bytes]]:
    """The workers and the API, each logged in to the engine with its own service account, never the admin's."""
    env = {**os.environ, "LAPOR_ENGINE_URL": settings.engine_url}
    # Links in pages and messages (photos, /lacak/...) point at the API this run serves, whatever its port.
    env.setdefault("LAPOR_PUBLIC_BASE_URL", f"http://127.0.0.1:{api_port}")
    (ROOT / "var").mkdir(exist_ok=True)
    workers_env = {
        **env,
        "LAPOR_ENGINE_USER": WORKERS_ACCOUNT,
        "LAPOR_ENGINE_PASSWORD": settings.worker_engine_password,
    }
    api_env = {
        **env,
        "LAPOR_ENGINE_USER": API_ACCOUNT,
        "LAPOR_ENGINE_PASSWORD": settings.api_engine_password,
        "LAPOR_SLA_API_TOKENS": sla_token,
    }
    services = [subprocess.Popen([sys.executable, "-m", "workers"], env=workers_env, cwd=ROOT)]
    # `python -m api`: the API with a local mail catcher (registration codes) and the local intake credentials.
    api = [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(api_port)]
    services.append(subprocess.Popen(api, env=api_env, cwd=ROOT))
    return services


def application_addresses(api_port: int) -> dict[str, str]:
    """What the run adds to the engine's addresses: the role logins, the citizen page and the API's docs."""
    logins = ", ".join(user.id for user in local_logins()[:5]) + ", opd-<kode>"
    return {
        "Role logins": f"{logins} (password = user id)",
        "Halaman warga (citizen web page)": f"http://127.0.0.1:{api_port}/",
        "LAPOR! API docs": f"http://127.0.0.1:{api_port}/docs",
    }


def wait_until_answering(url: str, services: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    """The addresses are printed only once the API answers; a service that dies on the way stops the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in services:
            if proc.poll() is not None:
                raise ServiceError(f"{proc.args!r} exited with code {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServiceError(f"{url} did not answer within {timeout:.0f} s")


def stop_services(services: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all first, so they wind down side by side; SIGKILL to any still running after the wait."""
    for proc in services:
        proc.send_signal(signal.SIGTERM)
    for proc in services:
        try:
            proc.wait(timeout=SERVICE_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
