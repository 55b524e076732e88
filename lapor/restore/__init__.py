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
  again in Tasklist;
- a running report's deadline starts (`deadline_starts`, what `python -m lapor.recompute` computes from) that are
  missing or of an earlier round are rebuilt from the engine's clock when each deadline task ran;
- a photo row whose file the files' copy lacks, and a file no row names, are listed for a person (never deleted).

What needs a person is listed with the reason, and the exit code is 1. A second run finds nothing to do, apart from
the photo files, which are checked on every run until a person has dealt with them.
Run it with the API and the workers stopped and the engine started: a worker between two writes looks like a mismatch.
"""

import argparse
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine, select

from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.models import CLOSED_STATUSES, Report, ReportStatus
from lapor.process import EngineClient, EngineError
from lapor.restore import photo_files
from lapor.restore.findings import Finding, Kind, Outcome
from lapor.restore.held import Held, read_engine, status_tasks
from lapor.restore.outbox_rows import delivered_messages, dispatch_starts, lost_messages
from lapor.restore.repairs import RESTORER, compare
from lapor.restore.stand_in import STAND_IN_TITLE, orphans
from lapor.settings import get_settings

__all__ = [
    "RESTORER",
    "STAND_IN_TITLE",
    "Finding",
    "Held",
    "Kind",
    "Outcome",
    "describe",
    "main",
    "restore",
    "status_tasks",
]

log = structlog.stdlib.get_logger(__name__)


def restore(
    *, engine: EngineClient, db: Engine, apply: bool = True, only: set[str] | None = None, data_dir: Path | None = None
) -> Outcome:
    """Compare every report (or those of `only`) with the engine; repair unless a dry run; with `data_dir`, check
    the photo rows against the files under it."""
    outcome = Outcome(applied=apply)
    held = read_engine(engine)
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
            findings = compare(session, report, held, now, apply=apply)
        outcome.findings += findings
        restarted += [f.tracking_id for f in findings if f.kind is Kind.NO_INSTANCE]
    orphans(engine, db, held, only, outcome)
    delivered_messages(engine, db, only, outcome)
    lost_messages(engine, db, held, only, outcome)
    if apply and restarted:
        dispatch_starts(engine, db, restarted, outcome)
    if data_dir is not None:
        photo_files.check(db, data_dir, only, outcome)
    log.info(
        "restore.compared",
        applied=apply,
        reports=outcome.reports,
        instances=outcome.instances,
        findings=len(outcome.findings),
        repairs=len(outcome.repairs),
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
        f"the engine does not know; {len(outcome.repairs)} {verb}, {len(outcome.for_person)} for a person"
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
            outcome = restore(
                engine=engine, db=default_engine(), apply=not args.dry_run, only=only, data_dir=Path(settings.data_dir)
            )
    except EngineError as err:  # down, or the administrator's login refused; running again finishes the job
        log.error("restore.not_compared", error=str(err))
        return 1
    print(describe(outcome))
    return 1 if outcome.needs_person else 0
