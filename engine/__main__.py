"""The engine alone: `python -m engine build | start`, and the process designer's
`python -m engine deploy [--check | --plan | --migrate]` (lapor.designer, docs/designers.md). The whole system
(engine, deployment, roles, workers, API) is `python -m stack run`."""

import argparse
import sys
from pathlib import Path

from engine.build import build
from engine.errors import EngineError
from engine.foreground import print_addresses, wait_for_signal
from engine.java import find_java
from engine.launcher import LocalEngine
from lapor import designer
from lapor.deploy import BPMN_DIR, admin_client
from lapor.logging import configure_logging
from lapor.modelcheck import check
from lapor.process import EngineAuthError, EngineUnavailable
from lapor.process import EngineError as ProcessEngineError
from lapor.settings import ROOT, Settings, get_settings


def cmd_start(args: argparse.Namespace) -> None:
    engine = LocalEngine(data_dir=Path(args.data_dir), port=args.port)
    engine.start()
    try:
        print_addresses(engine.addresses())
        wait_for_signal()
    finally:
        engine.stop()


def cmd_deploy(args: argparse.Namespace, settings: Settings) -> int:
    if args.check:
        outcome = designer.Outcome(check(args.bpmn_dir))
        print(designer.report(outcome, mode="check"))
        return designer.exit_code(outcome)
    mode = "plan" if args.plan else "migrate" if args.migrate else "deploy"
    try:
        with admin_client(settings) as client:
            if mode == "plan":
                outcome = designer.plan(client, args.bpmn_dir)
            elif mode == "migrate":
                outcome = designer.migrate(client, args.bpmn_dir, batch_size=args.batch_size)
            else:
                outcome = designer.deploy(client, args.bpmn_dir)
    except EngineUnavailable as err:
        print(f"error: the engine at {settings.engine_url} does not answer: {err}", file=sys.stderr)
        return 1
    except EngineAuthError as err:
        print(f"error: the engine refused the administrator login (LAPOR_ENGINE_ADMIN_USER): {err}", file=sys.stderr)
        return 1
    except ProcessEngineError as err:  # e.g. a migration batch that did not finish: what moved so far stays moved
        print(f"error: the engine answered: {err}", file=sys.stderr)
        return 1
    print(designer.report(outcome, mode=mode))
    return designer.exit_code(outcome)


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
    deploy = sub.add_parser(
        "deploy",
        help="check bpmn/, show what changes, deploy it and move running reports to the new version",
        description="Without an option: check, then deploy (running reports stay on their version).",
    )
    mode = deploy.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check the models against the code; no engine needed")
    mode.add_argument("--plan", action="store_true", help="check, show the changes and what would move; change nothing")
    mode.add_argument("--migrate", action="store_true", help="check, deploy, and move running reports")
    deploy.add_argument("--bpmn-dir", type=Path, default=BPMN_DIR, help="the models (default: bpmn/)")
    deploy.add_argument("--batch-size", type=int, default=designer.BATCH_SIZE, help="reports per engine batch")
    args = parser.parse_args(argv)
    if args.command == "deploy":
        return cmd_deploy(args, settings)
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
