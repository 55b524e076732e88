"""The report form's "Laporan serupa di sekitar" without JavaScript, and "Saya juga mengalami" / follow on the pages:
the API's nearby search and support services (api/nearby.py), posted as forms with the page's CSRF token."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api import nearby
from api.deps import AppContext, ClientIpDep, ContextDep, NowDep, RateLimiter, SessionDep
from api.errors import LinkRefused, ReportNotFound, TooManyRequests
from api.replies import find_visible
from api.schemas import CODE_PATTERN
from api.web.fields import text_fields
from api.web.pages import to_sign_in, tracking_page
from api.web.render import page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep, load
from api.web.submit import FIELDS, coordinates, form_page
from lapor import reports, signed_links, support
from lapor.models import Report

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]
FormText = Annotated[str, Form(max_length=6000)]
NO_PLACE = "Pilih kategori dan kelurahan (atau isi titik koordinat) untuk melihat laporan serupa di sekitar."
SUPPORT_ERROR = "dukung"  # where _dukung.html shows a refused support
TOO_OFTEN = "Terlalu sering memeriksa laporan di sekitar. Silakan coba lagi beberapa menit lagi."


def _suggest(context: AppContext, ip: str, values: dict[str, str], now: datetime) -> nearby.NearbyPage | str:
    """The panel's list for what the form holds, or the sentence that says why there is none."""
    category = values.get("category", "")
    kelurahan = values.get("lokasi", "").partition("/")[2]
    point = coordinates(values.get("koordinat", ""))
    if not category or not (kelurahan or point):
        return NO_PLACE
    with Session(context.db) as session:
        try:
            RateLimiter(context, session, now).spend(("nearby:ip", ip))
        except TooManyRequests:
            return TOO_OFTEN
        latitude = longitude = None
        if point is not None:
            latitude, longitude = float(point[0]), float(point[1])
        return nearby.suggestions(
            session,
            context,
            now,
            category=category,
            latitude=latitude,
            longitude=longitude,
            kelurahan=kelurahan or None,
        )


def _web_session(context: AppContext, cookies: dict[str, str], now: datetime) -> WebSession:
    with Session(context.db, expire_on_commit=False) as session:
        return load(session, context, cookies, now)


@router.post("/lapor/sekitar")
async def check_nearby(request: Request, context: ContextDep, ip: ClientIpDep) -> Response:
    """ "Cek laporan serupa di sekitar": the report form again, everything typed kept, with the list below the place."""
    now = context.clock()
    web = await run_in_threadpool(_web_session, context, dict(request.cookies), now)
    if web.reporter is None:
        return to_sign_in()
    async with request.form() as form:
        web.check_csrf(form.get("csrf"))
        values = text_fields(form, FIELDS)
    found = await run_in_threadpool(_suggest, context, ip, values, now)
    if isinstance(found, str):
        return form_page(web, context.settings, form=values, nearby=None, nearby_note=found)
    return form_page(web, context.settings, form=values, nearby=found, nearby_note="")


def _done(tracking_id: str, notice: str) -> Response:
    return RedirectResponse(f"/lacak/{tracking_id}?pesan={notice}#ikuti", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/lacak/{tracking_id}/dukung")
def support_report(
    tracking_id: TrackingId,
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    csrf: FormText = "",
) -> Response:
    """ "Saya juga mengalami" (from the tracking page or the report form's list): support once and follow."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    try:
        report = nearby.supportable(session, tracking_id.upper(), web.reporter)
    except support.OwnReport as own:
        report = find_visible(session, tracking_id.upper(), web.reporter)
        return tracking_page(web, session, context, now, report, status_code=403, errors={SUPPORT_ERROR: own.message})
    support.support(session, report=report, reporter=web.reporter, now=now)
    session.commit()
    return _done(report.tracking_id, "didukung")


@router.post("/lacak/{tracking_id}/ikuti")
def follow_report(
    tracking_id: TrackingId, web: WebSessionDep, session: SessionDep, now: NowDep, csrf: FormText = ""
) -> Response:
    """Follow someone else's public report: its status notices by e-mail or SMS."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    report = nearby.supportable(session, tracking_id.upper(), web.reporter)
    support.follow(session, report=report, reporter=web.reporter, now=now)
    session.commit()
    return _done(report.tracking_id, "diikuti")


@router.post("/lacak/{tracking_id}/berhenti-mengikuti")
def unfollow_report(tracking_id: TrackingId, web: WebSessionDep, session: SessionDep, csrf: FormText = "") -> Response:
    """Stop following: no more notices of this report (the support stays counted)."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    report = find_visible(session, tracking_id.upper(), web.reporter)
    support.unfollow(session, report=report, reporter=web.reporter)
    session.commit()
    return _done(report.tracking_id, "berhenti")


Expires = Annotated[int, Query(ge=0, le=10**11)]
Signature = Annotated[str, Query(max_length=128)]
FollowerId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _signed_follower(
    session: Session,
    context: AppContext,
    tracking_id: str,
    follower_id: int,
    expires: int,
    signature: str,
    now: datetime,
) -> Report:
    """The report of a notice's signed "Berhenti mengikuti" link (403 for a forged or expired one)."""
    try:
        signed_links.check(
            support.unfollow_path(tracking_id, follower_id), expires, signature, key=context.signing_key, now=now
        )
    except signed_links.LinkExpired:
        raise LinkRefused("Tautan sudah kedaluwarsa. Masuk, lalu tekan “Berhenti mengikuti” pada laporannya.") from None
    except signed_links.LinkForged:
        raise LinkRefused() from None
    try:
        return reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None


@router.get("/berhenti-mengikuti/{tracking_id}/{follower_id}")
def unfollow_link(
    tracking_id: TrackingId,
    follower_id: FollowerId,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires,
    signature: Signature,
) -> Response:
    """The link in a follower's notice asks first (a mail scanner opening it must not unfollow anyone)."""
    report = _signed_follower(session, context, tracking_id, follower_id, expires, signature, now)
    return page("berhenti_mengikuti.html", None, tracking_id=report.tracking_id, done=False,
                expires=expires, signature=signature, follower_id=follower_id)  # fmt: skip


@router.post("/berhenti-mengikuti/{tracking_id}/{follower_id}")
def unfollow_by_link(
    tracking_id: TrackingId,
    follower_id: FollowerId,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Annotated[int, Form(ge=0, le=10**11)],
    signature: Annotated[str, Form(max_length=128)],
) -> Response:
    """Stop this follower's notices of this report, on the strength of the signed link alone."""
    report = _signed_follower(session, context, tracking_id, follower_id, expires, signature, now)
    support.unfollow_id(session, report_id=report.id, reporter_id=follower_id)
    session.commit()
    return page("berhenti_mengikuti.html", None, tracking_id=report.tracking_id, done=True,
                expires=expires, signature=signature, follower_id=follower_id)  # fmt: skip
