"""Make the application database and the engine a pair again after a restore: `python -m lapor.restore [--dry-run]`.

The two databases are dumped at different moments, so a restore is rarely a perfect pair. The command compares
every report with the engine's instances (business key = tracking id) and repairs what it can without a duplicate:

- a report without an instance is started again through the outbox, by business key (the dispatcher looks for an
  instance of that key before it starts one, so a second run or a running API never starts a second);
- an outbox start or message the engine has already applied is marked sent (the instance is adopted), and a
  message marked sent that the engine never got is due again (the API's dispatcher sends it);
- an instance ahead of its report (a status task the engine ran after the application's dump) gets the status
  events the workers wrote then, from the engine's history;
- an instance without a report (a report received after the application's dump) gets a stand-in report under its
  tracking id, built from the instance's variables, so it can be worked on and tracked; a person gets its content back;
- a report ahead of its instance (a step the engine lost) is set back to the engine's status; a person does the step
  again in Tasklist.

What needs a person is listed with the reason, and the exit code is 1. A second run finds nothing to do.
Run it with the API and the workers stopped and the engine started: a worker between two writes looks like a mismatch.
"""

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import structlog
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from lapor import audit, reports
from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.models import (
    CLOSED_STATUSES,
    EventKind,
    OutboxKind,
    OutboxMessage,
    Report,
    ReportEvent,
    ReportStatus,
)
from lapor.outbox import LAST_MESSAGE_VARIABLE, OutboxDispatcher, enqueue_start
from lapor.process import EngineClient, EngineError, ExternalTaskRun, HistoricInstance
from lapor.settings import ROOT, get_settings
from lapor.vocabulary import PROCESS_ID, Actor, Deadline, FormField, Topic

RESTORER = "python -m lapor.restore"  # who repaired, in the audit trail
RESTORE_TASK_PREFIX = "restore:"  # task_id of a status event the command wrote (the timeline's key of a step)
RUNNING = frozenset({"ACTIVE", "SUSPENDED"})
STAND_IN_TITLE = "Laporan dipulihkan dari mesin proses"
STAND_IN_TEXT = (
    "Isi laporan ini hilang saat pemulihan cadangan basis data: laporan diterima sesudah cadangan dibuat. "
    "Nomor pelacakan dan tahap prosesnya dipulihkan dari mesin proses; hubungi pelapor untuk isi dan fotonya."
)
STATUS_FROM_HISTORY = "Dicatat ulang dari riwayat mesin proses setelah pemulihan cadangan."
STATUS_SET_BACK = "Status dikembalikan ke tahap mesin proses setelah pemulihan cadangan; langkah sesudahnya diulang."
log = structlog.stdlib.get_logger(__name__)


class Kind(StrEnum):
    """The mismatches the command looks for, as the operator reads them."""

    NO_INSTANCE = "report without instance"
    NO_REPORT = "instance without report"
    INSTANCE_AHEAD = "instance ahead of report"
    REPORT_AHEAD = "report ahead of instance"
    APPLIED = "outbox row already applied"
    DUPLICATE = "more than one instance"
    DUE_DATES = "due dates differ"
    LOST_MESSAGE = "message the engine lost"


@dataclass(frozen=True)
class Finding:
    """One mismatch: what was (or would be, in a dry run) done, and why a person must act when one must."""

    tracking_id: str
    kind: Kind
    action: str
    for_person: str | None = None


@dataclass
class Outcome:
    """What a run looked at, what it repaired and what it leaves for a person."""

    applied: bool
    reports: int = 0
    instances: int = 0
    closed_without_instance: int = 0  # closed reports the engine has no record of: nothing to track
    findings: list[Finding] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<trackingId>: <error>": left as they were, run again

    @property
    def for_person(self) -> list[Finding]:
        return [f for f in self.findings if f.for_person]

    @property
    def needs_person(self) -> bool:
        return bool(self.for_person or self.failed)


# -- the model: which status each status task records ----------------------------------------------------------
_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
_CAMUNDA = "{" + _NS["camunda"] + "}"


@cache
def status_tasks(model: Path = ROOT / "bpmn" / "lapor-pengaduan.bpmn") -> dict[str, tuple[ReportStatus, Actor]]:
    """Element id -> (status, actor) of every service task that records a status (lapor-status, auto-complete)."""
    found: dict[str, tuple[ReportStatus, Actor]] = {}
    root = ElementTree.parse(model).getroot()  # noqa: S314 - the model shipped with the code, not input
    for task in root.iter("{" + _NS["bpmn"] + "}serviceTask"):
        topic = task.get(_CAMUNDA + "topic")
        props = {
            p.get("name"): p.get("value")
            for p in task.findall("bpmn:extensionElements/camunda:properties/camunda:property", _NS)
        }
        if topic == Topic.STATUS and props.get("status") and props.get("actor"):
            found[str(task.get("id"))] = (ReportStatus(str(props["status"])), Actor(str(props["actor"])))
        elif topic == Topic.AUTO_COMPLETE:
            found[str(task.get("id"))] = (ReportStatus.SELESAI, Actor.SISTEM)
    return found


