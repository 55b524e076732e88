"""Operating the process on the real engine: monthly recap, failing jobs, retries that must not resend, holidays."""

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pyzeebe import ZeebeClient

from lapor.camunda import CamundaRest
from lapor.notifications.channels import SmsGatewayChannel
from tests.conftest import EngineClock, eventually
from tests.e2e.conftest import REPORTER, Mailbox, email_channel_to, open_task, submit
from workers.deps import Deps

pytestmark = pytest.mark.engine
PONTIANAK = ZoneInfo("Asia/Pontianak")


async def test_monthly_recap_reaches_the_analis_and_kepala_bidang(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    submitted = await submit(lapor_process, worker_deps, clock)
    month = clock.now.astimezone(PONTIANAK)
    period = f"{month:%Y-%m}"
    first_of_next = (month.replace(day=1) + timedelta(days=32)).replace(day=1, hour=8, minute=0, second=0)
    clock.pin(first_of_next.astimezone(UTC) + timedelta(hours=1))  # the timer start fires at 08:00 WIB

    def review_task() -> dict[str, Any] | None:
        tasks = camunda.user_tasks(state="CREATED", taskDefinitionId="ReviewRecapTask")
        for task in tasks:
            variables = camunda.variables(int(task["processInstanceKey"]))
            if variables.get("recapPeriod") == period:
                return {**task, "variables": variables}
        return None

    task = await eventually(review_task, within=90)
    assert set(task["candidateGroups"]) == {"analis", "kepala-bidang"}
    assert task["variables"]["recapUrl"].endswith(f"{period}.xlsx")
    workbook = openpyxl.load_workbook(worker_deps.settings.data_dir / "recaps" / f"rekap-{period}.xlsx")
    assert {"Ringkasan", "Per OPD", "Per Status"} <= set(workbook.sheetnames)
    summary = {row[0]: row[1] for row in workbook["Ringkasan"].iter_rows(values_only=True) if row[0]}
    assert summary["Jumlah laporan masuk"] >= 1  # at least the report submitted above, in this month
    assert any(sheet._charts for sheet in workbook.worksheets)
    assert submitted.tracking_id  # the report counted above


async def test_failing_job_is_retried_with_backoff_then_shows_as_incident(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    healthy = worker_deps.email
    worker_deps.email = email_channel_to(9)  # nothing listens on port 9: every delivery fails technically
    try:
        instance = await submit(lapor_process, worker_deps, clock)

        def incident() -> dict[str, Any] | None:
            clock.advance(timedelta(minutes=6))  # past the longest backoff, on the engine's clock
            found = camunda.operate_search("incidents", processInstanceKey=instance.process_instance_key)
            return found[0] if found else None

        found = await eventually(incident, within=120, interval=2)
    finally:
        worker_deps.email = healthy
    assert found["type"] == "JOB_NO_RETRIES"
    assert "NotificationDeliveryError" in found["message"]

    def failing_element() -> bool:
        nodes = camunda.operate_search("flownode-instances", processInstanceKey=instance.process_instance_key)
        return any(n["flowNodeId"] == "NotifyReportReceivedTask" and n["incident"] for n in nodes)

    assert await eventually(failing_element)  # Operate shows the incident on the notification task


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

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_port}/sms"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()


async def test_a_retried_notification_job_does_not_send_twice(
    lapor_process: ZeebeClient,
    worker_deps: Deps,
    clock: EngineClock,
    mailbox: Mailbox,
    flaky_sms_gateway: dict[str, Any],
) -> None:
    worker_deps.sms = SmsGatewayChannel(flaky_sms_gateway["url"], token="gateway-token")
    try:
        instance = await submit(lapor_process, worker_deps, clock)
        # First run: e-mail goes out, SMS fails, the job fails. The retry must send the SMS only.
        await eventually(lambda: len(flaky_sms_gateway["attempts"]) >= 1 or None)
        for _ in range(20):
            if len(flaky_sms_gateway["attempts"]) >= 2:
                break
            clock.advance(timedelta(seconds=30))
            await asyncio.sleep(1)
    finally:
        worker_deps.sms = None
    assert len(flaky_sms_gateway["attempts"]) == 2
    assert all(instance.tracking_id in a["message"] for a in flaky_sms_gateway["attempts"])
    assert flaky_sms_gateway["attempts"][0]["to"] == REPORTER["phone"]
    await asyncio.sleep(2)
    assert len(mailbox.to(REPORTER["email"], instance.tracking_id)) == 1  # one "laporan diterima" e-mail


async def test_verification_deadline_skips_a_public_holiday_and_the_weekend(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    # Thursday 16 Aug 2029, 10:00 WIB; Fri 17 Aug is Independence Day, then the weekend: 3 working days end
    # on Wednesday 22 Aug. The test pins an absolute date, so it runs last in this module.
    clock.pin(datetime(2029, 8, 16, 10, 0, tzinfo=PONTIANAK).astimezone(UTC))
    instance = await submit(lapor_process, worker_deps, clock)
    task = await open_task(camunda, instance, "VerifyReportTask")
    due = datetime.fromisoformat(task["dueDate"].replace("+0000", "+00:00")).astimezone(PONTIANAK)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2029-08-22", 23, 59)
    key = instance.process_instance_key
    reminder = await eventually(lambda: camunda.variables(key).get("verificationReminderAt"))
    assert reminder.startswith("2029-08-21T08:00")  # one working day before, at the start of business
