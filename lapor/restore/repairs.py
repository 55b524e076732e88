"""One report against the engine: found, and repaired unless a dry run."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor import audit, reports
from lapor.models import CLOSED_STATUSES, EventKind, OutboxMessage, Report, ReportEvent, ReportStatus
from lapor.outbox import enqueue_start
from lapor.process import ExternalTaskRun
from lapor.restore import deadline_rows
from lapor.restore.findings import Finding, Kind
from lapor.restore.held import RUNNING, Held, status_tasks
from lapor.vocabulary import Actor

RESTORER = "python -m lapor.restore"  # who repaired, in the audit trail
RESTORE_TASK_PREFIX = "restore:"  # task_id of a status event the command wrote (the timeline's key of a step)
STATUS_FROM_HISTORY = "Dicatat ulang dari riwayat mesin proses setelah pemulihan cadangan."
STATUS_SET_BACK = "Status dikembalikan ke tahap mesin proses setelah pemulihan cadangan; langkah sesudahnya diulang."


def _status_events(session: Session, report: Report) -> list[ReportEvent]:
    return list(
        session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.STATUS.value)
            .order_by(ReportEvent.id)
        )
    )


def _start_row(session: Session, report: Report) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == f"start:{report.tracking_id}"))


def record_runs(session: Session, report: Report, runs: Iterable[ExternalTaskRun], held: Held, now: datetime) -> None:
    """The status events the workers wrote for these runs, at the engine's time and under the engine's task id."""
    for run in runs:
        status, actor = status_tasks()[run.activity_id]
        if status is ReportStatus.TERVERIFIKASI and run.process_instance_id in held.opd_codes:
            report.opd_code = held.opd_codes[run.process_instance_id]  # as the status worker stores the disposition
        reports.record_event(
            session,
            report=report,
            kind=EventKind.STATUS,
            status=status,
            actor=actor,
            at=run.timestamp or now,
            task_id=run.external_task_id,
            detail=STATUS_FROM_HISTORY,
            recorded_by=RESTORER,
        )


def _restart(session: Session, report: Report, now: datetime, *, apply: bool) -> Finding:
    """A report the engine does not know: its start command is due again (or written, for a report without one)."""
    row = _start_row(session, report)
    was = ReportStatus(report.status)
    if apply:
        report.process_instance_id = None
        if row is None:
            variables = reports.process_variables(report, photo_count=reports.photo_count(session, report))
            enqueue_start(session, report=report, variables=variables, now=now)
        else:
            row.sent_at, row.attempts, row.in_doubt, row.last_error, row.next_attempt_at = None, 0, False, None, now
        audit.record(
            session,
            report,
            action=audit.AuditAction.ENGINE_ACTION,
            actor_kind=audit.AuditActor.LAYANAN,
            actor=RESTORER,
            at=now,
            detail={"text": "Proses laporan dimulai lagi setelah pemulihan cadangan (mesin proses tidak mengenalnya)"},
        )
    action = "started again through the outbox, at verification"
    if was is ReportStatus.BELUM_TERVERIFIKASI:
        return Finding(report.tracking_id, Kind.NO_INSTANCE, action)
    reason = f"it was {was.value}: staff do the steps since verification again in Tasklist"
    return Finding(report.tracking_id, Kind.NO_INSTANCE, action, reason)


def compare(session: Session, report: Report, held: Held, now: datetime, *, apply: bool) -> list[Finding]:
    """One report against the engine; the repairs written in the caller's transaction unless a dry run."""
    tid = report.tracking_id
    instances = held.instances.get(tid, [])
    if not instances:
        if ReportStatus(report.status) in CLOSED_STATUSES:
            return []
        return [_restart(session, report, now, apply=apply)]
    findings: list[Finding] = []
    if len(instances) > 1:
        ids = ", ".join(i.id for i in instances)
        reason = "cancel in Cockpit the instance Tasklist should not show"
        findings.append(Finding(tid, Kind.DUPLICATE, f"instances {ids}", reason))
    running = [i for i in instances if i.state in RUNNING]
    instance = running[0] if running else instances[-1]
    row = _start_row(session, report)
    if report.process_instance_id != instance.id or (row is not None and row.sent_at is None):
        findings.append(Finding(tid, Kind.APPLIED, f"start already applied: instance {instance.id} adopted"))
        if apply:
            report.process_instance_id = instance.id
            if row is not None and row.sent_at is None:
                row.sent_at, row.in_doubt, row.last_error = now, False, None
    events = _status_events(session, report)
    recorded = {e.task_id for e in events}
    runs = held.runs.get(instance.id, [])
    missing = [r for r in runs if r.external_task_id not in recorded]
    if missing:
        names = ", ".join(status_tasks()[r.activity_id][0].value for r in missing)
        findings.append(Finding(tid, Kind.INSTANCE_AHEAD, f"recorded {names} from the engine's history"))
        if apply:
            record_runs(session, report, missing, held, now)
    findings += due_dates(report, instance.id, held, apply=apply)
    if instance.state in RUNNING:  # lapor.recompute moves the deadlines of running instances only
        findings += deadline_rows.rebuild(session, report, instance.id, held, apply=apply)
    engine_status = held.status_of(instance.id)
    ran = {r.external_task_id for r in runs}
    started = instance.start_time or datetime.min.replace(tzinfo=UTC)
    lost = [
        e
        for e in events
        if e.task_id is not None
        and not e.task_id.startswith(RESTORE_TASK_PREFIX)
        and e.task_id not in ran
        # written by a worker whose completion the engine's dump missed: the task runs again, the event stays
        and e.task_id not in held.open_tasks
        and e.occurred_at >= started
    ]
    status_after = engine_status if missing and missing[-1] is runs[-1] else ReportStatus(report.status)
    if lost and status_after is not engine_status:
        action = f"set back from {status_after.value} to {engine_status.value}"
        reason = f"the engine lost the steps after {engine_status.value}: staff do them again in Tasklist"
        findings.append(Finding(tid, Kind.REPORT_AHEAD, action, reason))
        if apply:
            reports.record_event(
                session,
                report=report,
                kind=EventKind.STATUS,
                status=engine_status,
                actor=Actor.SISTEM,
                at=now,
                task_id=f"{RESTORE_TASK_PREFIX}{instance.id}:{len(events)}",
                detail=STATUS_SET_BACK,
                recorded_by=RESTORER,
            )
            if engine_status not in CLOSED_STATUSES:
                report.closed_at = None
    return findings


def due_dates(report: Report, instance_id: str, held: Held, *, apply: bool) -> list[Finding]:
    """The due dates tracking shows, as the engine's timers have them (the deadline worker writes both)."""
    moved: list[str] = []
    for deadline, values in held.due.items():
        engine_due = values.get(instance_id)
        column = str(deadline.column)
        shown: datetime | None = getattr(report, column)
        if engine_due is None or (shown is not None and abs((shown - engine_due).total_seconds()) < 0.001):
            continue
        moved.append(column)
        if apply:
            setattr(report, column, engine_due)
    if not moved:
        return []
    return [Finding(report.tracking_id, Kind.DUE_DATES, "set from the engine: " + ", ".join(moved))]
