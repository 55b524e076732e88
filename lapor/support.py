"""Support and follow: a citizen says "Saya juga mengalami" on someone else's public report, once, and follows it to
hear of its progress. Neither side learns who the other is: followers are counted, never listed, outside the
notifier."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapor import signed_links
from lapor.models import Report, Reporter, ReportFollower, ReportSupport
from lapor.refusals import Kind, Refused

__all__ = [
    "UNFOLLOW_LINK_LIFETIME",
    "OwnReport",
    "Supported",
    "follow",
    "followers",
    "is_following",
    "is_supporting",
    "support",
    "unfollow",
    "unfollow_id",
    "unfollow_path",
    "unfollow_url",
]

# A notice's "Berhenti mengikuti" link works without signing in, for as long as a report usually stays open.
UNFOLLOW_LINK_LIFETIME = timedelta(days=365)


class OwnReport(Refused):
    kind = Kind.FORBIDDEN
    code = "own_report"
    message = (
        "Ini laporan Anda sendiri: Anda tidak perlu mendukung atau mengikutinya, kabarnya sudah dikirim kepada Anda."
    )


@dataclass(frozen=True, slots=True)
class Supported:
    """The outcome of a support: whether this call added it (False: it was there already) and the count now."""

    added: bool
    support_count: int


def _refuse_own(report: Report, reporter: Reporter) -> None:
    if report.reporter_id is not None and report.reporter_id == reporter.id:
        raise OwnReport()


def _insert_once(session: Session, row: ReportSupport | ReportFollower) -> bool:
    """Add the row in a savepoint; False when the unique constraint says it is there (a second or racing request)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def support(session: Session, *, report: Report, reporter: Reporter, now: datetime) -> Supported:
    """Support a report the caller may see publicly (the caller checks that), and follow it; idempotent."""
    _refuse_own(report, reporter)
    added = _insert_once(session, ReportSupport(report_id=report.id, reporter_id=reporter.id, created_at=now))
    if added:
        follow(session, report=report, reporter=reporter, now=now)
    count = session.scalar(select(func.count()).where(ReportSupport.report_id == report.id)) or 0
    return Supported(added, count)


def follow(session: Session, *, report: Report, reporter: Reporter, now: datetime) -> bool:
    """Receive the report's status notices; False when already following."""
    _refuse_own(report, reporter)
    return _insert_once(session, ReportFollower(report_id=report.id, reporter_id=reporter.id, created_at=now))


def unfollow(session: Session, *, report: Report, reporter: Reporter) -> None:
    """Stop the report's notices to this citizen (nothing happens when they did not follow it)."""
    unfollow_id(session, report_id=report.id, reporter_id=reporter.id)


def unfollow_id(session: Session, *, report_id: int, reporter_id: int) -> None:
    session.execute(
        delete(ReportFollower).where(ReportFollower.report_id == report_id, ReportFollower.reporter_id == reporter_id)
    )


def is_supporting(session: Session, report: Report, reporter: Reporter) -> bool:
    where = (ReportSupport.report_id == report.id, ReportSupport.reporter_id == reporter.id)
    return session.scalar(select(ReportSupport.id).where(*where)) is not None


def is_following(session: Session, report: Report, reporter: Reporter) -> bool:
    where = (ReportFollower.report_id == report.id, ReportFollower.reporter_id == reporter.id)
    return session.scalar(select(ReportFollower.id).where(*where)) is not None


def followers(session: Session, report: Report) -> list[Reporter]:
    """Who follows the report, for the notifier only (never the report's own reporter)."""
    query = (
        select(Reporter)
        .join(ReportFollower, ReportFollower.reporter_id == Reporter.id)
        .where(ReportFollower.report_id == report.id, Reporter.id != func.coalesce(report.reporter_id, -1))
        .order_by(ReportFollower.id)
    )
    return list(session.scalars(query))


def unfollow_path(tracking_id: str, follower_id: int) -> str:
    return f"/berhenti-mengikuti/{tracking_id}/{follower_id}"


def unfollow_url(tracking_id: str, follower_id: int, base_url: str, *, key: bytes, now: datetime) -> str:
    """The signed link in a follower's notice: whoever holds it may stop that follower's notices, nothing else."""
    path = unfollow_path(tracking_id, follower_id)
    return base_url.rstrip("/") + signed_links.sign(path, now + UNFOLLOW_LINK_LIFETIME, key=key)
