"""The whole-system runner (stack/) beside the engine's own package (engine/): `make run` is `python -m stack run`,
the engine package knows nothing of the system around it, and a service that dies while starting stops the run."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lapor.settings import ROOT
from stack.run import ServiceError, application_addresses, wait_until_answering
from tests.conftest import free_port

# What only the whole system needs: the application's services, its database schema, its deployment and its logins.
SYSTEM_MODULES = {"stack", "api", "workers", "faults", "bench", "lapor.deploy", "lapor.migrate", "lapor.roles"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_engine_package_builds_and_starts_the_engine_and_nothing_else() -> None:
    for path in sorted((ROOT / "engine").glob("*.py")):
        for module in imported_modules(path):
            assert not any(module == m or module.startswith(f"{m}.") for m in SYSTEM_MODULES), (path.name, module)


def test_make_run_is_the_stack_run_command() -> None:
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1).split() == ["$(PY)", "-m", "stack", "run"]


def test_the_engine_command_offers_only_the_engines_own_commands() -> None:
    """`python -m engine run` is gone: one name per thing, the run is `python -m stack run`."""
    run = subprocess.run([sys.executable, "-m", "engine", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "invalid choice: 'run'" in run.stderr and "'build', 'start'" in run.stderr


def test_a_service_that_dies_while_starting_stops_the_run() -> None:
    died = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    died.wait(timeout=30)
    with pytest.raises(ServiceError, match="exited with code 3 while starting"):
        wait_until_answering(f"http://127.0.0.1:{free_port()}/health", [died], timeout=10)


def test_a_service_that_never_answers_stops_the_run_after_the_timeout() -> None:
    with pytest.raises(ServiceError, match="did not answer within 1 s"):
        wait_until_answering(f"http://127.0.0.1:{free_port()}/health", [], timeout=1)


def test_the_printed_addresses_follow_the_api_port() -> None:
    addresses = application_addresses(18123)
    assert addresses["Halaman warga (citizen web page)"] == "http://127.0.0.1:18123/"
    assert addresses["LAPOR! API docs"] == "http://127.0.0.1:18123/docs"
    assert "password = user id" in addresses["Role logins"]
