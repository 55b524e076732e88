"""Move running deadlines after the working-day calendar changed: `python -m lapor.recompute [--dry-run]`.

Every deadline the deadline worker computed is recorded with its start on the engine's clock and its SOP length
(`deadline_starts`). For each running report, every deadline that is still live (a pending timer or an open user
task reads it) is computed again from that start with today's calendar, and whatever differs is moved: the process
variables `<x>DueAt` / `<x>ReminderAt`, the timer jobs, the user tasks' due dates in Tasklist and the report's
column that tracking shows. Nothing differs on a second run, so nothing moves.
"""

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lapor import audit
from lapor.db import default_engine, session_scope
from lapor.deadlines import Sla, compute_sla, default_calendar
from lapor.logging import configure_logging
from lapor.models import DeadlineStart, Report
from lapor.notifications.templates import format_due_date
from lapor.process import EngineClient, EngineError, NotFound, Task, TimerJob
from lapor.settings import get_settings
from lapor.vocabulary import PROCESS_ID, Deadline
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar

_Live = TypeVar("_Live", TimerJob, Task)  # what a running report's live deadline is held by
RECOMPUTER = "python -m lapor.recompute"  # who moved the deadlines, in the audit trail
log = structlog.stdlib.get_logger(__name__)

# The timers of bpmn/lapor-pengaduan.bpmn and the Date variable each one's `timeDate` reads.
TIMER_VARIABLES: dict[str, str] = {
    "VerificationReminderTimer": "verificationReminderAt",
    "VerificationDeadlineTimer": "verificationDueAt",
    "SupplementDeadlineTimer": "supplementDueAt",
    "DispositionReminderTimer": "dispositionReminderAt",
    "DispositionDeadlineTimer": "dispositionDueAt",
    "ResponseReminderTimer": "responseReminderAt",
    "ResponseDeadlineTimer": "responseDueAt",
    "CompletionReminderTimer": "completionReminderAt",
    "CompletionDeadlineTimer": "completionDueAt",
    "DocumentationReminderTimer": "documentationReminderAt",
    "DocumentationDeadlineTimer": "documentationDueAt",
    "ConfirmationDeadlineTimer": "confirmationDueAt",
}
# The user tasks whose `camunda:dueDate` reads a due variable.
TASK_DUE_VARIABLES: dict[str, str] = {
    "VerifyReportTask": "verificationDueAt",
    "DispatchReportTask": "dispositionDueAt",
    "OpdResponseTask": "responseDueAt",
    "OpdCompletionTask": "completionDueAt",
    "DocumentCompletionTask": "documentationDueAt",
}
_DEADLINE_OF_VARIABLE: dict[str, Deadline] = {
    name: deadline
    for deadline in Deadline
    for name in (deadline.due_variable, deadline.reminder_variable)
    if name is not None
}


@dataclass(frozen=True)
class Move:
    """One thing that moved (or would move, in a dry run)."""

    tracking_id: str
    deadline: Deadline
    target: str  # "variable", "timer", "task" or "tracking"
    name: str  # the variable, the timer's or task's element id, or the report column
    before: datetime | None
    after: datetime


@dataclass
class Outcome:
    """What a run looked at and what it moved."""

    applied: bool
    reports: int = 0  # running reports looked at
    moves: list[Move] = field(default_factory=list)
    without_start: list[str] = field(default_factory=list)  # "<trackingId> <deadline>": no recorded start (pre-0004)
    failed: list[str] = field(default_factory=list)  # "<trackingId>: <error>": left as they were, run again

    @property
    def moved_reports(self) -> int:
        return len({move.tracking_id for move in self.moves})


