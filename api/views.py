"""Who may see what of a report, and the views built from the rows: the one place privacy is decided."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    SmallInteger,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from api.deps import AppContext
from api.schemas import (
    CodeName,
    DeadlineView,
    LocationView,
    MessageView,
    OpdResponseView,
    ReporterView,
    ReportSummary,
    ReportView,
    StatusView,
    TimelineEntry,
)
from lapor import masterdata
from lapor.db import UtcDateTime
from lapor.deadlines import WAITING_ON
from lapor.models import (
    EventKind,
    MessageKind,
    Photo,
    PhotoKind,
    Report,
    Reporter,
    ReportEvent,
    ReportMessage,
    ReportStatus,
    ReportSupport,
)
from lapor.signed_links import photo_path, sign, thumbnail_path
from lapor.vocabulary import Actor, Deadline

# Verified by Admin Pengaduan and not withdrawn from view: what the public feed and Open311 show.
PUBLIC_STATUSES = (
    ReportStatus.TERVERIFIKASI.value,
    ReportStatus.PROSES.value,
    ReportStatus.MENUNGGU_KONFIRMASI.value,
    ReportStatus.SELESAI.value,
)
PHOTO_LINK_LIFETIME = timedelta(hours=1)
# Messages for staff only: never read for a tracking view, nor counted in a reporter's "last changed".
STAFF_ONLY_MESSAGE = MessageKind.DOCUMENTATION_NOTE.value


def status_view(code: str) -> StatusView:
    try:
        return StatusView(code=code, label=ReportStatus(code).label)
    except ValueError:
        return StatusView(code=code, label=code)


def is_owner(report: Report, viewer: Reporter | None) -> bool:
    return viewer is not None and report.reporter_id is not None and report.reporter_id == viewer.id


def is_public(report: Report) -> bool:
    return not report.confidential and report.status in PUBLIC_STATUSES


def public_reports() -> Select[Report]:
    """Reports anyone may see: the feed and Open311 start from this query."""
    return select(Report).where(Report.confidential.is_(False), Report.status.in_(PUBLIC_STATUSES))


def name_shown(report: Report) -> bool:
    """The reporter chose at submission to show their name publicly (and did not ask to stay anonymous)."""
    return not report.anonymous and report.show_reporter_name


def public_reporter_name(report: Report) -> str | None:
    """The reporter's name, only when they chose at submission to show it (and did not ask to stay anonymous)."""
    if not name_shown(report) or report.reporter is None:
        return None
    return report.reporter.name


def category_of(code: str) -> CodeName:
    return CodeName(code=code, name=masterdata.name_of(masterdata.get_category, code))


def kecamatan_of(code: str) -> CodeName:
    return CodeName(code=code, name=masterdata.name_of(masterdata.get_kecamatan, code))


def kelurahan_of(code: str) -> CodeName:
    return CodeName(code=code, name=masterdata.name_of(masterdata.get_kelurahan, code))


def opd_of(code: str | None) -> CodeName | None:
    return None if code is None else CodeName(code=code, name=masterdata.name_of(masterdata.get_opd, code))


@dataclass(frozen=True, slots=True)
class Due:
    """The deadline a report waits on now, e.g. the reporter's supplement by Friday 23.59 WIB."""

    deadline: Deadline
    at: datetime

    @property
    def label(self) -> str:
        return f"Batas waktu {self.deadline.label}"


def due_of(report: Report) -> Due | None:
    deadline = WAITING_ON.get(report.status)
    if deadline is None or deadline.column is None:
        return None
    at: datetime | None = getattr(report, deadline.column)
    return None if at is None else Due(deadline, at)


def current_deadline(report: Report) -> DeadlineView | None:
    due = due_of(report)
    return None if due is None else DeadlineView(kind=due.deadline.code, label=due.label, due_at=due.at)


def actor_label(actor: str) -> str:
    try:
        return Actor(actor).label
    except ValueError:
        return actor  # an actor this version does not know is still shown, by its code


