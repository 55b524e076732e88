"""Helpers of the LAPOR! process tests; the mail server, national endpoint and workers are in tests/conftest.py."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from engine import LocalEngine
from lapor import audit, intake, reports
from lapor.db import session_scope
from lapor.models import Report, Reporter, ReportEvent
from lapor.notifications.channels import EmailChannel
from lapor.process import EngineClient, EngineError, HistoricInstance, Job, Task
from lapor.vocabulary import PROCESS_ID, Message
from tests.conftest import Mailbox, NationalInbox, body_of, eventually, login, proof_photo  # noqa: F401 - re-exported for the e2e tests
from workers.deps import Deps

REPORTER = {"name": "Budi Santoso", "email": "budi.santoso@example.id", "phone": "+6281234567890"}


# -- helpers the tests share -----------------------------------------------------------------------------------
@dataclass
class Submitted:
    tracking_id: str
    process_instance_id: str


async def submit(
    api: EngineClient,
    deps: Deps,
    *,
    category: str = "JALAN",
    kecamatan: str = "61.71.01",
    kelurahan: str = "61.71.01.1002",
    anonymous: bool = False,
    report_type: str = "pengaduan",
) -> Submitted:
    """What the API does on submission: commit the report, then start its process instance (business key)."""
    now = datetime.now(UTC)
    with session_scope(deps.db) as session:
        # The session's database is shared: unit tests may hold a reporter with the same phone number.
        same = or_(Reporter.email == REPORTER["email"], Reporter.phone == REPORTER["phone"])
        reporter = session.scalar(select(Reporter).where(same).limit(1))
        if reporter is None:
            reporter = Reporter(**REPORTER, verified_at=now, created_at=now)
            session.add(reporter)
            session.flush()
        data = intake.ReportData(
            title="Jalan berlubang",
            description="Lubang besar di depan sekolah, membahayakan pengendara motor.",
            category=category,
            kecamatan=kecamatan,
            kelurahan=kelurahan,
            address="Jl. Tanjungpura No. 1",
            anonymous=anonymous,
            report_type=report_type,
        )
        report = intake.insert_report(session, data, channel="web", reporter_id=reporter.id, now=now)
        audit.record_received(session, report, photos=1, at=now)
        variables = reports.process_variables(report, photo_count=1)
    instance_id = await asyncio.to_thread(api.start, PROCESS_ID, business_key=report.tracking_id, variables=variables)
    with session_scope(deps.db) as session:
        reports.get_by_tracking_id(session, report.tracking_id).process_instance_id = instance_id
    return Submitted(report.tracking_id, instance_id)


def where_is(operaton: EngineClient, instance: Submitted) -> str:
    """Open activities and incidents of an instance, for failure messages."""
    active = [a.activity_id for a in operaton.activities(instance.process_instance_id) if not a.ended]
    incidents = [
        f"{i.activity_id}: {i.message}" for i in operaton.incidents(process_instance_id=instance.process_instance_id)
    ]
    return f"active: {active}, incidents: {incidents}"


async def open_task(operaton: EngineClient, instance: Submitted, element_id: str) -> Task:
    """The open user task of this element, as Tasklist lists it."""

    def probe() -> Task | None:
        tasks = operaton.tasks(process_instance_id=instance.process_instance_id, definition_key=element_id)
        return tasks[0] if tasks else None

    try:
        return await eventually(probe)
    except AssertionError as err:
        raise AssertionError(f"no open {element_id}; {where_is(operaton, instance)}") from err


async def complete_task(
    operaton: EngineClient,
    engine: LocalEngine,
    instance: Submitted,
    element_id: str,
    variables: dict[str, Any],
) -> Task:
    """A member of the task's first candidate group claims and completes it over REST (as Tasklist does)."""
    task = await open_task(operaton, instance, element_id)
    user = operaton.candidate_groups(task.id)[0]  # the local login of a group has the group's id
    with login(engine, user) as member:
        await asyncio.to_thread(member.claim, task.id, user)
        await asyncio.to_thread(member.complete_task, task.id, variables)
    return task


async def correlate(api: EngineClient, instance: Submitted, message: str, variables: dict[str, Any]) -> None:
    """What the outbox does with a reporter's reply."""
    delivered = await eventually(
        lambda: api.correlate(message, business_key=instance.tracking_id, variables=variables) or None
    )
    assert delivered


def timer_job(operaton: EngineClient, instance: Submitted, timer_id: str) -> Job | None:
    jobs = operaton.jobs(process_instance_id=instance.process_instance_id, activity_id=timer_id)
    return jobs[0] if jobs else None


async def fire_timer(operaton: EngineClient, instance: Submitted, timer_id: str) -> Job:
    """The engine clock cannot be moved from outside, so a test fires a timer through the job API; the job (with
    its due date) is returned for the test to check when it would have fired."""
    try:
        job = await eventually(lambda: timer_job(operaton, instance, timer_id))
    except AssertionError as err:
        raise AssertionError(f"no timer {timer_id}; {where_is(operaton, instance)}") from err
    for attempt in range(10):
        try:
            await asyncio.to_thread(operaton.execute_job, job.id)
            return job
        except EngineError as err:  # a worker completed a task of the same instance at that moment: run it again
            if "concurrently" not in str(err) or attempt == 9:
                raise
            await asyncio.sleep(0.2)
    return job


async def reached(operaton: EngineClient, instance: Submitted, element_id: str) -> None:
    """Wait until the instance has finished the given element (an end event, a task, a timer)."""

    def probe() -> bool:
        done = operaton.activities(instance.process_instance_id, activity_id=element_id)
        return any(a.ended for a in done)

    try:
        await eventually(probe)
    except AssertionError as err:
        raise AssertionError(f"{element_id} not reached; {where_is(operaton, instance)}") from err


def report_row(deps: Deps, instance: Submitted) -> Report:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        session.expunge(report)
        return report


def timeline(deps: Deps, instance: Submitted) -> list[ReportEvent]:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        # In the order they were recorded: without ORDER BY, PostgreSQL returns rows in no promised order.
        query = select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
        events = list(session.scalars(query))
        session.expunge_all()
        return events


async def status_becomes(deps: Deps, instance: Submitted, status: str) -> Report:
    return await eventually(lambda: ((r := report_row(deps, instance)).status == status and r) or None)


async def walk_to_the_end(
    api: EngineClient, operaton: EngineClient, engine: LocalEngine, instance: Submitted
) -> HistoricInstance:
    """A complaint worked by every role to its end, as the SOP's main path goes: verified, dispatched to PUPR,
    answered and completed with a proof photo, documented, accepted by the reporter. The finished instance's history."""
    steps: tuple[tuple[str, dict[str, Any]], ...] = (
        ("VerifyReportTask", {"verificationResult": "lengkap", "verificationNote": ""}),
        ("DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": "Segera"}),
        ("OpdResponseTask", {"opdDecision": "tanggapi", "responseText": "Tim akan menambal jalan."}),
        ("OpdCompletionTask", {"completionText": "Jalan sudah ditambal.", "proofPhotoUpload": proof_photo()}),
        ("DocumentCompletionTask", {"documented": True, "documentationNote": "OK"}),
    )
    for element_id, variables in steps:
        await complete_task(operaton, engine, instance, element_id, variables)
    await correlate(api, instance, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    return await eventually(
        lambda: (h := operaton.historic_instance(instance.process_instance_id)).state == "COMPLETED" and h
    )


def email_channel_to(port: int) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=port, sender="LAPOR! Pontianak <noreply@pontianak.go.id>")