# -- what the engine holds ----------------------------------------------------------------------------------------
@dataclass
class _Engine:
    instances: dict[str, list[HistoricInstance]]  # business key -> instances, oldest first
    runs: dict[str, list[ExternalTaskRun]]  # instance id -> status task runs, oldest first
    open_tasks: set[str]  # external tasks not completed yet: a worker may have written their event already
    opd_codes: dict[str, str]  # instance id -> the OPD it was dispatched to (the `opdCode` variable)
    due: dict[Deadline, dict[str, datetime]]  # the due date variables the timers read, per instance id

    def status_of(self, instance_id: str) -> ReportStatus:
        """The status the instance's last status task recorded; a new instance's is the first one."""
        runs = self.runs.get(instance_id)
        return status_tasks()[runs[-1].activity_id][0] if runs else ReportStatus.BELUM_TERVERIFIKASI


def _read_engine(engine: EngineClient) -> _Engine:
    # The open tasks before the runs: a task completed in between is among the runs, never in neither.
    open_tasks = {t.id for t in engine.external_tasks()}
    instances: dict[str, list[HistoricInstance]] = defaultdict(list)
    for instance in engine.historic_instances(PROCESS_ID):
        instances[str(instance.business_key)].append(instance)
    known = status_tasks()
    runs: dict[str, list[ExternalTaskRun]] = defaultdict(list)
    for topic in (Topic.STATUS, Topic.AUTO_COMPLETE):
        for run in engine.external_task_runs(PROCESS_ID, topic=topic):
            if run.process_instance_id and run.activity_id in known:
                runs[run.process_instance_id].append(run)
    for rows in runs.values():
        rows.sort(key=lambda r: r.timestamp or datetime.min.replace(tzinfo=UTC))
    opd_codes = {k: v for k, v in engine.historic_values(PROCESS_ID, FormField.OPD_CODE).items() if isinstance(v, str)}
    due: dict[Deadline, dict[str, datetime]] = {}
    for deadline in Deadline:
        if deadline.column is not None:
            values = engine.historic_values(PROCESS_ID, deadline.due_variable)
            due[deadline] = {k: v for k, v in values.items() if isinstance(v, datetime)}
    return _Engine(instances, runs, open_tasks, opd_codes, due)


# -- one report ------------------------------------------------------------------------------------------------
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


def _record_runs(
    session: Session, report: Report, runs: Iterable[ExternalTaskRun], held: _Engine, now: datetime
) -> None:
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


def _compare(session: Session, report: Report, held: _Engine, now: datetime, *, apply: bool) -> list[Finding]:
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


def _due_dates(report: Report, instance_id: str, held: _Engine, *, apply: bool) -> list[Finding]:
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


def _stand_in(session: Session, engine: EngineClient, instance: HistoricInstance, held: _Engine, now: datetime) -> None:
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


def _orphans(engine: EngineClient, db: Engine, held: _Engine, only: set[str] | None, outcome: Outcome) -> None:
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


def _delivered_messages(engine: EngineClient, db: Engine, only: set[str] | None, outcome: Outcome) -> None:
    """Unsent messages whose id the running instance already carries (`lastMessageId`): marked sent."""
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload, Report.tracking_id, Report.process_instance_id)
            .join(Report, Report.id == OutboxMessage.report_id)
            .where(OutboxMessage.kind == OutboxKind.PUBLISH_MESSAGE.value, OutboxMessage.sent_at.is_(None))
        ).all()
    for row_id, payload, tid, instance_id in rows:
        if instance_id is None or (only is not None and tid not in only):
            continue
        try:
            carried = engine.variables(instance_id).get(LAST_MESSAGE_VARIABLE)
        except EngineError:
            continue  # ended or unknown: the dispatcher tries it and reports it
        if carried != payload.get("message_id"):
            continue
        outcome.findings.append(Finding(tid, Kind.APPLIED, f"message {payload.get('name')} already delivered"))
        if outcome.applied:
            with session_scope(db) as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id)
                    .values(sent_at=datetime.now(UTC), in_doubt=False, last_error=None)
                )


def _lost_messages(engine: EngineClient, db: Engine, held: _Engine, only: set[str] | None, outcome: Outcome) -> None:
    """Messages marked sent that the engine's dump lacks: due again. The instance carries the id of the last message
    it received (`lastMessageId`); the report's later messages, sent since this instance started, never arrived."""
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.created_at, Report.tracking_id)
            .join(Report, Report.id == OutboxMessage.report_id)
            .where(OutboxMessage.kind == OutboxKind.PUBLISH_MESSAGE.value, OutboxMessage.sent_at.is_not(None))
            .order_by(OutboxMessage.id)
        ).all()
    sent: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    waiting: dict[str, str] = {}  # tracking id -> its running instance
    for row_id, payload, created_at, tid in rows:
        running = [i for i in held.instances.get(tid, []) if i.state in RUNNING]
        if (only is None or tid in only) and running and created_at >= (running[0].start_time or created_at):
            sent[tid].append((row_id, payload))
            waiting[tid] = running[0].id
    for tid, messages in sent.items():
        try:
            carried = engine.variables(waiting[tid]).get(LAST_MESSAGE_VARIABLE)
        except EngineError:
            continue  # ended meanwhile: nothing waits for a message
        ids = [payload.get("message_id") for _row_id, payload in messages]
        lost = messages[ids.index(carried) + 1 :] if carried in ids else messages if carried is None else []
        for row_id, payload in lost:
            outcome.findings.append(Finding(tid, Kind.LOST_MESSAGE, f"message {payload.get('name')} queued again"))
            if outcome.applied:
                with session_scope(db) as session:
                    session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row_id)
                        .values(
                            sent_at=None, attempts=0, in_doubt=False, last_error=None, next_attempt_at=datetime.now(UTC)
                        )
                    )


