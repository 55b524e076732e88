"""Which report a reporter may reply to: the 404 and 403 of the replies' routes (the view rules of api/views.py).
The replies themselves are lapor/replies.py's, shared by the JSON API and the citizen web page."""

from sqlalchemy.orm import Session

from api.errors import ReportNotFound
from api.views import Shown, is_owner, is_public, load_tracked
from lapor import reports
from lapor.models import Report, Reporter
from lapor.replies import NotOwner


def _visible(report: Report | None, viewer: Reporter | None) -> Report:
    if report is None or (report.confidential and not is_owner(report, viewer)):
        raise ReportNotFound()
    return report


def find_visible(session: Session, tracking_id: str, viewer: Reporter | None) -> Report:
    """The report, or 404 when it does not exist or is confidential and the viewer is not its reporter."""
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        report = None
    return _visible(report, viewer)


def find_tracked(session: Session, tracking_id: str, viewer: Reporter | None) -> tuple[Report, Shown]:
    """`find_visible` and what tracking shows of the report, read in one statement (the same 404s)."""
    found = load_tracked(session, tracking_id)
    if found is None:
        raise ReportNotFound()
    report, shown = found
    return _visible(report, viewer), shown


def find_own(session: Session, tracking_id: str, reporter: Reporter) -> Report:
    """The reporter's own report: 404 when they may not even see it, 403 when it is someone else's public one."""
    report = find_visible(session, tracking_id, reporter)
    if not is_owner(report, reporter):
        if not is_public(report):
            raise ReportNotFound()
        raise NotOwner()
    return report
