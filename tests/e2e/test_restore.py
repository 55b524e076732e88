"""After a restore of dumps taken at different moments, `python -m lapor.restore` makes the pair whole on the real
engine: each kind of mismatch is made here on purpose, as the older dump of one side would leave it, then found,
repaired or listed for a person, and a second run finds nothing to do."""

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from engine import LocalEngine
from lapor import audit, intake, outbox, recompute, reports
from lapor.db import session_scope
from lapor.models import DeadlineStart, EventKind, OutboxMessage, Photo, Report, ReportEvent, ReportStatus
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from lapor.restore import STAND_IN_TITLE, Kind, Outcome, describe, restore
from lapor.restore.stand_in import STAND_IN_TEXT
from lapor.settings import ROOT, Settings
from lapor.uploads import path_of, upload_dir
from lapor.vocabulary import PROCESS_ID, Actor, Message
from tests.conftest import ADMIN, eventually
from tests.e2e.conftest import Submitted, complete_task, open_task, report_row, status_becomes, timeline
from workers.deps import Deps

pytestmark = pytest.mark.engine


def received(
    deps: Deps, *, status: ReportStatus | None = None, source: str | None = None, photos: int = 0
) -> Submitted:
    """A report as intake commits it: the row, its first audit entry and the start command in the outbox."""
    now = datetime.now(UTC)
    with session_scope(deps.db) as session:
        data = intake.ReportData(
            title="Lampu jalan mati",
            description="Lampu jalan di depan masjid mati sejak seminggu.",
            category="JALAN",
            kecamatan="61.71.01",
            kelurahan="61.71.01.1002",
            address="Jl. Tanjungpura No. 9",
        )
        report = intake.insert_report(session, data, channel="staff", reporter_id=None, now=now)
        if status is not None:
            report.status = status.value
        report.source = source
        for number in range(photos):  # rows only: what the deadline worker counts for the form
            sha256 = uuid.uuid4().hex * 2
            session.add(
                Photo(
                    report_id=report.id,
                    sha256=sha256,
                    content_type="image/jpeg",
                    size_bytes=3 + number,
                    kind="report",
                    created_at=now,
                )
            )
        audit.record_received(session, report, photos=photos, at=now)
        outbox.enqueue_start(session, report=report, variables=reports.process_variables(report), now=now)
        return Submitted(report.tracking_id, "")


async def dispatched(api: EngineClient, deps: Deps, report: Submitted) -> Submitted:
    """What the API's dispatcher does with the start command; the report with its instance."""
    await OutboxDispatcher(api, deps.db).run_once()
    instance_id = report_row(deps, report).process_instance_id
    assert instance_id is not None
    return Submitted(report.tracking_id, instance_id)


