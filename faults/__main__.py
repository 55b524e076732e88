"""`python -m faults [--size ci|full] [--only NAME ...]`: start the local stack, run the faults, print verdicts."""

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from faults.scenarios import Numbers, Verdict, db_restart, engine_down, node_kill, restore_pair, worker_kills
from faults.topology import Stack, load_average
from lapor.logging import configure_logging


@dataclass(frozen=True)
class Size:
    outage_submissions: int
    outage_seconds: float
    kill_submissions: int
    kills: int
    kill_seconds: float
    restart_submissions: int
    restart_seconds: float
    node_kill_reports: int
    restore_submissions: int  # per round (the engine's dump first, then the application's)
    restore_seconds: float
    restore_gap: float  # between the two dumps


# ci: the short run of tests/faults; full: the figures (1,000 submissions across 60 s, 50 kills, dumps
# 60 s apart under 1,000 submissions).
SIZES = {
    "ci": Size(50, 10, 30, 5, 15, 15, 5, 20, 30, 20, 8),
    "full": Size(1000, 60, 300, 50, 150, 60, 20, 200, 1000, 120, 60),
}
# The order matters: the node kill leaves one node, so it comes last.
NAMES = ("worker-kills", "engine-down", "db-restart", "restore-pair", "node-kill")


def scenarios(size: Size) -> dict[str, Callable[[Stack, Numbers], Verdict]]:
    return {
        "worker-kills": lambda stack, n: worker_kills(
            stack, n, submissions=size.kill_submissions, kills=size.kills, seconds=size.kill_seconds
        ),
        "engine-down": lambda stack, n: engine_down(
            stack, n, submissions=size.outage_submissions, outage=size.outage_seconds
        ),
        "db-restart": lambda stack, n: db_restart(
            stack, n, submissions=size.restart_submissions, down=size.restart_seconds
        ),
        "restore-pair": lambda stack, n: restore_pair(
            stack, n, submissions=size.restore_submissions, seconds=size.restore_seconds, gap=size.restore_gap
        ),
        "node-kill": lambda stack, n: node_kill(stack, n, submissions=size.node_kill_reports),
    }


def run(size_name: str, only: list[str] | None = None, *, keep: bool = False) -> list[Verdict]:
    """Start the stack once, run the chosen scenarios in order, stop the stack; every verdict, passed or not."""
    chosen = [name for name in NAMES if not only or name in only]
    table = scenarios(SIZES[size_name])
    verdicts: list[Verdict] = []
    numbers = Numbers()
    with Stack(nodes=2, workers=2) as stack:
        for name in chosen:
            try:
                verdict = table[name](stack, numbers)
            except Exception as err:
                verdict = Verdict(name, False, {"error": f"{type(err).__name__}: {err}"[:300]}, load=load_average())
            print(verdict.line(), flush=True)
            verdicts.append(verdict)
    if all(v.passed for v in verdicts) and not keep:
        shutil.rmtree(stack.work_dir, ignore_errors=True)
    else:
        print(f"logs of the stack: {stack.work_dir}", flush=True)
    return verdicts


def main(argv: list[str] | None = None) -> int:
    configure_logging(log_format="console", level=os.environ.get("LAPOR_LOG_LEVEL", "WARNING"))
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="ci")
    parser.add_argument("--only", nargs="*", choices=NAMES, help="run only these scenarios (in the usual order)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's logs, dumps and repair output")
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"faults --size {args.size}: load before {load_average()}", flush=True)
    verdicts = run(args.size, args.only, keep=args.keep)
    passed = all(v.passed for v in verdicts)
    print(f"faults: {sum(v.passed for v in verdicts)}/{len(verdicts)} passed in {time.monotonic() - started:.0f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
