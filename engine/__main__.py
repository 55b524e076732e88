"""The local engine and the whole local system: `python -m engine build | start | run`."""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import structlog

from engine.build import build
from engine.errors import EngineError
from engine.java import find_java
from engine.launcher import LocalEngine
from lapor.deploy import deploy_and_provision
from lapor.logging import configure_logging
from lapor.migrate import upgrade
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT, local_logins
from lapor.settings import ROOT, get_settings

log = structlog.get_logger("engine")
API_PORT = 8000


def _print_addresses(lines: dict[str, str]) -> None:
    width = max(len(k) for k in lines)
    print("\nLAPOR! Pontianak is running:", flush=True)
    for name, address in lines.items():
        print(f"  {name:<{width}}  {address}", flush=True)
    print("Press Ctrl-C to stop everything.\n", flush=True)


def _wait_for_signal() -> None:
    stop = {"now": False}

    def handler(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["now"]:
        time.sleep(0.5)


def _wait_until_answering(url: str, services: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    """The addresses are printed only once the API answers; a service that dies on the way stops the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in services:
            if proc.poll() is not None:
                raise EngineError(f"{proc.args!r} exited with code {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise EngineError(f"{url} did not answer within {timeout:.0f} s")


def cmd_start(args: argparse.Namespace) -> None:
    engine = LocalEngine(data_dir=Path(args.data_dir), port=args.port)
    engine.start()
    try:
        _print_addresses(engine.addresses())
        _wait_for_signal()
    finally:
        engine.stop()


def cmd_run(args: argparse.Namespace) -> None:
    """Engine, bpmn/ deployed with the roles provisioned, workers and API; Ctrl-C stops all of them."""
    settings = get_settings()
    upgrade(settings.database_url)  # the schema first: workers and API write from their first second
    log.info("database.migrated", database=settings.database_url)
    # Cockpit's SLA view: the engine reads the API's GET /staff/sla with a token of this run (or the one set).
    sla_token = os.environ.get("LAPOR_SLA_API_TOKEN") or secrets.token_hex(16)
    engine = LocalEngine(
        data_dir=Path(args.data_dir),
        port=args.port,
        admin_user=settings.engine_admin_user,
        admin_password=settings.engine_admin_password,
        extra_env={"LAPOR_API_URL": f"http://127.0.0.1:{args.api_port}", "LAPOR_SLA_API_TOKEN": sla_token},
    )
    engine.start()
    services: list[subprocess.Popen[bytes]] = []
    try:
        settings = settings.model_copy(update={"engine_url": engine.rest_url})
        deployment, _ = deploy_and_provision(settings, attempts=5, delay=2)
        log.info("bpmn.deployed", deployment=deployment.id, changed=deployment.resources)
        env = {**os.environ, "LAPOR_ENGINE_URL": engine.rest_url}
        # Links in pages and messages (photos, /lacak/...) point at the API this run serves, whatever its port.
        env.setdefault("LAPOR_PUBLIC_BASE_URL", f"http://127.0.0.1:{args.api_port}")
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
        services.append(subprocess.Popen([sys.executable, "-m", "workers"], env=workers_env, cwd=ROOT))
        # `python -m api`: the API with a local mail catcher (registration codes) and the local intake credentials.
        api = [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(args.api_port)]
        services.append(subprocess.Popen(api, env=api_env, cwd=ROOT))
        _wait_until_answering(f"http://127.0.0.1:{args.api_port}/health", services)
        logins = ", ".join(user.id for user in local_logins()[:5]) + ", opd-<kode>"
        _print_addresses(
            {
                **engine.addresses(),
                "Role logins": f"{logins} (password = user id)",
                "Halaman warga (citizen web page)": f"http://127.0.0.1:{args.api_port}/",
                "LAPOR! API docs": f"http://127.0.0.1:{args.api_port}/docs",
            }
        )
        _wait_for_signal()
    finally:
        for proc in services:
            proc.send_signal(signal.SIGTERM)
        for proc in services:
            try:
                proc.wait(timeout=30)  # a worker waits out its last long poll (up to 25 s) to hand tasks back
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.stop()


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the engine jar with Maven (skipped when it is up to date)")
    build_cmd.add_argument("--force", action="store_true")
    start = sub.add_parser("start", help="run only the engine in the foreground")
    start.add_argument("--data-dir", default=str(ROOT / "var" / "engine"))
    start.add_argument("--port", type=int, default=8080)
    run = sub.add_parser("run", help="engine + deployment + roles + workers + API in the foreground")
    run.add_argument("--data-dir", default=str(ROOT / "var" / "engine"))
    run.add_argument("--port", type=int, default=8080, help="the engine's port (Tasklist, Cockpit, Admin, REST)")
    run.add_argument("--api-port", type=int, default=API_PORT)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build(find_java(minimum=17, purpose="The Operaton engine"), force=args.force))
        elif args.command == "start":
            cmd_start(args)
        else:
            cmd_run(args)
    except EngineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
