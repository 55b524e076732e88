"""Where a report's running deadlines started (`deadline_starts`, which `python -m lapor.recompute` computes from),
rebuilt from the engine after a restore: the rows of a report received or moved on after the application's dump
are missing or belong to an earlier round."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.models import DeadlineStart, Report
from lapor.recompute import record_start
from lapor.restore.findings import Finding, Kind
from lapor.restore.held import Held


def rebuild(session: Session, report: Report, instance_id: str, held: Held, *, apply: bool) -> list[Finding]:
    """Each deadline the engine computed for this instance whose recorded start is missing or another moment: the
    start from the engine's clock when its deadline task ran (`engineNow`), the length from that task's properties
    in the model version the instance runs, as the deadline worker wrote it."""
    started = held.starts.get(instance_id, {})
    if not started:
        return []
    recorded = {
        row.deadline: row.started_at
        for row in session.scalars(select(DeadlineStart).where(DeadlineStart.report_id == report.id))
    }
    rebuilt: list[str] = []
    for deadline, sla in started.items():
        known = recorded.get(deadline.code)
        if known is not None and abs((known - sla.started_at).total_seconds()) < 0.001:  # the engine keeps ms
            continue
        rebuilt.append(deadline.code)
        if apply:
            record_start(session, report=report, sla=sla)
    if not rebuilt:
        return []
    return [Finding(report.tracking_id, Kind.DEADLINE_STARTS, "rebuilt from the engine: " + ", ".join(rebuilt))]
