"""CLI of the local engine: `python -m engine fetch | start | run`."""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import structlog

from engine.errors import EngineError
from engine.fetch import fetch
from engine.launcher import EnginePorts, LocalEngine
from engine.users import create_role_users
from lapor.logging import configure_logging
from lapor.migrate import upgrade
from lapor.settings import ROOT, get_settings
from lapor.zeebe import deploy_directory

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


def cmd_start(args: argparse.Namespace) -> None:
    ports = EnginePorts.for_tests() if args.test_ports else EnginePorts()
    engine = LocalEngine(data_dir=Path(args.data_dir), ports=ports, test_mode=args.test_mode)
    engine.start()
    try:
        _print_addresses(engine.addresses())
        _wait_for_signal()
    finally:
        engine.stop()


def cmd_run(args: argparse.Namespace) -> None:
    """Engine, deployment of bpmn/, workers and API; Ctrl-C stops all of them."""
    settings = get_settings()
    upgrade(settings.database_url)  # the schema first: workers and API write from their first second
    log.info("database.migrated", database=settings.database_url)
    engine = LocalEngine(data_dir=Path(args.data_dir))
    engine.start()
    services: list[subprocess.Popen[bytes]] = []
    try:
        deployed = asyncio.run(deploy_directory(engine.grpc_address))
        log.info("bpmn.deployed", resources=deployed)
        users = create_role_users(engine.opensearch_url)
        log.info("logins.created", users=users, passwords="each the same as its user id")
        env = {
            **os.environ,
            "LAPOR_ZEEBE_ADDRESS": engine.grpc_address,
            "LAPOR_CAMUNDA_REST_URL": engine.rest_url,
        }
        (ROOT / "var").mkdir(exist_ok=True)
        services.append(subprocess.Popen([sys.executable, "-m", "workers"], env=env, cwd=ROOT))
        services.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(API_PORT),
                ],
                env=env,
                cwd=ROOT,
            )
        )
        _print_addresses(
            {
                **engine.addresses(),
                "Role logins": "admin-pengaduan, analis, kepala-bidang, koordinator, opd-<kode> (password = user id)",
                "API docs": f"http://127.0.0.1:{API_PORT}/docs",
            }
        )
        log.info("stack.started", database=settings.database_url)
        _wait_for_signal()
    finally:
        for proc in services:
            proc.send_signal(signal.SIGTERM)
        for proc in services:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.stop()


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the pinned engine from Maven Central into the cache")
    start = sub.add_parser("start", help="run only the engine in the foreground")
    start.add_argument("--data-dir", default=str(ROOT / "var" / "engine"))
    start.add_argument("--test-mode", action="store_true", help="controllable engine clock")
    start.add_argument(
        "--test-ports", action="store_true", help="the ports the tests use, beside a running local stack"
    )
    run = sub.add_parser("run", help="engine + deployment + workers + API in the foreground")
    run.add_argument("--data-dir", default=str(ROOT / "var" / "engine"))
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            dist = fetch()
            print(f"Camunda: {dist.camunda_home}\nOpenSearch: {dist.opensearch_lib}")
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
