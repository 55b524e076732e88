"""Reports of registered citizens: submission, tracking, and the replies that drive the process."""

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, File, Form, Path, UploadFile, status
from pydantic import BaseModel, StrictBool
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import (
    ClientIpDep,
    ContextDep,
    NowDep,
    OptionalReporterDep,
    RateLimiterDep,
    ReporterDep,
    SessionDep,
)
from api.errors import Conflict, Forbidden, InvalidState, ReportNotFound, documented
from api.forms import TextRoute
from api.schemas import CODE_PATTERN, ReplyText, ReportAccepted, ReportFields, ReportView, StatusView
from api.submission import add_photos, create_report, decode_photos, read_photos
from api.views import is_owner, is_public, report_view, status_view
from lapor import outbox, reports, uploads
from lapor.models import (
    EventKind,
    MessageAuthor,
    MessageKind,
    Report,
    Reporter,
    ReportEvent,
    ReportMessage,
    ReportStatus,
)

router = APIRouter(
    prefix="/reports",
    tags=["laporan"],
    route_class=TextRoute,
    responses=documented(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
)
_log = structlog.stdlib.get_logger(__name__)

TrackingId = Annotated[
    str, Path(max_length=32, pattern=CODE_PATTERN, description="Nomor pelacakan, mis. PTK-2611-7KQ3MX")
]
Photos = Annotated[list[UploadFile], File(description="1 sampai 5 foto JPEG, PNG atau WebP, masing-masing maks. 5 MB")]
OptionalPhotos = Annotated[list[UploadFile], File(description="0 sampai 5 foto tambahan")]

# Message names of bpmn/lapor-pengaduan.bpmn, correlated by the tracking id.
SUPPLEMENT_MESSAGE = "laporan-dilengkapi"
CONFIRMATION_MESSAGE = "tanggapan-pelapor"


class ReplyAccepted(BaseModel):
    tracking_id: str
    status: StatusView
    message: str


class Confirmation(BaseModel):
    accepted: StrictBool
    comment: ReplyText | None = None


class Comment(BaseModel):
    text: ReplyText


class CommentAdded(BaseModel):
    id: int
    created_at: datetime


class NotOwner(Forbidden):
    code = "not_owner"
    message = "Hanya pelapor yang dapat menanggapi laporan ini."


class AlreadyAnswered(Conflict):
    code = "already_answered"
    message = "Anda sudah memberi tanggapan atas hasil tindak lanjut ini."


def find_visible(session: Session, tracking_id: str, viewer: Reporter | None) -> Report:
    """The report, or 404 when it does not exist or is confidential and the viewer is not its reporter."""
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None
    if report.confidential and not is_owner(report, viewer):
        raise ReportNotFound()
    return report


def find_own(session: Session, tracking_id: str, reporter: Reporter) -> Report:
    report = find_visible(session, tracking_id, reporter)
    if not is_owner(report, reporter):
        if not is_public(report):
            raise ReportNotFound()
        raise NotOwner()
    return report


def _require_status(report: Report, expected: ReportStatus) -> None:
    if report.status != expected.value:
        raise InvalidState(details={"status": report.status, "allowed": [expected.value]})


def _round(session: Session, report: Report) -> int:
    """The current status round: the id of the latest status event (a reply belongs to one round)."""
    latest = session.scalar(
        select(func.max(ReportEvent.id)).where(
            ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.STATUS.value
        )
    )
    return int(latest or 0)


def submission_allowed(reporter: ReporterDep, limiter: RateLimiterDep, ip: ClientIpDep, session: SessionDep) -> None:
    """429 before any photo is decoded; the connection is given back before the photos are."""
    limiter.check("submission:ip", ip)
    limiter.check("submission:reporter", str(reporter.id))
    session.commit()


async def submitted_photos(
    context: ContextDep,
    _allowed: Annotated[None, Depends(submission_allowed)],
    photos: Photos = [],  # noqa: B006 - FastAPI copies defaults; empty is refused with photos_required
) -> list[uploads.CleanImage]:
    """The photos of a submission, decoded after the credential and limit checks, off the event loop."""
    return await decode_photos(context, photos, required=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReportAccepted)
def submit(
    fields: Annotated[ReportFields, Form()],
    reporter: ReporterDep,
    images: Annotated[list[uploads.CleanImage], Depends(submitted_photos)],
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
) -> ReportAccepted:
    """Submit a report with 1 to 5 photos; the answer carries its tracking id."""
    limiter.record("submission:ip", ip)
    limiter.record("submission:reporter", str(reporter.id))
    report = create_report(session, context, fields=fields, reporter=reporter, channel="web", images=images, now=now)
    session.commit()
    _log.info("report.submitted", report_id=report.id, tracking_id=report.tracking_id, photos=len(images))
    return ReportAccepted(
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        created_at=report.created_at,
        message=f"Laporan diterima dengan nomor pelacakan {report.tracking_id}.",
    )


@router.get("/{tracking_id}", response_model=ReportView)
def track(
    tracking_id: TrackingId, viewer: OptionalReporterDep, session: SessionDep, context: ContextDep, now: NowDep
) -> ReportView:
    """Status, timeline, OPD responses and current deadline; identity and private detail for the owner only."""
    report = find_visible(session, tracking_id, viewer)
    return report_view(session, report, viewer=viewer, context=context, now=now)


@router.post("/{tracking_id}/supplement", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
def supplement(
    tracking_id: TrackingId,
    text: Annotated[ReplyText, Form(description="Keterangan yang melengkapi laporan")],
    reporter: ReporterDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    photos: OptionalPhotos = [],  # noqa: B006
) -> ReplyAccepted:
    """Supplement a report returned as incomplete (status DIKEMBALIKAN)."""
    report = find_own(session, tracking_id, reporter)
    _require_status(report, ReportStatus.DIKEMBALIKAN)
    images = read_photos(context, photos, required=False)
    message = ReportMessage(
        report_id=report.id,
        author=MessageAuthor.PELAPOR.value,
        kind=MessageKind.SUPPLEMENT.value,
        text=text,
        created_at=now,
    )
    session.add(message)
    session.flush()
    add_photos(session, context, report=report, images=images, now=now, message_id=message.id)
    # One message per round: a second supplement before the process moves on is kept, not published again.
    outbox.enqueue_message(
        session,
        report=report,
        name=SUPPLEMENT_MESSAGE,
        message_id=f"{SUPPLEMENT_MESSAGE}:{report.tracking_id}:{_round(session, report)}",
        variables={},
        now=now,
    )
    session.commit()
    _log.info("report.supplemented", report_id=report.id, photos=len(images))
    return ReplyAccepted(
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        message="Kelengkapan laporan diterima dan akan diverifikasi kembali.",
    )


@router.post("/{tracking_id}/confirmation", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
def confirm(
    tracking_id: TrackingId, body: Confirmation, reporter: ReporterDep, session: SessionDep, now: NowDep
) -> ReplyAccepted:
    """Accept or reject the OPD's result (status MENUNGGU_KONFIRMASI)."""
    report = find_own(session, tracking_id, reporter)
    _require_status(report, ReportStatus.MENUNGGU_KONFIRMASI)
    queued = outbox.enqueue_message(
        session,
        report=report,
        name=CONFIRMATION_MESSAGE,
        message_id=f"{CONFIRMATION_MESSAGE}:{report.tracking_id}:{_round(session, report)}",
        variables={"citizenAccepted": body.accepted},  # the comment stays here: it may hold personal data
        now=now,
    )
    if queued is None:
        raise AlreadyAnswered()
    session.add(
        ReportMessage(
            report_id=report.id,
            author=MessageAuthor.PELAPOR.value,
            kind=MessageKind.CONFIRMATION.value,
            text=body.comment or ("Hasil tindak lanjut diterima." if body.accepted else "Hasil tindak lanjut ditolak."),
            accepted=body.accepted,
            created_at=now,
        )
    )
    session.commit()
    _log.info("report.confirmation", report_id=report.id, accepted=body.accepted)
    return ReplyAccepted(
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        message="Terima kasih atas konfirmasi Anda."
        if body.accepted
        else "Penolakan Anda diteruskan kepada OPD untuk ditindaklanjuti kembali.",
    )


@router.post("/{tracking_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentAdded)
def comment(
    tracking_id: TrackingId, body: Comment, reporter: ReporterDep, session: SessionDep, now: NowDep
) -> CommentAdded:
    """Add a comment to one's own report (kept with the report; it does not move the process)."""
    report = find_own(session, tracking_id, reporter)
    message = ReportMessage(
        report_id=report.id,
        author=MessageAuthor.PELAPOR.value,
        kind=MessageKind.COMMENT.value,
        text=body.text,
        created_at=now,
    )
    session.add(message)
    session.commit()
    _log.info("report.commented", report_id=report.id, message_id=message.id)
    return CommentAdded(id=message.id, created_at=message.created_at)