def record_start(session: Session, *, report: Report, sla: Sla) -> None:
    """Remember where a report's deadline started and its length; a new round replaces the previous start."""
    row = session.scalar(
        select(DeadlineStart).where(DeadlineStart.report_id == report.id, DeadlineStart.deadline == sla.deadline.code)
    )
    if row is None:
        row = DeadlineStart(report_id=report.id, deadline=sla.deadline.code)
        session.add(row)
    row.started_at = sla.started_at
    row.days = sla.days
    row.working_days = sla.working_days
    row.reminder_days_before = sla.reminder_days_before


def _same_moment(a: datetime | None, b: datetime) -> bool:
    # The engine keeps milliseconds.
    return a is not None and abs((a - b).total_seconds()) < 0.001


def _by_instance(rows: Sequence[_Live]) -> dict[str, list[_Live]]:
    grouped: dict[str, list[_Live]] = defaultdict(list)
    for row in rows:
        grouped[str(row.process_instance_id)].append(row)
    return grouped


@dataclass
class _Instance:
    """One running report as the engine holds it: its live timers and open tasks of a deadline."""

    id: str
    tracking_id: str
    jobs: list[TimerJob]  # each of an element in TIMER_VARIABLES
    tasks: list[Task]  # each of an element in TASK_DUE_VARIABLES

    def live_deadlines(self) -> list[Deadline]:
        names = [TIMER_VARIABLES[str(j.element_id)] for j in self.jobs]
        names += [TASK_DUE_VARIABLES[t.definition_key] for t in self.tasks]
        live = {_DEADLINE_OF_VARIABLE[name] for name in names}
        return [deadline for deadline in Deadline if deadline in live]


def _move_report(
    engine: EngineClient, session: Session, instance: _Instance, calendar: WorkingCalendar, *, apply: bool
) -> tuple[list[Move], list[str]]:
    """Moves of one report, and the deadlines it could not recompute for want of a recorded start."""
    report = session.scalar(select(Report).where(Report.tracking_id == instance.tracking_id))
    if report is None:
        return [], [f"{instance.tracking_id} (no report)"]
    starts = {
        row.deadline: row for row in session.scalars(select(DeadlineStart).where(DeadlineStart.report_id == report.id))
    }
    current = engine.variables(instance.id)
    moves: list[Move] = []
    without_start: list[str] = []
    variables: dict[str, datetime] = {}
    variables_text: dict[str, str] = {}
    for deadline in instance.live_deadlines():
        start = starts.get(deadline.code)
        if start is None:
            without_start.append(f"{instance.tracking_id} {deadline.code}")
            continue
        sla = Sla(deadline, start.started_at, start.days, start.working_days, start.reminder_days_before)
        wanted = compute_sla(sla, calendar)

        def moved(target: str, name: str, before: datetime | None, after: datetime, d: Deadline = deadline) -> None:
            moves.append(Move(instance.tracking_id, d, target, name, before, after))

        for name, value in wanted.items():
            held = current.get(name)
            before = held if isinstance(held, datetime) else None
            if not _same_moment(before, value):
                variables[name] = value
                moved("variable", name, before, value)
                if name == deadline.due_variable:  # the forms show the due date in words
                    variables_text[deadline.due_text_variable] = format_due_date(value)
        for job in instance.jobs:
            element = str(job.element_id)
            name = TIMER_VARIABLES[element]
            if name in wanted and not _same_moment(job.due_date, wanted[name]):
                if apply:
                    engine.set_job_due_date(job.id, wanted[name])
                moved("timer", element, job.due_date, wanted[name])
        for task in instance.tasks:
            name = TASK_DUE_VARIABLES[task.definition_key]
            if name in wanted and not _same_moment(task.due, wanted[name]):
                if apply:
                    engine.set_task_due_date(task.id, wanted[name])
                moved("task", task.definition_key, task.due, wanted[name])
        if deadline.column is not None:
            shown: datetime | None = getattr(report, deadline.column)
            if not _same_moment(shown, wanted[deadline.due_variable]):
                if apply:
                    setattr(report, deadline.column, wanted[deadline.due_variable])
                moved("tracking", deadline.column, shown, wanted[deadline.due_variable])
    if variables and apply:
        engine.set_variables(instance.id, {**variables, **variables_text})
    if moves and apply:
        audit.record(
            session,
            report,
            action=audit.AuditAction.DEADLINE_RECOMPUTED,
            actor_kind=audit.AuditActor.LAYANAN,
            actor=RECOMPUTER,
            at=datetime.now(UTC),
            detail={
                "moves": [
                    f"{m.deadline.code} {m.target} {m.name}: {_local(m.before)} -> {_local(m.after)}" for m in moves
                ],
                "text": "Kalender kerja berubah: "
                + ", ".join(sorted({m.deadline.label for m in moves}))
                + " dihitung ulang",
            },
        )
    return moves, without_start


