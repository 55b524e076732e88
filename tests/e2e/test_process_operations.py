"""Operating the process on the real engine: monthly recap, failing tasks as incidents, retries that must not
resend, and the working-day calendar reaching Tasklist's due dates."""

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from lapor.notifications.channels import SmsGatewayChannel
from lapor.process import EngineClient, Incident, Task
from lapor.vocabulary import RECAP_PROCESS_ID
from lapor.workdays import WorkingCalendar
from tests.conftest import eventually
from tests.e2e.conftest import REPORTER, Mailbox, Submitted, email_channel_to, open_task, submit
from tests.support.servers import serving
from workers.deps import Deps

pytestmark = pytest.mark.engine
PONTIANAK = ZoneInfo("Asia/Pontianak")


async def skip_backoff_until_incident(operaton: EngineClient, instance: Submitted) -> Incident:
    """Each failure waits 5 s, 10 s, 20 s... on the engine; a test lets the retries run at once instead."""

    def incident_or_retry() -> Incident | None:
        found = operaton.incidents(process_instance_id=instance.process_instance_id)
        if found:
            return found[0]
        for task in operaton.external_tasks(process_instance_id=instance.process_instance_id, locked=True):
            if task.retries and task.error_message:  # waiting out its backoff, not being worked on
                operaton.unlock_external_task(task.id)
        return None

    return await eventually(incident_or_retry, within=60, interval=0.5)


async def test_monthly_recap_reaches_the_analis_and_kepala_bidang(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    await submit(lapor_process, worker_deps)
    [timer] = operaton.jobs(process_key=RECAP_PROCESS_ID)
    fires_at = timer.due_date.astimezone(PONTIANAK)
    assert (fires_at.day, fires_at.hour, fires_at.minute) == (1, 8, 0)  # 08:00 WIB on the 1st of next month
    operaton.execute_job(timer.id)
    period = f"{(datetime.now(PONTIANAK).replace(day=1) - timedelta(days=1)):%Y-%m}"  # the month before

    def review_task() -> tuple[Task, dict[str, object]] | None:
        for task in operaton.tasks(process_key=RECAP_PROCESS_ID, definition_key="ReviewRecapTask"):
            variables = operaton.variables(str(task.process_instance_id))
            if variables.get("recapPeriod") == period:
                return task, variables
        return None

    task, variables = await eventually(review_task)
    assert operaton.candidate_groups(task.id) == ["analis", "kepala-bidang"]
    assert str(variables["recapUrl"]).endswith(f"{period}.xlsx")
    workbook = openpyxl.load_workbook(worker_deps.settings.data_dir / "recaps" / f"rekap-{period}.xlsx")
    assert {"Ringkasan", "Per OPD", "Per Status"} <= set(workbook.sheetnames)
    assert any(sheet._charts for sheet in workbook.worksheets)
    assert len(operaton.jobs(process_key=RECAP_PROCESS_ID)) == 1  # the cycle waits for the next month


async def test_failing_task_is_retried_with_backoff_then_shows_as_incident(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    healthy = worker_deps.notifier
    # Nothing listens on port 9: every delivery fails technically
    worker_deps.notifier = replace(healthy, channels=(email_channel_to(9),))
    try:
        instance = await submit(lapor_process, worker_deps)
        incident = await skip_backoff_until_incident(operaton, instance)
    finally:
        worker_deps.notifier = healthy
    assert incident.incident_type == "failedExternalTask"
    assert incident.activity_id == "NotifyReportReceivedTask"  # Cockpit shows it on the notification task
    assert "NotificationDeliveryError" in incident.message
    # A supervisor's retry in Cockpit (retries back to 1) delivers it once the mail server is back.
    operaton.set_external_task_retries(incident.configuration, 1)
    await open_task(operaton, instance, "VerifyReportTask")
    assert not operaton.incidents(process_instance_id=instance.process_instance_id)


@pytest.fixture
def flaky_sms_gateway() -> Iterator[dict[str, Any]]:
    """An SMS gateway that answers 500 to its first request and 200 after."""
    state: dict[str, Any] = {"attempts": [], "url": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state["attempts"].append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(state["attempts"]) == 1 else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serving(HTTPServer(("127.0.0.1", 0), Handler)) as server:
        state["url"] = f"http://127.0.0.1:{server.server_port}/sms"
        yield state


async def test_a_retried_notification_does_not_send_twice(
    lapor_process: EngineClient,
    operaton: EngineClient,
    worker_deps: Deps,
    mailbox: Mailbox,
    flaky_sms_gateway: dict[str, Any],
) -> None:
    healthy = worker_deps.notifier
    flaky_sms = SmsGatewayChannel(flaky_sms_gateway["url"], token="gateway-token")
    worker_deps.notifier = replace(healthy, channels=(*healthy.channels, flaky_sms))
    try:
        instance = await submit(lapor_process, worker_deps)
        # First run: the e-mail goes out, the SMS fails, the task fails. The retry must send the SMS only.
        await open_task(operaton, instance, "VerifyReportTask")  # reached after the retry (5 s backoff)
    finally:
        worker_deps.notifier = healthy
    assert len(flaky_sms_gateway["attempts"]) == 2
    assert all(instance.tracking_id in a["message"] for a in flaky_sms_gateway["attempts"])
    assert flaky_sms_gateway["attempts"][0]["to"] == REPORTER["phone"]
    assert len(mailbox.to(REPORTER["email"], instance.tracking_id)) == 1  # one "laporan diterima" e-mail


async def test_days_off_in_the_calendar_move_the_due_date_tasklist_shows(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    now = datetime.now(UTC).astimezone(PONTIANAK)
    days_off = frozenset(now.date() + timedelta(days=n) for n in range(1, 15))  # e.g. a long cuti bersama
    usual = worker_deps.calendar
    worker_deps.calendar = WorkingCalendar(days_off)
    try:
        instance = await submit(lapor_process, worker_deps)
        task = await open_task(operaton, instance, "VerifyReportTask")
    finally:
        worker_deps.calendar = usual
    due = task.due.astimezone(PONTIANAK)
    assert due.date() > max(days_off)  # three working days, all after the days off
    assert due == WorkingCalendar(days_off).add_working_days(now, 3)
    assert due.weekday() < 5 and (due.hour, due.minute) == (23, 59)
