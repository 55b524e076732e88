"""One report against the engine, and the instances without a report: found, and repaired unless a dry run."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lapor import audit, reports
from lapor.db import session_scope
from lapor.models import CLOSED_STATUSES, EventKind, OutboxMessage, Report, ReportEvent, ReportStatus
from lapor.outbox import enqueue_start
from lapor.process import EngineClient, EngineError, ExternalTaskRun, HistoricInstance
from lapor.restore.findings import Finding, Kind, Outcome
from lapor.restore.held import RUNNING, Held, status_tasks
from lapor.vocabulary import Actor

RESTORER = "python -m lapor.restore"  # who repaired, in the audit trail
RESTORE_TASK_PREFIX = "restore:"  # task_id of a status event the command wrote (the timeline's key of a step)
STAND_IN_TITLE = "Laporan dipulihkan dari mesin proses"
STAND_IN_TEXT = (
    "Isi laporan ini hilang saat pemulihan cadangan basis data: laporan diterima sesudah cadangan dibuat. "
    "Nomor pelacakan dan tahap prosesnya dipulihkan dari mesin proses; hubungi pelapor untuk isi dan fotonya."
)
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


def _record_runs(session: Session, report: Report, runs: Iterable[ExternalTaskRun], held: Held, now: datetime) -> None:
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
            _record_runs(session, report, missing, held, now)
    findings += _due_dates(report, instance.id, held, apply=apply)
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


def _due_dates(report: Report, instance_id: str, held: Held, *, apply: bool) -> list[Finding]:
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


def _stand_in(session: Session, engine: EngineClient, instance: HistoricInstance, held: Held, now: datetime) -> None:
    """A report under the instance's tracking id from its variables (codes and flags, never personal data)."""
    variables = engine.historic_variables(instance.id)

    def text(name: str, default: str = "") -> str:
        value = variables.get(name)
        return default if value is None else str(value)

    report = Report(
        tracking_id=str(instance.business_key),
        reporter_id=None,
        channel=text("channel", "staff"),
        report_type=text("reportType", "pengaduan"),
        title=STAND_IN_TITLE,
        description=STAND_IN_TEXT,
        category=text("category"),
        kecamatan_code=text("kecamatanCode"),
        kelurahan_code=text("kelurahanCode"),
        address="",
        anonymous=bool(variables.get("anonymous")),
        confidential=bool(variables.get("confidential")),
        status=ReportStatus.BELUM_TERVERIFIKASI.value,
        process_instance_id=instance.id,
        created_at=instance.start_time or now,
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        report,
        action=audit.AuditAction.ENGINE_ACTION,
        actor_kind=audit.AuditActor.LAYANAN,
        actor=RESTORER,
        at=now,
        detail={"instance": instance.id, "text": "Laporan dipulihkan dari mesin proses setelah pemulihan cadangan"},
    )
    _record_runs(session, report, held.runs.get(instance.id, []), held, now)
    _due_dates(report, instance.id, held, apply=True)


def orphans(engine: EngineClient, db: Engine, held: Held, only: set[str] | None, outcome: Outcome) -> None:
    """Instances whose tracking id no report has."""
    with session_scope(db) as session:
        known = set(session.scalars(select(Report.tracking_id)))
    for key, instances in held.instances.items():
        if key in known or (only is not None and key not in only):
            continue
        instance = instances[0]
        if instance.business_key is None:
            reason = "an instance without a tracking id: look at it in Cockpit"
            outcome.findings.append(Finding("-", Kind.NO_REPORT, f"instance {instance.id}", reason))
            continue
        action = f"stand-in report created for instance {instance.id}"
        reason = "received after the application's dump: its text, photos and reporter are lost, ask the reporter"
        outcome.findings.append(Finding(key, Kind.NO_REPORT, action, reason))
        if outcome.applied:
            try:
                with session_scope(db) as session:
                    _stand_in(session, engine, instance, held, datetime.now(UTC))
            except EngineError as err:
                outcome.failed.append(f"{key}: {err}")
