"""The newcomer's command: `python -m engine run` brings up the engine, the API and the workers, prints where
they are, and Ctrl-C stops every one of them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine import port_for_tests
from lapor.settings import ROOT

pytestmark = pytest.mark.engine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_run_command_starts_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    engine_port, api_port, health_port = port_for_tests(95), free_port(), free_port()
    env = {
        **os.environ,
        "LAPOR_DATABASE_URL": f"sqlite:///{tmp_path / 'lapor.db'}",
        "LAPOR_DATA_DIR": str(tmp_path / "data"),
        "LAPOR_WORKER_HEALTH_PORT": str(health_port),
        "LAPOR_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "engine", "run", "--data-dir", str(tmp_path / "engine")]
    command += ["--port", str(engine_port), "--api-port", str(api_port)]
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while "Press Ctrl-C" not in output.read_text(errors="replace"):
            assert run.poll() is None, f"the run command ended early:\n{output.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the run command never got ready:\n{output.read_text()[-3000:]}"
            time.sleep(1)
        printed = output.read_text()
        for address in (
            f"http://127.0.0.1:{engine_port}/operaton/app/tasklist/default/",
            f"http://127.0.0.1:{engine_port}/operaton/app/cockpit/default/",
            f"http://127.0.0.1:{engine_port}/operaton/app/admin/default/",
            f"http://127.0.0.1:{api_port}/docs",
        ):
            assert address in printed
            assert httpx.get(address, timeout=10).status_code == 200, address
        assert "opd-pupr" in printed and "password = user id" in printed
        with httpx.Client(timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{health_port}/health").status_code == 200  # workers poll
            tasks = client.get(f"http://127.0.0.1:{engine_port}/engine-rest/task", auth=("opd-pupr", "opd-pupr"))
            assert tasks.status_code == 200  # the role logins exist
    finally:
        run.send_signal(signal.SIGINT)  # Ctrl-C
        code = run.wait(timeout=90)
    assert code == 0, output.read_text()[-3000:]
    for port in (engine_port, api_port, health_port):
        assert not listening(port), f"something still listens on {port} after Ctrl-C"
