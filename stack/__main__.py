"""The whole system on this machine: `python -m stack run` (engine, bpmn/ deployed, roles, workers, API)."""

import argparse
import sys
from pathlib import Path

from engine import EngineError
from lapor.logging import configure_logging
from lapor.settings import get_settings
from stack.run import API_PORT, DATA_DIR, ENGINE_PORT, ServiceError, run


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_cmd = sub.add_parser("run", help="engine + deployment + roles + workers + API in the foreground")
    run_cmd.add_argument("--data-dir", default=str(DATA_DIR), help="the engine's files (its H2 database, its log)")
    run_cmd.add_argument("--port", type=int, default=ENGINE_PORT, help="the engine's port (Tasklist, Cockpit, REST)")
    run_cmd.add_argument("--api-port", type=int, default=API_PORT)
    args = parser.parse_args(argv)
    try:
        run(data_dir=Path(args.data_dir), port=args.port, api_port=args.api_port)
    except (EngineError, ServiceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