def last_activity(session: Session, reports: Sequence[Report], *, for_owner: bool = False) -> dict[int, datetime]:
    """When each report last changed, in one query per table.

    The public sees a change of status or an OPD's answer; the owner also sees their own messages (a comment is
    private, so it must not move the public timestamp either).
    """
    ids = [r.id for r in reports]
    latest = {r.id: r.created_at for r in reports}
    if not ids:
        return latest
    events = select(ReportEvent.report_id, func.max(ReportEvent.occurred_at)).where(
        ReportEvent.report_id.in_(ids), ReportEvent.kind == EventKind.STATUS.value
    )
    messages = select(ReportMessage.report_id, func.max(ReportMessage.created_at)).where(
        ReportMessage.report_id.in_(ids)
    )
    if for_owner:
        messages = messages.where(ReportMessage.kind != STAFF_ONLY_MESSAGE)
    else:
        messages = messages.where(ReportMessage.author == Actor.OPD.value)
    for query in (events.group_by(ReportEvent.report_id), messages.group_by(ReportMessage.report_id)):
        for report_id, at in session.execute(query):
            if at is not None:
                # SQLite hands back aggregates as naive UTC, outside UtcDateTime's conversion.
                at = at if at.tzinfo else at.replace(tzinfo=latest[report_id].tzinfo)
                latest[report_id] = max(latest[report_id], at)
    return latest


def summary(report: Report, updated_at: datetime, *, for_owner: bool = False, support_count: int = 0) -> ReportSummary:
    return ReportSummary(
        tracking_id=report.tracking_id,
        title=report.title,
        category=category_of(report.category),
        report_type=report.report_type,
        status=status_view(report.status),
        kecamatan=kecamatan_of(report.kecamatan_code),
        kelurahan=kelurahan_of(report.kelurahan_code),
        reporter_name=report.reporter.name if for_owner and report.reporter else public_reporter_name(report),
        created_at=report.created_at,
        updated_at=updated_at,
        support_count=support_count,
    )


def signed_photo_urls(ids: Sequence[int], context: AppContext, now: datetime) -> list[str]:
    expires = now + PHOTO_LINK_LIFETIME
    return [context.base_url + sign(photo_path(i), expires, key=context.signing_key) for i in ids]


def signed_thumbnail_urls(ids: Sequence[int], context: AppContext, now: datetime) -> dict[int, str]:
    """Signed links to the small copies of photos (lists), by photo id."""
    expires = now + PHOTO_LINK_LIFETIME
    return {i: context.base_url + sign(thumbnail_path(i), expires, key=context.signing_key) for i in ids}


def photo_urls(
    session: Session, report: Report, context: AppContext, now: datetime, *, kind: PhotoKind = PhotoKind.REPORT
) -> list[str]:
    """Signed, short-lived links to a report's photos of one kind: the reporter's, or the OPD's proof."""
    ids = session.scalars(
        select(Photo.id).where(Photo.report_id == report.id, Photo.kind == kind.value).order_by(Photo.id)
    )
    return signed_photo_urls(list(ids), context, now)


# -- what tracking shows of a report, read in one statement --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    actor: str
    detail: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ShownMessage:
    kind: str
    author: str
    text: str
    accepted: bool | None
    rating: int | None
    at: datetime


@dataclass(slots=True)
class Shown:
    """The rows tracking shows beside the report's own: status changes by (time, id), messages by (time, id),
    photo ids by kind in id order, and the reporter's name (shown only where `name_shown` says so; the owner's
    view takes the reporter from the viewer's own row)."""

    status_changes: list[StatusChange] = field(default_factory=list)
    messages: list[ShownMessage] = field(default_factory=list)
    photos: dict[str, list[int]] = field(default_factory=dict)
    reporter_name: str | None = None
    support_count: int = 0


