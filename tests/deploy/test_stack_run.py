"""The newcomer's command, `make run` (`python -m stack run`): it brings up the engine, the API and the workers and
prints where they are; a newcomer registers (the code from the local mail catcher), submits a report with a photo,
tracks it and finds it in Tasklist; Ctrl-C stops every one of them."""

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from engine import port_for_tests
from lapor.process import EngineClient
from lapor.settings import ROOT
from tests.api.conftest import REPORT_FIELDS, photo_files
from tests.conftest import free_port

pytestmark = pytest.mark.engine
T = TypeVar("T")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_run_command_starts_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    engine_port, api_port, health_port, smtp_port = port_for_tests(95), free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "LAPOR_DATABASE_URL": f"sqlite:///{tmp_path / 'lapor.db'}",
        "LAPOR_DATA_DIR": str(tmp_path / "data"),
        "LAPOR_WORKER_HEALTH_PORT": str(health_port),
        "LAPOR_SMTP_PORT": str(smtp_port),  # the run's own mail catcher listens here
        "LAPOR_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "stack", "run", "--data-dir", str(tmp_path / "engine")]
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
            f"http://127.0.0.1:{api_port}/",
        ):
            assert address in printed
            assert httpx.get(address, timeout=10).status_code == 200, address
        assert "opd-pupr" in printed and "password = user id" in printed
        with httpx.Client(timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{health_port}/health").status_code == 200  # workers poll
            tasks = client.get(f"http://127.0.0.1:{engine_port}/engine-rest/task", auth=("opd-pupr", "opd-pupr"))
            assert tasks.status_code == 200  # the role logins exist
        newcomer_registers_submits_and_tracks(api_port, engine_port, tmp_path / "data" / "mail" / "kotak-masuk.txt")
        koordinator_reads_the_sla_view(engine_port)
    finally:
        run.send_signal(signal.SIGINT)  # Ctrl-C
        code = run.wait(timeout=90)
    assert code == 0, output.read_text()[-3000:]
    for port in (engine_port, api_port, health_port):
        assert not listening(port), f"something still listens on {port} after Ctrl-C"


def koordinator_reads_the_sla_view(engine_port: int) -> None:
    """Cockpit's SLA view works in the run with no setup: the engine and the API share the run's SLA token."""
    with httpx.Client(base_url=f"http://127.0.0.1:{engine_port}", timeout=30) as cockpit:
        cockpit.get("/operaton/app/cockpit/default/")  # the webapps' CSRF cookie
        login = cockpit.post(
            "/operaton/api/admin/auth/user/default/login/cockpit",
            data={"username": "koordinator", "password": "koordinator"},
            headers={"X-XSRF-TOKEN": cockpit.cookies.get("XSRF-TOKEN", "")},
        )
        assert login.status_code == 200, login.text
        view = cockpit.get("/lapor/sla")
        assert view.status_code == 200, view.text
        assert {"open", "late", "due_soon", "at_risk"} <= view.json().keys()


def newcomer_registers_submits_and_tracks(api_port: int, engine_port: int, inbox: Path) -> None:
    """What the README's newcomer path promises, with no other setup: on the citizen web page the run printed,
    register with the mailed code, submit a report with a photo, follow it, and find it in Tasklist."""
    email = "warga.baru@example.id"
    with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30, follow_redirects=True) as page:
        form = page.get("/daftar")
        started = page.post("/daftar", data={"csrf": _csrf(form.text), "name": "Warga Baru", "email": email})
        assert started.status_code == 200, started.text
        registration = re.search(r'name="registration_id" value="([^"]+)"', started.text)
        assert registration is not None, started.text
        code = wait_for(lambda: _code_for(inbox, email), "the registration code in the mail catcher's inbox")
        verified = page.post(
            "/verifikasi",
            data={"csrf": _csrf(started.text), "registration_id": registration.group(1), "code": code},
        )
        assert verified.status_code == 200 and "Laporan saya" in verified.text, verified.text  # followed the 303
        form = page.get("/lapor")
        fields = {**REPORT_FIELDS, "lokasi": f"{REPORT_FIELDS['kecamatan']}/{REPORT_FIELDS['kelurahan']}"}
        submitted = page.post("/lapor", data={**fields, "csrf": _csrf(form.text)}, files=photo_files(1))
        assert submitted.status_code == 200 and "/lacak/" in str(submitted.url), submitted.text
        tracking_id = str(submitted.url.path).rsplit("/", 1)[1]
        tracked = wait_for(
            lambda: "Batas waktu verifikasi" in (text := page.get(f"/lacak/{tracking_id}").text) and text,
            "the tracking page to show the verification deadline (the workers ran)",
        )
        assert "Belum Terverifikasi" in tracked
        [photo] = [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', tracked)]
        assert photo.startswith(f"http://127.0.0.1:{api_port}/files/photos/")  # this run's port, not 8000
        assert httpx.get(photo, timeout=10).headers["content-type"] == "image/jpeg"
    rest_url = f"http://127.0.0.1:{engine_port}/engine-rest"
    with EngineClient(rest_url, user="admin-pengaduan", password="admin-pengaduan", timeout=30) as tasklist:
        tasks = wait_for(lambda: tasklist.tasks(business_key=tracking_id), "the verification task in Tasklist")
        assert [t.definition_key for t in tasks] == ["VerifyReportTask"]
    received = inbox.read_text()
    assert email in received and f"http://127.0.0.1:{api_port}/lacak/{tracking_id}" in received  # the notice links it


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def _code_for(inbox: Path, email: str) -> str | None:
    if not inbox.exists():
        return None
    codes = re.findall(rf"To: [^\n]*{re.escape(email)}[^\n]*\n(?:.*\n)*?.*?\b(\d{{6}})\b", inbox.read_text())
    return codes[-1] if codes else None


def wait_for(probe: Callable[[], T | None], what: str, within: float = 60.0) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"waited {within:.0f} s for {what}")
