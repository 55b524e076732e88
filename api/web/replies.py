"""The reporter's replies on the tracking page: supplement a returned report, accept or reject a result with an
optional rating. The services are lapor/replies.py's, shared with the JSON API; this module only reads the forms."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import AppContext, ContextDep, NowDep, SessionDep
from api.replies import find_own, find_visible
from api.schemas import CODE_PATTERN, ReplyText
from api.submission import decode_photos, photo_rules, receive_files
from api.web.fields import GENERAL, files, non_empty, text_fields, validate
from api.web.pages import to_sign_in, tracking_page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep, load
from lapor import intake, replies, uploads
from lapor.models import Report, Reporter, ReportStatus
from lapor.refusals import Refused

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]
FormText = Annotated[str, Form(max_length=6000)]


class SupplementForm(BaseModel):
    text: ReplyText


class CommentForm(BaseModel):
    text: ReplyText


class ConfirmationForm(BaseModel):
    """The JSON API's Confirmation as a form sends it (the rating arrives as text)."""

    rating: Annotated[int, Field(ge=replies.RATING_MIN, le=replies.RATING_MAX)] | None = None
    comment: ReplyText | None = None


def _own_report(web: WebSession, session: Session, tracking_id: str, csrf: str) -> Report | None:
    """The CSRF token first, then the reporter's own report (the API's 404 and 403); None: nobody signed in."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return None
    return find_own(session, tracking_id.upper(), web.reporter)


def _done(tracking_id: str, notice: str) -> Response:
    return RedirectResponse(f"/lacak/{tracking_id}?pesan={notice}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/lacak/{tracking_id}/lengkapi")
async def supplement(tracking_id: TrackingId, request: Request, context: ContextDep, web: WebSessionDep) -> Response:
    """Supplement a returned report (DIKEMBALIKAN) with text and 0 to 5 photos."""
    if web.reporter is None:
        return to_sign_in()  # from the cookie alone: a visitor who is not signed in costs no body
    now = context.clock()
    async with request.form() as form:
        return await _supplement_form(tracking_id.upper(), request, context, now, form)


def _owner_check(
    context: AppContext, cookies: dict[str, str], tracking_id: str, csrf: object, now: datetime
) -> WebSession:
    """The CSRF token, then the report as its reporter's own in the status a supplement needs (API's errors)."""
    with Session(context.db, expire_on_commit=False) as session:
        web = load(session, context, cookies, now)
        web.check_csrf(csrf)
        if web.reporter is not None:
            report = find_own(session, tracking_id, web.reporter)
            replies.require_status(report, ReportStatus.DIKEMBALIKAN)
        return web


def _store_supplement(
    context: AppContext, reporter_id: int, tracking_id: str, text: str, images: list[uploads.CleanImage], now: datetime
) -> None:
    with Session(context.db, expire_on_commit=False) as session:
        reporter = session.get(Reporter, reporter_id)
        assert reporter is not None
        report = find_own(session, tracking_id, reporter)
        rules = photo_rules(context)
        replies.supplement(session, report=report, text=text, photos=tuple(images), rules=rules, now=now)
        session.commit()


def _show_refusal(
    context: AppContext, web: WebSession, tracking_id: str, now: datetime, errors: dict[str, str], form: dict[str, str]
) -> Response:
    """The tracking page again, with the refusal next to the form and the typed text kept."""
    with Session(context.db, expire_on_commit=False) as session:
        report = find_visible(session, tracking_id, web.reporter)
        return tracking_page(web, session, context, now, report, status_code=422, errors=errors, form=form)


async def _supplement_form(
    tracking_id: str, request: Request, context: AppContext, now: datetime, form: FormData
) -> Response:
    web = await run_in_threadpool(_owner_check, context, dict(request.cookies), tracking_id, form.get("csrf"), now)
    if web.reporter is None:
        return to_sign_in()
    values = text_fields(form, ("text",))
    checked = validate(SupplementForm, non_empty(values))
    if isinstance(checked, dict):  # the text is refused before any photo is decoded
        return await run_in_threadpool(_show_refusal, context, web, tracking_id, now, checked, values)
    try:
        photos = await receive_files(files(form, "photos"))
        intake.check_photo_count(len(photos), required=False)
        images = await decode_photos(context, photos)
    except Refused as refused:
        errors = {"photos": refused.message}
        return await run_in_threadpool(_show_refusal, context, web, tracking_id, now, errors, values)
    await run_in_threadpool(_store_supplement, context, web.reporter.id, tracking_id, checked.text, images, now)
    return _done(tracking_id, "dilengkapi")


@router.post("/lacak/{tracking_id}/konfirmasi")
def confirm(
    tracking_id: TrackingId,
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    csrf: FormText = "",
    keputusan: FormText = "",
    rating: FormText = "",
    comment: FormText = "",
) -> Response:
    """Accept ("terima") or reject ("tolak") the result, with an optional rating 1-5 and comment (private)."""
    report = _own_report(web, session, tracking_id, csrf)
    if report is None:
        return to_sign_in()
    tracking_id = report.tracking_id
    values = {"rating": rating, "comment": comment}
    checked = validate(ConfirmationForm, non_empty(values))
    errors = checked if isinstance(checked, dict) else {}
    if keputusan not in ("terima", "tolak"):
        errors["accepted"] = "Pilih terima atau tolak hasil tindak lanjut."
    if errors or isinstance(checked, dict):
        return tracking_page(web, session, context, now, report, status_code=422, errors=errors, form=values)
    try:
        replies.confirm(
            session,
            report=report,
            accepted=keputusan == "terima",
            rating=checked.rating,
            comment=checked.comment,
            now=now,
        )
    except replies.AlreadyAnswered as answered:
        session.rollback()
        return tracking_page(web, session, context, now, report, status_code=409, errors={GENERAL: answered.message})
    session.commit()
    return _done(tracking_id, "diterima" if keputusan == "terima" else "ditolak")


@router.post("/lacak/{tracking_id}/komentar")
def comment(
    tracking_id: TrackingId,
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    csrf: FormText = "",
    text: FormText = "",
) -> Response:
    """A comment on one's own report, in any status (kept with the report; the process does not move)."""
    report = _own_report(web, session, tracking_id, csrf)
    if report is None:
        return to_sign_in()
    checked = validate(CommentForm, non_empty({"text": text}), rename={"text": "comment_text"})
    if isinstance(checked, dict):
        form = {"comment_text": text}
        return tracking_page(web, session, context, now, report, status_code=422, errors=checked, form=form)
    replies.comment(session, report=report, text=checked.text, now=now)
    session.commit()
    return _done(report.tracking_id, "komentar")
