"""Signed links: a report's photos and the staff's report page (lapor.signed_links signs them)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session

from api import staff_page
from api.deps import AppContext, ContextDep, NowDep, SessionDep
from api.errors import LinkRefused, NotFound, ReportNotFound, documented
from api.forms import TextRoute
from api.schemas import CODE_PATTERN
from lapor import reports, signed_links, thumbnails, uploads
from lapor.models import Photo

router = APIRouter(
    prefix="/files",
    tags=["berkas"],
    route_class=TextRoute,
    responses=documented(400, 401, 403, 404, 413, 415, 422, 503),
)
_log = structlog.stdlib.get_logger(__name__)

Expires = Annotated[int | None, Query(ge=0, le=10**11, description="Batas berlaku tautan (detik Unix)")]
Signature = Annotated[str | None, Query(max_length=128, description="HMAC-SHA256 tautan")]
TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]
PHOTO_VIEW = timedelta(hours=1)  # photos on the staff page are signed for as long as one reading takes


def _check(context: AppContext, path: str, expires: int | None, signature: str | None, now: datetime) -> None:
    if expires is None or not signature:
        raise LinkRefused(details={"reason": "missing"})
    try:
        signed_links.check(path, expires, signature, key=context.signing_key, now=now)
    except signed_links.LinkExpired:
        raise LinkRefused("Tautan sudah kedaluwarsa.", details={"reason": "expired"}) from None
    except signed_links.LinkForged:
        raise LinkRefused(details={"reason": "invalid_signature"}) from None


PhotoId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _signed_photo(
    session: Session,
    context: AppContext,
    path: str,
    photo_id: int,
    expires: int | None,
    signature: str | None,
    now: datetime,
) -> Photo:
    """The photo row a signed link names, once its signature and expiry hold for that exact path."""
    _check(context, path, expires, signature, now)
    row = session.get(Photo, photo_id)
    if row is None:
        raise NotFound("Foto tidak ditemukan.")
    return row


@router.get(
    "/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def photo(
    photo_id: PhotoId,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> FileResponse:
    """A photo, for whoever holds a valid signed link (staff in Tasklist, the public view of a report)."""
    row = _signed_photo(session, context, signed_links.photo_path(photo_id), photo_id, expires, signature, now)
    path = uploads.path_of(context.upload_dir, row.sha256, row.content_type)
    if not path.is_file():
        _log.error("signed_links.photo_missing", photo_id=photo_id)
        raise NotFound("Foto tidak ditemukan.")
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/photos/{photo_id}/kecil", response_class=FileResponse, responses={200: {"content": {"image/jpeg": {}}}})
def photo_thumbnail(
    photo_id: PhotoId,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> FileResponse:
    """A photo's small copy (at most 320 px, JPEG), for lists: the public feed shows one per report."""
    row = _signed_photo(session, context, signed_links.thumbnail_path(photo_id), photo_id, expires, signature, now)
    try:
        path = thumbnails.thumbnail(context.upload_dir, row.sha256, row.content_type)
    except thumbnails.ThumbnailUnavailable as err:
        _log.error("signed_links.thumbnail_unavailable", photo_id=photo_id, error=str(err)[:200])
        raise NotFound("Foto tidak ditemukan.") from None
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/reports/{tracking_id}", response_class=HTMLResponse)
def report_summary(
    tracking_id: TrackingId,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> HTMLResponse:
    """The staff's page of a report (Tasklist links to it): the whole report in words, never who reported it."""
    _check(context, signed_links.report_summary_path(tracking_id), expires, signature, now)
    assert expires is not None  # _check refused a link without one
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None
    page = staff_page.build(
        session,
        report,
        now=now,
        photos_until=now + PHOTO_VIEW,
        link_until=datetime.fromtimestamp(expires, UTC),
        key=context.signing_key,
    )
    return HTMLResponse(staff_page.render(page), headers=staff_page.PAGE_HEADERS)
