"""Reports of registered citizens: submission, tracking, and the replies that drive the process."""

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt
from sqlalchemy.orm import Session

from api.deps import (
    AppContext,
    BearerCredentials,
    ClientIpDep,
    ContextDep,
    NowDep,
    RateLimiterDep,
    ReporterDep,
    SessionDep,
    read_only,
    reporter_bearer,
    reporter_before_body,
    reporter_from_token,
)
from api.errors import documented
from api.forms import TextRoute, before_body
from api.replies import find_own, find_tracked
from api.schemas import CODE_PATTERN, ReplyText, ReportAccepted, ReportFields, ReportView, StatusView
from api.submission import decoded, photo_rules, read_files, receive_files, report_data
from api.views import report_view, status_view
from lapor import intake, replies, uploads

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
Photos = Annotated[
    list[UploadFile],
    File(description=f"1 sampai 5 foto JPEG, PNG atau WebP, masing-masing maks. {uploads.MAX_BYTES // 2**20} MB"),
]
OptionalPhotos = Annotated[list[UploadFile], File(description="0 sampai 5 foto tambahan")]


class ReplyAccepted(BaseModel):
    tracking_id: str
    status: StatusView
    message: str


def _whole_number(value: object) -> object:
    """4.0 is the integer 4 in JSON (and its schema); 4.5, "4" and true are not ratings."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Rating = Annotated[
    StrictInt,
    Field(ge=replies.RATING_MIN, le=replies.RATING_MAX, description="Kepuasan pelapor, 1 sampai 5"),
    BeforeValidator(_whole_number),
]


class Confirmation(BaseModel):
    accepted: StrictBool
    rating: Rating | None = None
    comment: ReplyText | None = None


class Comment(BaseModel):
    text: ReplyText


class CommentAdded(BaseModel):
    id: int
    created_at: datetime


def _reply_accepted(reply: replies.Reply) -> ReplyAccepted:
    return ReplyAccepted(
        tracking_id=reply.report.tracking_id, status=status_view(reply.report.status), message=reply.message
    )


def submission_allowed(reporter: ReporterDep, limiter: RateLimiterDep, ip: ClientIpDep) -> None:
    """429 before anything else; counted and committed now, so a submission refused later still counts, and the
    connection is given back before the photos are decoded."""
    limiter.spend(("submission:ip", ip), ("submission:reporter", str(reporter.id)))


async def checked_request(
    _allowed: Annotated[None, Depends(submission_allowed)],
    fields: Annotated[ReportFields, Form()],
    reporter: ReporterDep,
    context: ContextDep,
    now: NowDep,
    photos: Photos = [],  # noqa: B006 - FastAPI copies defaults; empty is refused with photos_required
) -> intake.IntakeRequest:
    """The submission checked after the limits (text, master data, date, photo count) and its photos decoded last,
    off the event loop."""
    request = intake.IntakeRequest(
        report_data(fields),
        channel="web",
        reporter_id=reporter.id,
        photos=await receive_files(photos),
        photos_required=True,
    )
    intake.check(request, now)
    return await decoded(context, request)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReportAccepted)
@before_body(reporter_before_body)
def submit(
    request: Annotated[intake.IntakeRequest, Depends(checked_request)],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> ReportAccepted:
    """Submit a report with 1 to 5 photos; the answer carries its tracking id."""
    accepted = intake.accept(session, request, rules=photo_rules(context), now=now)
    report = accepted.report
    _log.info("report.submitted", report_id=report.id, tracking_id=report.tracking_id, photos=accepted.photos)
    return ReportAccepted(
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        created_at=report.created_at,
        message=f"Laporan diterima dengan nomor pelacakan {report.tracking_id}.",
    )


@router.get("/{tracking_id}", response_model=ReportView)
async def track(
    tracking_id: TrackingId,
    context: ContextDep,
    now: NowDep,
    credentials: Annotated[BearerCredentials, Depends(reporter_bearer)],
) -> Response:
    """Status, timeline, OPD responses and current deadline; identity and private detail for the owner only."""
    return await run_in_threadpool(_tracked, tracking_id, context, now, credentials)


def _tracked(tracking_id: str, context: AppContext, now: datetime, credentials: BearerCredentials) -> Response:
    """The whole read in one thread-pool hop, the hottest public read: the session is opened and closed here rather
    than by SessionDep (whose entry and exit are a hop each), the token checked as OptionalReporterDep checks it,
    and the view written to JSON by its own model (the route returns a Response, so FastAPI does not validate and
    encode it a second time; `response_model` still documents it). docs/benchmarks.md has what each part bought."""
    with Session(context.db, expire_on_commit=False) as session:
        viewer = reporter_from_token(session, context, credentials.credentials, now) if credentials else None
        read_only(session)
        report, shown = find_tracked(session, tracking_id, viewer)
        view = report_view(session, report, viewer=viewer, context=context, now=now, shown=shown)
    return Response(view.model_dump_json(), media_type="application/json")


@router.post("/{tracking_id}/supplement", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
@before_body(reporter_before_body)
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
    rules = photo_rules(context)
    reply = replies.supplement(session, report=report, text=text, photos=read_files(photos), rules=rules, now=now)
    session.commit()
    _log.info("report.supplemented", report_id=report.id, photos=reply.photos)
    return _reply_accepted(reply)


@router.post("/{tracking_id}/confirmation", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted)
def confirm(
    tracking_id: TrackingId, body: Confirmation, reporter: ReporterDep, session: SessionDep, now: NowDep
) -> ReplyAccepted:
    """Accept or reject the OPD's result (status MENUNGGU_KONFIRMASI), with an optional rating 1-5 (private)."""
    report = find_own(session, tracking_id, reporter)
    reply = replies.confirm(
        session, report=report, accepted=body.accepted, rating=body.rating, comment=body.comment, now=now
    )
    session.commit()
    _log.info("report.confirmation", report_id=report.id, accepted=body.accepted, rated=body.rating is not None)
    return _reply_accepted(reply)


@router.post("/{tracking_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentAdded)
def comment(
    tracking_id: TrackingId, body: Comment, reporter: ReporterDep, session: SessionDep, now: NowDep
) -> CommentAdded:
    """Add a comment to one's own report (kept with the report; it does not move the process)."""
    report = find_own(session, tracking_id, reporter)
    message = replies.comment(session, report=report, text=body.text, now=now)
    session.commit()
    _log.info("report.commented", report_id=report.id, message_id=message.id)
    return CommentAdded(id=message.id, created_at=message.created_at)