def _dispatch_starts(engine: EngineClient, db: Engine, tracking_ids: list[str], outcome: Outcome) -> None:
    """Send the start commands due again now, through the outbox's own dispatcher (it looks before it starts)."""
    dispatcher = OutboxDispatcher(engine, db, concurrency=4, batch_size=200)
    keys = [f"start:{tid}" for tid in tracking_ids]
    for _ in range(20):
        with session_scope(db) as session:
            waiting = session.scalar(
                select(OutboxMessage.id)
                .where(OutboxMessage.dedup_key.in_(keys), OutboxMessage.sent_at.is_(None))
                .limit(1)
            )
        if waiting is None:
            return
        if dispatcher.send_due() == 0:
            break
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.last_error).where(
                OutboxMessage.dedup_key.in_(keys), OutboxMessage.sent_at.is_(None)
            )
        ).all()
    outcome.failed += [f"{key.removeprefix('start:')}: not started yet ({error})" for key, error in rows]


def restore(*, engine: EngineClient, db: Engine, apply: bool = True, only: set[str] | None = None) -> Outcome:
    """Compare every report (or those of `only`) with the engine; repair unless a dry run."""
    outcome = Outcome(applied=apply)
    held = _read_engine(engine)
    outcome.instances = sum(len(v) for k, v in held.instances.items() if only is None or k in only)
    with session_scope(db) as session:
        query = select(Report.id).order_by(Report.id)
        if only is not None:
            query = query.where(Report.tracking_id.in_(sorted(only)))
        report_ids = list(session.scalars(query))
    restarted: list[str] = []
    for report_id in report_ids:
        outcome.reports += 1
        now = datetime.now(UTC)
        with session_scope(db) as session:
            report = session.get_one(Report, report_id)
            if not held.instances.get(report.tracking_id) and ReportStatus(report.status) in CLOSED_STATUSES:
                outcome.closed_without_instance += 1
            findings = _compare(session, report, held, now, apply=apply)
        outcome.findings += findings
        restarted += [f.tracking_id for f in findings if f.kind is Kind.NO_INSTANCE]
    _orphans(engine, db, held, only, outcome)
    _delivered_messages(engine, db, only, outcome)
    _lost_messages(engine, db, held, only, outcome)
    if apply and restarted:
        _dispatch_starts(engine, db, restarted, outcome)
    log.info(
        "restore.compared",
        applied=apply,
        reports=outcome.reports,
        instances=outcome.instances,
        findings=len(outcome.findings),
        for_person=len(outcome.for_person),
        failed=len(outcome.failed),
    )
    return outcome


def describe(outcome: Outcome) -> str:
    """The run as an operator reads it: one line per finding, then what is left for a person, then the totals."""
    verb = "repaired" if outcome.applied else "would repair (dry run)"
    lines = [f"{f.tracking_id}  {f.kind.value:<27} {f.action}" for f in outcome.findings]
    if outcome.for_person:
        lines.append("for a person:")
        lines += [f"  {f.tracking_id}  {f.kind.value}: {f.for_person}" for f in outcome.for_person]
    lines += [f"failed, run again: {item}" for item in outcome.failed]
    lines.append(
        f"{outcome.reports} reports, {outcome.instances} instances, {outcome.closed_without_instance} closed reports "
        f"the engine does not know; {len(outcome.findings)} {verb}, {len(outcome.for_person)} for a person"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.restore", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="show what would be repaired, change nothing")
    parser.add_argument("--tracking-id", action="append", help="look at this report only (repeatable)")
    args = parser.parse_args(argv)
    # The administrator's login: every report's history and starting any of them is beyond the service accounts.
    admin = EngineClient(settings.engine_url, user=settings.engine_admin_user, password=settings.engine_admin_password)
    only = set(args.tracking_id) if args.tracking_id else None
    try:
        with admin as engine:
            outcome = restore(engine=engine, db=default_engine(), apply=not args.dry_run, only=only)
    except EngineError as err:  # down, or the administrator's login refused; running again finishes the job
        log.error("restore.not_compared", error=str(err))
        return 1
    print(describe(outcome))
    return 1 if outcome.needs_person else 0


if __name__ == "__main__":
    sys.exit(main())