def restore_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m lapor.restore` as an operator runs it, with the administrator's engine login in its environment."""
    env = {
        f"LAPOR_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if isinstance(value, str | int | float | bool | Path)
    }
    # The audit trail's key of this test process, so the command's entries chain with the suite's.
    key = audit._process_key().decode()
    env.update({"PATH": os.environ.get("PATH", ""), "LAPOR_LOG_FORMAT": "json", "LAPOR_AUDIT_KEY": key})
    command = [sys.executable, "-m", "lapor.restore", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)


def instances_of(operaton: EngineClient, tracking_id: str) -> list[str]:
    return [i.id for i in operaton.historic_instances(PROCESS_ID, business_key=tracking_id)]


def start_row(deps: Deps, tracking_id: str) -> OutboxMessage:
    with session_scope(deps.db) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == f"start:{tracking_id}"))
        assert row is not None
        session.expunge(row)
        return row


def ours(outcome: Outcome, tracking_id: str) -> list[tuple[Kind, bool]]:
    """Our report's findings: kind, and whether a person must act."""
    return [(f.kind, f.for_person is not None) for f in outcome.findings if f.tracking_id == tracking_id]


async def repair(
    operaton: EngineClient, deps: Deps, *tracking_ids: str, apply: bool = True, data_dir: Path | None = None
) -> Outcome:
    """The command's work on these reports, off the event loop the session's workers run on."""
    only = set(tracking_ids)
    return await asyncio.to_thread(restore, engine=operaton, db=deps.db, apply=apply, only=only, data_dir=data_dir)


async def test_a_report_the_engine_lost_is_started_again_once_through_the_outbox(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    # The application's dump is newer: both reports were started after the engine's dump, which has no instance.
    fresh = received(worker_deps)
    verified = received(worker_deps, status=ReportStatus.TERVERIFIKASI)
    with session_scope(worker_deps.db) as session:
        for report, lost in ((fresh, "lost-instance-1"), (verified, "lost-instance-2")):
            row = reports.get_by_tracking_id(session, report.tracking_id)
            row.process_instance_id = lost
            session.execute(
                OutboxMessage.__table__.update()
                .where(OutboxMessage.dedup_key == f"start:{report.tracking_id}")
                .values(sent_at=datetime.now(UTC), attempts=1)
            )

    dry = await repair(operaton, worker_deps, fresh.tracking_id, verified.tracking_id, apply=False)
    assert ours(dry, fresh.tracking_id) == [(Kind.NO_INSTANCE, False)]
    assert ours(dry, verified.tracking_id) == [(Kind.NO_INSTANCE, True)]  # staff verify it again
    assert instances_of(operaton, fresh.tracking_id) == []  # a dry run starts nothing
    assert report_row(worker_deps, fresh).process_instance_id == "lost-instance-1"

    done = await repair(operaton, worker_deps, fresh.tracking_id, verified.tracking_id)
    assert not done.failed, done.failed
    for report in (fresh, verified):
        started = instances_of(operaton, report.tracking_id)
        assert len(started) == 1  # by business key, once
        assert report_row(worker_deps, report).process_instance_id == started[0]
        assert start_row(worker_deps, report.tracking_id).sent_at is not None
    assert "staff do the steps since verification again" in describe(done)
    # The new instance records its first status; the report follows its instance.
    await status_becomes(worker_deps, verified, ReportStatus.BELUM_TERVERIFIKASI.value)

    again = await repair(operaton, worker_deps, fresh.tracking_id, verified.tracking_id)
    assert again.findings == [] and not again.needs_person
    # Another dispatcher pass (the API's, after the restore) starts nothing more either.
    await OutboxDispatcher(lapor_process, worker_deps.db).run_once()
    assert [len(instances_of(operaton, r.tracking_id)) for r in (fresh, verified)] == [1, 1]
    with session_scope(worker_deps.db) as session:
        report = reports.get_by_tracking_id(session, verified.tracking_id)
        assert [line.actor for line in audit.trail(session, report) if line.action == "engine_action"] == [
            "python -m lapor.restore"
        ]


async def test_a_start_the_engine_already_applied_is_adopted_not_doubled(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    # The engine's dump is newer: it holds the instance, the application's dump a start still queued.
    report = received(worker_deps)
    with session_scope(worker_deps.db) as session:
        variables = reports.process_variables(reports.get_by_tracking_id(session, report.tracking_id))
    instance_id = lapor_process.start(PROCESS_ID, business_key=report.tracking_id, variables=variables)

    done = await repair(operaton, worker_deps, report.tracking_id)
    assert ours(done, report.tracking_id) == [(Kind.APPLIED, False)]
    assert report_row(worker_deps, report).process_instance_id == instance_id
    assert start_row(worker_deps, report.tracking_id).sent_at is not None
    await OutboxDispatcher(lapor_process, worker_deps.db).run_once()
    assert instances_of(operaton, report.tracking_id) == [instance_id]
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


async def test_an_instance_without_a_report_gets_a_stand_in_report_and_a_person_is_told(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    # The engine's dump is newer: the report came in after the application's dump, only its instance is left.
    tracking_id = f"PTK-{datetime.now(UTC):%y%m}-{uuid.uuid4().hex[:6].upper()}"
    lost = Report(
        tracking_id=tracking_id,
        channel="sms1708",
        report_type="aspirasi",
        category="JALAN",
        kecamatan_code="61.71.01",
        kelurahan_code="61.71.01.1002",
        anonymous=False,
        confidential=True,
    )
    instance_id = lapor_process.start(PROCESS_ID, business_key=tracking_id, variables=reports.process_variables(lost))

    done = await repair(operaton, worker_deps, tracking_id)
    assert ours(done, tracking_id) == [(Kind.NO_REPORT, True)]
    assert "the SMS gateway's log holds the message and the sender's number" in describe(done)
    with session_scope(worker_deps.db) as session:
        stand_in = reports.get_by_tracking_id(session, tracking_id)
        assert (stand_in.title, stand_in.channel, stand_in.report_type) == (STAND_IN_TITLE, "sms1708", "aspirasi")
        assert (stand_in.kelurahan_code, stand_in.confidential, stand_in.reporter_id) == ("61.71.01.1002", True, None)
        assert stand_in.process_instance_id == instance_id
        assert audit.verify(session, tracking_id=tracking_id).ok
    # The workers' status task, which found no report, is tried again now and finds it: the report is tracked.
    for task in operaton.external_tasks(process_instance_id=instance_id):
        operaton.unlock_external_task(task.id)
    await status_becomes(worker_deps, Submitted(tracking_id, instance_id), ReportStatus.BELUM_TERVERIFIKASI.value)
    assert ours(await repair(operaton, worker_deps, tracking_id), tracking_id) == []
    assert instances_of(operaton, tracking_id) == [instance_id]


def deadline_starts(deps: Deps, tracking_id: str) -> dict[str, tuple[datetime, int, bool, int | None]]:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        rows = session.scalars(select(DeadlineStart).where(DeadlineStart.report_id == report.id))
        return {r.deadline: (r.started_at, r.days, r.working_days, r.reminder_days_before) for r in rows}


def without_start(operaton: EngineClient, deps: Deps, *reports_: Submitted) -> list[str]:
    """What `python -m lapor.recompute --dry-run` skips of these reports for want of a recorded start."""
    outcome = recompute.recompute(engine=operaton, db=deps.db, calendar=deps.calendar, apply=False)
    ids = {r.tracking_id for r in reports_}
    return sorted(item for item in outcome.without_start if item.split()[0] in ids)


async def test_deadline_starts_lost_or_behind_are_rebuilt_from_the_engine_for_recompute(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    # `lost` has a photo whose file the files' copy lacks: listed on every run until a person puts it back.
    lost = await dispatched(lapor_process, worker_deps, received(worker_deps, photos=1))
    behind = await dispatched(lapor_process, worker_deps, received(worker_deps))
    for report in (lost, behind):
        await open_task(operaton, report, "VerifyReportTask")  # its verification deadline computed and recorded
    recorded = {r.tracking_id: deadline_starts(worker_deps, r.tracking_id) for r in (lost, behind)}
    assert all("verification" in starts for starts in recorded.values()), recorded
    # The application's dump is older: one report's starts were not written yet, the other's are an earlier round.
    with session_scope(worker_deps.db) as session:
        for report, shift in ((lost, None), (behind, timedelta(days=-4))):
            row = reports.get_by_tracking_id(session, report.tracking_id)
            starts = session.scalars(select(DeadlineStart).where(DeadlineStart.report_id == row.id))
            for start in starts:
                if shift is None:
                    session.delete(start)
                else:
                    start.started_at += shift
    assert await asyncio.to_thread(without_start, operaton, worker_deps, lost, behind) == [
        f"{lost.tracking_id} verification"
    ]

    dry = await repair(operaton, worker_deps, lost.tracking_id, behind.tracking_id, apply=False)
    assert [ours(dry, r.tracking_id) for r in (lost, behind)] == [[(Kind.DEADLINE_STARTS, False)]] * 2
    assert deadline_starts(worker_deps, lost.tracking_id) == {}  # a dry run writes nothing
    settings: Settings = worker_deps.settings.model_copy(
        update={"engine_url": operaton.base_url, "engine_admin_user": ADMIN[0], "engine_admin_password": ADMIN[1]}
    )
    ids = ("--tracking-id", lost.tracking_id, "--tracking-id", behind.tracking_id)
    done = await asyncio.to_thread(restore_command, settings, *ids)
    print(done.stdout)  # what docs/operations.md shows
    assert done.returncode == 1, done.stderr  # the photo is for a person
    for report in (lost, behind):
        assert f"{report.tracking_id}  deadline starts differ      rebuilt from the engine: verification" in done.stdout
    assert f"{lost.tracking_id}  photo file missing" in done.stdout
    # Exactly what the deadline worker had written: the engine's clock when the task ran, the model's length.
    assert {r.tracking_id: deadline_starts(worker_deps, r.tracking_id) for r in (lost, behind)} == recorded
    assert await asyncio.to_thread(without_start, operaton, worker_deps, lost, behind) == []  # recompute works again
    data_dir = worker_deps.settings.data_dir
    again = await repair(operaton, worker_deps, lost.tracking_id, behind.tracking_id, data_dir=data_dir)
    assert [(f.tracking_id, f.kind) for f in again.findings] == [(lost.tracking_id, Kind.PHOTO_MISSING)]
    with session_scope(worker_deps.db) as session:  # a person copies the file back from a newer copy
        photo = session.scalars(select(Photo).join(Report).where(Report.tracking_id == lost.tracking_id)).one()
        path = path_of(upload_dir(data_dir), photo.sha256, photo.content_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"jpg")
    last = await repair(operaton, worker_deps, lost.tracking_id, behind.tracking_id, data_dir=data_dir)
    assert last.findings == [] and not last.needs_person


async def test_a_stand_in_holds_every_fact_the_engine_has_and_says_what_it_lacks(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    # A front-desk report with two photos, verified and dispatched to PUPR; the application's dump predates it all.
    report = await dispatched(lapor_process, worker_deps, received(worker_deps, source="tatap_muka", photos=2))
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    await open_task(operaton, report, "OpdResponseTask")
    await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI.value)
    before = report_row(worker_deps, report)
    starts = deadline_starts(worker_deps, report.tracking_id)
    with session_scope(worker_deps.db) as session:  # its row is not in the restored dump (kept aside, renamed)
        row = reports.get_by_tracking_id(session, report.tracking_id)
        row.tracking_id, row.process_instance_id = f"X{uuid.uuid4().hex[:12]}", None
        session.execute(delete(ReportEvent).where(ReportEvent.report_id == row.id))  # the timeline keys the tasks
    instance = operaton.historic_instance(report.process_instance_id)

    done = await repair(operaton, worker_deps, report.tracking_id)
    print(describe(done))  # what docs/operations.md shows
    assert ours(done, report.tracking_id) == [(Kind.NO_REPORT, True)]
    [finding] = done.for_person
    assert finding.for_person == (
        "received after the application's dump: its text, address and reporter and 2 photos are lost; "
        "the front desk's register or the original (letter, message, notes) holds it"
    )
    after = report_row(worker_deps, report)
    assert (after.title, after.description, after.reporter_id, after.address) == (
        STAND_IN_TITLE,
        STAND_IN_TEXT,
        None,
        "",
    )
    facts = ("channel", "source", "report_type", "category", "kecamatan_code", "kelurahan_code", "anonymous")
    facts += ("confidential", "status", "opd_code", "verification_due_at", "disposition_due_at", "response_due_at")
    assert {f: getattr(after, f) for f in facts} == {f: getattr(before, f) for f in facts}
    assert (after.status, after.opd_code, after.source) == ("TERVERIFIKASI", "PUPR", "tatap_muka")
    assert after.created_at == instance.start_time and after.closed_at is None
    assert deadline_starts(worker_deps, report.tracking_id) == starts  # recompute can move its deadlines
    assert [e.status for e in timeline(worker_deps, report)] == ["BELUM_TERVERIFIKASI", "TERVERIFIKASI"]
    with session_scope(worker_deps.db) as session:
        assert audit.verify(session, tracking_id=report.tracking_id).ok
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


async def test_an_instance_ahead_of_its_report_gets_the_status_events_from_the_engines_history(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    report = await dispatched(lapor_process, worker_deps, received(worker_deps))
    await open_task(operaton, report, "VerifyReportTask")  # its first status recorded on both sides
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI.value)
    with session_scope(worker_deps.db) as session:  # the application's dump is older: before the verification
        row = reports.get_by_tracking_id(session, report.tracking_id)
        verified = session.scalar(
            select(ReportEvent).where(ReportEvent.report_id == row.id, ReportEvent.status == "TERVERIFIKASI")
        )
        assert verified is not None
        task_id = verified.task_id
        session.execute(delete(ReportEvent).where(ReportEvent.id == verified.id))
        row.status, row.opd_code = ReportStatus.BELUM_TERVERIFIKASI.value, None
        response_due = row.response_due_at
        assert response_due is not None
        row.response_due_at = None  # the OPD's deadline was computed after that dump too

    done = await repair(operaton, worker_deps, report.tracking_id)
    assert ours(done, report.tracking_id) == [(Kind.INSTANCE_AHEAD, False), (Kind.DUE_DATES, False)]
    after = report_row(worker_deps, report)
    assert (after.status, after.opd_code) == (ReportStatus.TERVERIFIKASI.value, "PUPR")
    assert after.response_due_at == response_due
    with session_scope(worker_deps.db) as session:
        again = session.scalar(select(ReportEvent).where(ReportEvent.task_id == task_id))
        assert again is not None and (again.status, again.actor) == ("TERVERIFIKASI", Actor.ADMIN_PENGADUAN.value)
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


def verified_only_in_the_application(worker_deps: Deps, report: Submitted) -> None:
    """The report's verification recorded in the application only, as if the engine's dump had lost it."""
    with session_scope(worker_deps.db) as session:
        row = reports.get_by_tracking_id(session, report.tracking_id)
        reports.record_event(
            session,
            report=row,
            kind=EventKind.STATUS,
            status=ReportStatus.TERVERIFIKASI,
            actor=Actor.ADMIN_PENGADUAN,
            at=datetime.now(UTC),
            task_id=f"task-the-engine-lost-{uuid.uuid4().hex}",
        )


async def test_a_report_ahead_of_its_instance_is_set_back_and_listed_for_a_person(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await dispatched(lapor_process, worker_deps, received(worker_deps))
    await open_task(operaton, report, "VerifyReportTask")  # its first status recorded on both sides
    verified_only_in_the_application(worker_deps, report)  # the engine's dump is older: the verification is lost there

    dry = await repair(operaton, worker_deps, report.tracking_id, apply=False)
    assert ours(dry, report.tracking_id) == [(Kind.REPORT_AHEAD, True)]
    assert report_row(worker_deps, report).status == ReportStatus.TERVERIFIKASI.value
    done = await repair(operaton, worker_deps, report.tracking_id)
    assert ours(done, report.tracking_id) == [(Kind.REPORT_AHEAD, True)] and done.needs_person
    assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI.value
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


async def test_a_message_the_engine_already_has_is_marked_sent(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    report = await dispatched(lapor_process, worker_deps, received(worker_deps))
    await complete_task(
        operaton, engine, report, "VerifyReportTask", {"verificationResult": "tidak_lengkap", "verificationNote": "?"}
    )
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN.value)
    message_id = uuid.uuid4().hex
    # The engine's dump is newer: the supplement reached the instance, the application's dump still queues it.
    delivered = await eventually(
        lambda: (
            lapor_process.correlate(
                Message.SUPPLEMENTED,
                business_key=report.tracking_id,
                variables={outbox.LAST_MESSAGE_VARIABLE: message_id},
            )
            or None
        )
    )
    assert delivered
    await open_task(operaton, report, "VerifyReportTask")  # verified again: the workers are done with it
    with session_scope(worker_deps.db) as session:
        row = reports.get_by_tracking_id(session, report.tracking_id)
        queued = outbox.enqueue_message(
            session, report=row, name=Message.SUPPLEMENTED, message_id=message_id, variables={}, now=datetime.now(UTC)
        )
        assert queued is not None
        queued_id, report_id = queued.id, row.id

    done = await repair(operaton, worker_deps, report.tracking_id)
    assert ours(done, report.tracking_id) == [(Kind.APPLIED, False)]
    with session_scope(worker_deps.db) as session:
        assert session.get_one(OutboxMessage, queued_id).sent_at is not None
        pending = select(func.count()).where(OutboxMessage.report_id == report_id, OutboxMessage.sent_at.is_(None))
        assert session.scalar(pending) == 0
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


async def test_the_command_lists_what_is_left_for_a_person_and_exits_1(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await dispatched(lapor_process, worker_deps, received(worker_deps))
    await open_task(operaton, report, "VerifyReportTask")  # its first status recorded on both sides
    verified_only_in_the_application(worker_deps, report)
    settings: Settings = worker_deps.settings.model_copy(
        update={"engine_url": operaton.base_url, "engine_admin_user": ADMIN[0], "engine_admin_password": ADMIN[1]}
    )
    dry = restore_command(settings, "--dry-run", "--tracking-id", report.tracking_id)
    assert dry.returncode == 1, dry.stderr
    assert "would repair (dry run)" in dry.stdout and "report ahead of instance" in dry.stdout
    print(dry.stdout)  # what docs/operations.md shows
    done = restore_command(settings, "--tracking-id", report.tracking_id)
    assert done.returncode == 1, done.stderr
    print(done.stdout)  # what docs/operations.md shows
    assert f"{report.tracking_id}  report ahead of instance" in done.stdout and "for a person:" in done.stdout
    second = restore_command(settings, "--tracking-id", report.tracking_id)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("0 repaired, 0 for a person"), second.stdout


async def test_a_message_the_engine_lost_is_queued_again_and_delivered_once(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    report = await dispatched(lapor_process, worker_deps, received(worker_deps))
    await complete_task(
        operaton, engine, report, "VerifyReportTask", {"verificationResult": "tidak_lengkap", "verificationNote": "?"}
    )
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN.value)
    await eventually(lambda: waiting_for_supplement(operaton, report))
    # The application's dump is newer: the supplement was sent after the engine's dump, which still waits for it.
    with session_scope(worker_deps.db) as session:
        row = reports.get_by_tracking_id(session, report.tracking_id)
        queued = outbox.enqueue_message(
            session,
            report=row,
            name=Message.SUPPLEMENTED,
            message_id=uuid.uuid4().hex,
            variables={},
            now=datetime.now(UTC),
        )
        assert queued is not None
        queued.sent_at, queued.attempts = datetime.now(UTC), 1
        queued_id = queued.id

    done = await repair(operaton, worker_deps, report.tracking_id)
    assert ours(done, report.tracking_id) == [(Kind.LOST_MESSAGE, False)]
    with session_scope(worker_deps.db) as session:
        assert session.get_one(OutboxMessage, queued_id).sent_at is None  # due again
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []
    # The API's dispatcher sends it: the report goes back to verification, once.
    await OutboxDispatcher(lapor_process, worker_deps.db).run_once()
    await open_task(operaton, report, "VerifyReportTask")
    with session_scope(worker_deps.db) as session:
        assert session.get_one(OutboxMessage, queued_id).sent_at is not None
    assert ours(await repair(operaton, worker_deps, report.tracking_id), report.tracking_id) == []


def waiting_for_supplement(operaton: EngineClient, report: Submitted) -> bool:
    return any(
        not a.ended for a in operaton.activities(report.process_instance_id, activity_id="WaitForSupplementTask")
    )
