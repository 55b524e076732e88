"""The engine alone: `python -m engine build | start`. The whole system (engine, deployment, roles, workers, API)
is `python -m stack run`."""

import argparse
import sys
from pathlib import Path

from engine.build import build
from engine.errors import EngineError
from engine.foreground import print_addresses, wait_for_signal
from engine.java import find_java
from engine.launcher import LocalEngine
from lapor.logging import configure_logging
from lapor.settings import ROOT, get_settings


def cmd_start(args: argparse.Namespace) -> None:
    engine = LocalEngine(data_dir=Path(args.data_dir), port=args.port)
    engine.start()
    try:
        print_addresses(engine.addresses())
        wait_for_signal()
    finally:
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
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build(find_java(minimum=17, purpose="The Operaton engine"), force=args.force))
        else:
            cmd_start(args)
    except EngineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