def recompute(*, engine: EngineClient, db: Engine, calendar: WorkingCalendar, apply: bool = True) -> Outcome:
    """Recompute every live deadline of every running report with `calendar`; move what differs unless a dry run."""
    outcome = Outcome(applied=apply)
    jobs = _by_instance([j for j in engine.timer_jobs(PROCESS_ID) if j.element_id in TIMER_VARIABLES])
    tasks = _by_instance([t for t in engine.tasks(process_key=PROCESS_ID) if t.definition_key in TASK_DUE_VARIABLES])
    for running in engine.running_instances(PROCESS_ID):
        instance = _Instance(running.id, str(running.business_key), jobs[running.id], tasks[running.id])
        if not instance.jobs and not instance.tasks:
            continue  # nothing of it waits on a deadline now (a service step, a message without timer)
        outcome.reports += 1
        try:
            with session_scope(db) as session:
                moves, without_start = _move_report(engine, session, instance, calendar, apply=apply)
        except NotFound as err:  # a timer fired or a task was completed meanwhile: the next run sees the new state
            outcome.failed.append(f"{instance.tracking_id}: {err}")
            continue
        except EngineError as err:
            if err.status_code is None or err.status_code in (401, 403):
                raise  # the engine is down or refuses the login: no point in going on
            outcome.failed.append(f"{instance.tracking_id}: {err}")
            continue
        outcome.moves += moves
        outcome.without_start += without_start
    log.info(
        "deadlines.recomputed",
        applied=apply,
        reports=outcome.reports,
        moved_reports=outcome.moved_reports,
        moves=len(outcome.moves),
        without_start=len(outcome.without_start),
        failed=len(outcome.failed),
    )
    return outcome


def _local(moment: datetime | None) -> str:
    return moment.astimezone(PONTIANAK_TZ).strftime("%Y-%m-%d %H:%M") if moment else "-"


def describe(outcome: Outcome) -> str:
    """The run as an operator reads it: one line per move, then the totals."""
    verb = "moved" if outcome.applied else "would move (dry run)"
    lines = [
        f"{m.tracking_id}  {m.deadline.code:<20} {m.target:<8} {m.name:<26} {_local(m.before)} -> {_local(m.after)}"
        for m in outcome.moves
    ]
    lines += [f"no recorded start, left as it is: {item}" for item in outcome.without_start]
    lines += [f"failed, run again: {item}" for item in outcome.failed]
    lines.append(
        f"{outcome.reports} running reports with a deadline; {outcome.moved_reports} {verb}: {len(outcome.moves)} "
        "changes (times in WIB)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.recompute", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="show what would move, move nothing")
    args = parser.parse_args(argv)
    # The administrator's login: moving jobs and tasks of every report is beyond the service accounts.
    admin = EngineClient(settings.engine_url, user=settings.engine_admin_user, password=settings.engine_admin_password)
    try:
        with admin as engine:
            outcome = recompute(
                engine=engine, db=default_engine(), calendar=default_calendar(settings), apply=not args.dry_run
            )
    except EngineError as err:  # down, or the administrator's login refused; running again finishes the job
        log.error("deadlines.not_recomputed", error=str(err))
        return 1
    print(describe(outcome))
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
