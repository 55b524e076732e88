"""A command in the foreground: it prints where everything answers, then waits for Ctrl-C (or SIGTERM).

Shared by `python -m engine start` (the engine alone) and `python -m stack run` (the whole system)."""

import signal
import time


def print_addresses(lines: dict[str, str]) -> None:
    """The addresses as an aligned list, the last line saying how to stop: the run's test waits for that line."""
    width = max(len(k) for k in lines)
    print("\nLAPOR! Pontianak is running:", flush=True)
    for name, address in lines.items():
        print(f"  {name:<{width}}  {address}", flush=True)
    print("Press Ctrl-C to stop everything.\n", flush=True)


def wait_for_signal() -> None:
    """Returns on SIGINT or SIGTERM, so the caller's `finally` stops what it started."""
    stop = {"now": False}

    def handler(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop["now"]:
        time.sleep(0.5)