def _shown_rows(report_id: ColumnElement[int]) -> Subquery:
    """Status events, messages (not those for staff only) and photos of one report as one UNION ALL, each branch on
    its report_id index.

    Columns: source, report_id, id, at, kind, status, who, text, accepted, rating. The first branch gives every
    column its type (typed NULLs where a table has no such column), so PostgreSQL and SQLite read them alike.
    """
    events = select(
        literal_column("'event'", String).label("source"),
        ReportEvent.report_id,
        ReportEvent.id,
        ReportEvent.occurred_at.label("at"),
        cast(null(), String(24)).label("kind"),
        ReportEvent.status,
        ReportEvent.actor.label("who"),
        ReportEvent.detail.label("text"),
        cast(null(), Boolean).label("accepted"),
        cast(null(), SmallInteger).label("rating"),
    ).where(ReportEvent.report_id == report_id, ReportEvent.kind == EventKind.STATUS.value)
    messages = select(
        literal_column("'message'", String),
        ReportMessage.report_id,
        ReportMessage.id,
        ReportMessage.created_at,
        ReportMessage.kind,
        cast(null(), String(32)),
        ReportMessage.author,
        ReportMessage.text,
        ReportMessage.accepted,
        ReportMessage.rating,
    ).where(ReportMessage.report_id == report_id, ReportMessage.kind != STAFF_ONLY_MESSAGE)
    photos = select(
        literal_column("'photo'", String),
        Photo.report_id,
        Photo.id,
        cast(null(), UtcDateTime),  # photos go by id alone, as photo_urls orders them
        Photo.kind,
        cast(null(), String(32)),
        cast(null(), String(32)),
        cast(null(), Text),
        cast(null(), Boolean),
        cast(null(), SmallInteger),
    ).where(Photo.report_id == report_id)
    return union_all(events, messages, photos).subquery("shown")


def _tracking_statement(report_filter: ColumnElement[bool]) -> Select[Any]:
    shown = _shown_rows(select(Report.id).where(report_filter).scalar_subquery())
    supports = select(func.count()).where(ReportSupport.report_id == Report.id).correlate(Report).scalar_subquery()
    return (
        select(Report, Reporter.name, supports.label("support_count"), shown)
        .outerjoin(Reporter, Reporter.id == Report.reporter_id)
        .outerjoin(shown, shown.c.report_id == Report.id)
        .where(report_filter)
        .order_by(shown.c.source, shown.c.at, shown.c.id)
    )


# Built once: building the statement and its cache key took more CPU than the SQL itself (1.2 ms a read).
_BY_TRACKING_ID = _tracking_statement(Report.tracking_id == bindparam("tracking_id"))
_BY_ID = _tracking_statement(Report.id == bindparam("report_id"))


def _read_shown(session: Session, statement: Select[Any], params: dict[str, object]) -> tuple[Report, Shown] | None:
    report: Report | None = None
    shown = Shown()
    for row in session.execute(statement, params):
        report = row[0]
        shown.reporter_name = row[1]
        shown.support_count = row.support_count or 0
        source = row.source
        if source == "event":
            shown.status_changes.append(StatusChange(row.status or "", row.who, row.text, row.at))
        elif source == "message":
            shown.messages.append(ShownMessage(row.kind, row.who, row.text, row.accepted, row.rating, row.at))
        elif source == "photo":
            shown.photos.setdefault(row.kind, []).append(row.id)
    return None if report is None else (report, shown)


def load_tracked(session: Session, tracking_id: str) -> tuple[Report, Shown] | None:
    """The report by tracking id and all that tracking shows of it, in one statement; None when there is none.
    Nothing is decided here: `report_view` applies the owner/public/limited rules to what was read."""
    return _read_shown(session, _BY_TRACKING_ID, {"tracking_id": tracking_id})


def load_shown(session: Session, report: Report) -> Shown:
    found = _read_shown(session, _BY_ID, {"report_id": report.id})
    return found[1] if found else Shown()


def return_note(report: Report, shown: Shown) -> ShownMessage | None:
    """Admin Pengaduan's note for the reporter on the return the report waits on (DIKEMBALIKAN): the latest one
    written since the status before that return, so a return without a note never shows an older round's."""
    if report.status != ReportStatus.DIKEMBALIKAN.value:
        return None
    changes = shown.status_changes
    returns = [i for i, change in enumerate(changes) if change.status == ReportStatus.DIKEMBALIKAN.value]
    since = changes[returns[-1] - 1].at if returns and returns[-1] > 0 else None
    notes = [m for m in shown.messages if m.kind == MessageKind.RETURN_NOTE and (since is None or m.at >= since)]
    return notes[-1] if notes else None


