"""A harness killed with SIGKILL (no finally, no atexit) takes its engine nodes, PostgreSQL servers and Python
services with it: nothing of it keeps running or keeps a port."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faults.topology import first_port, free
from lapor.settings import ROOT

pytestmark = pytest.mark.engine

HARNESS = """
import time
from faults.topology import Stack
stack = Stack(nodes=1, workers=1)
stack.start()
print("READY", flush=True)
time.sleep(600)
"""


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its command line."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = command_line(child)
                frontier.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_sigkilled_harness_leaves_no_engine_database_or_service_running() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    children: dict[int, str] = {}
    try:
        assert harness.stdout is not None
        for line in harness.stdout:  # the stack's log, then READY once it is up
            if line.strip() == b"READY":
                break
        assert harness.poll() is None, f"the harness did not start (exit {harness.returncode})"
        children = descendants(harness.pid)
        kinds = {
            kind for kind in ("java", "postgres", "uvicorn", "-m workers") if any(kind in c for c in children.values())
        }
        assert kinds == {"java", "postgres", "uvicorn", "-m workers"}, children
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(pid) for pid in children):
            time.sleep(0.2)
        survivors = {pid: command for pid, command in children.items() if alive(pid)}
        assert survivors == {}

        def held() -> list[int]:
            return [port for port in range(first_port(), first_port() + 8) if not free(port)]

        # The kernel closes a dead server's connections a moment after the process is gone (seen in CI: two ports
        # still refused a bind right after the last process died); a port held by a survivor stays held.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and held():
            time.sleep(0.5)
        assert held() == []
    finally:
        if harness.poll() is None:
            harness.kill()
        for pid in children:  # only if the test failed: what it started must not outlive it
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