def _completion_reported(shown: Shown) -> bool:
    """The OPD reported completion (its text), or the result went to the reporter: the proof may be shown."""
    awaited = ReportStatus.MENUNGGU_KONFIRMASI.value
    return any(m.kind == MessageKind.OPD_COMPLETION for m in shown.messages) or any(
        change.status == awaited for change in shown.status_changes
    )


def _timeline(shown: Shown) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            status=status_view(change.status),
            actor=change.actor,
            actor_label=actor_label(change.actor),
            at=change.at,
            note=change.detail,
        )
        for change in shown.status_changes
    ]


def report_view(
    session: Session,
    report: Report,
    *,
    viewer: Reporter | None,
    context: AppContext,
    now: datetime,
    shown: Shown | None = None,
) -> ReportView:
    """The owner's, the public or the limited view; callers have already refused confidential reports to others.

    `shown` is what `load_tracked` read with the report; without it, it is read here (one statement).
    """
    owner = is_owner(report, viewer)
    view = "owner" if owner else "public" if is_public(report) else "limited"
    if shown is None:
        shown = load_shown(session, report)
    messages = shown.messages
    timeline = _timeline(shown)
    # last_activity's rule on the rows loaded for the view anyway (two queries fewer per tracking read): status
    # changes for everyone, the OPD's messages for everyone, the owner's own messages for the owner only.
    updated_at = max(
        [
            report.created_at,
            *(entry.at for entry in timeline),
            *(m.at for m in messages if owner or m.author == Actor.OPD),
        ]
    )
    result = ReportView(
        view=view,
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        deadline=current_deadline(report),
        timeline=timeline,
        created_at=report.created_at,
        updated_at=updated_at,
    )
    if view == "limited":
        return result
    result.title = report.title
    result.description = report.description
    result.report_type = report.report_type
    result.category = category_of(report.category)
    result.location = LocationView(
        kecamatan=kecamatan_of(report.kecamatan_code),
        kelurahan=kelurahan_of(report.kelurahan_code),
        address=report.address,
        latitude=report.latitude,
        longitude=report.longitude,
    )
    result.opd = opd_of(report.opd_code)
    result.responses = [OpdResponseView(kind=m.kind, text=m.text, at=m.at) for m in messages if m.author == Actor.OPD]
    result.photo_urls = signed_photo_urls(shown.photos.get(PhotoKind.REPORT.value, []), context, now)
    if _completion_reported(shown):
        result.proof_photo_urls = signed_photo_urls(shown.photos.get(PhotoKind.PROOF.value, []), context, now)
    result.reporter_name = shown.reporter_name if name_shown(report) else None
    result.support_count = shown.support_count
    if owner:
        reporter = report.reporter
        result.channel = report.channel
        result.incident_date = report.incident_date
        result.anonymous = report.anonymous
        result.show_name = report.show_reporter_name
        result.confidential = report.confidential
        result.reporter_name = reporter.name if reporter else None
        result.reporter = (
            ReporterView(name=reporter.name, email=reporter.email, phone=reporter.phone) if reporter else None
        )
        result.messages = [
            MessageView(kind=m.kind, author=m.author, text=m.text, accepted=m.accepted, rating=m.rating, at=m.at)
            for m in messages
        ]
        _add_handoff(result, report, shown)
    return result


def _add_handoff(result: ReportView, report: Report, shown: Shown) -> None:
    """The owner's part of a hand-off: Admin Pengaduan's note on this return and the reporter's own deadline."""
    note = return_note(report, shown)
    due = due_of(report)
    result.return_note = note.text if note else None
    result.supplement_due_at = due.at if due and due.deadline is Deadline.SUPPLEMENT else None
    result.confirmation_due_at = due.at if due and due.deadline is Deadline.CITIZEN_CONFIRMATION else None
