"""Signed links: a report's photos for staff, and the OPD's proof-photo upload page (lapor.files signs them)."""

import html
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, File, Path, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import AppContext, ContextDep, NowDep, SessionDep
from api.errors import InvalidState, LinkRefused, NotFound, ReportNotFound, documented
from api.forms import TextRoute
from api.schemas import CODE_PATTERN
from api.submission import add_photos, read_photos
from lapor import files, masterdata, reports, uploads
from lapor.models import MessageAuthor, MessageKind, Photo, PhotoKind, Report, ReportMessage, ReportStatus
from lapor.notifications.templates import format_date
from lapor.vocabulary import ReportType
from lapor.workdays import PONTIANAK_TZ

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
# The proof belongs to the OPD's follow-up: from disposition until the completion is reported.
PHOTO_VIEW = timedelta(hours=1)  # photos on the staff page are signed for as long as one reading takes
PROOF_STATUSES = (ReportStatus.TERVERIFIKASI.value, ReportStatus.PROSES.value)

_PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}
code{{font-size:1.4rem;background:#eef;padding:.2rem .5rem}}</style></head>
<body><h1>{title}</h1>{content}</body></html>"""


def _check(context: AppContext, path: str, expires: int | None, signature: str | None, now: datetime) -> None:
    if expires is None or not signature:
        raise LinkRefused(details={"reason": "missing"})
    try:
        files.check(path, expires, signature, key=context.signing_key, now=now)
    except files.LinkExpired:
        raise LinkRefused("Tautan sudah kedaluwarsa.", details={"reason": "expired"}) from None
    except files.LinkForged:
        raise LinkRefused(details={"reason": "invalid_signature"}) from None


def _proof_report(session: Session, tracking_id: str) -> Report:
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None
    if report.status not in PROOF_STATUSES:
        raise InvalidState(details={"status": report.status, "allowed": list(PROOF_STATUSES)})
    return report


def _page(title: str, content: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), content=content), status_code=status_code)


@router.get(
    "/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def photo(
    photo_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> FileResponse:
    """A photo, for whoever holds a valid signed link (staff in Tasklist, the public view of a report)."""
    _check(context, files.photo_path(photo_id), expires, signature, now)
    row = session.get(Photo, photo_id)
    if row is None:
        raise NotFound("Foto tidak ditemukan.")
    path = uploads.path_of(context.upload_dir, row.sha256, row.content_type)
    if not path.is_file():
        _log.error("files.photo_missing", photo_id=photo_id)
        raise NotFound("Foto tidak ditemukan.")
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
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
    """What the verifying admin reads from Tasklist: the report, its place and photos, never who reported it."""
    _check(context, files.report_summary_path(tracking_id), expires, signature, now)
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None
    kelurahan = masterdata.get_kelurahan(report.kelurahan_code) if report.kelurahan_code else None
    kecamatan = masterdata.get_kecamatan(report.kecamatan_code) if report.kecamatan_code else None
    identity = "tidak ada (diteruskan Admin Pusat)" if report.reporter_id is None else "terdaftar dan terverifikasi"
    rows = [
        ("Nomor laporan", report.tracking_id),
        ("Status", ReportStatus(report.status).label),
        ("Judul", report.title),
        ("Kategori", masterdata.get_category(report.category).name),
        ("Jenis", ReportType(report.report_type).label),
        ("Alamat", report.address),
        ("Kelurahan", kelurahan.name if kelurahan else "-"),
        ("Kecamatan", kecamatan.name if kecamatan else "-"),
        ("Identitas pelapor", identity + (" (anonim: disembunyikan dari OPD dan publik)" if report.anonymous else "")),
        ("Rahasia", "ya" if report.confidential else "tidak"),
    ]
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    links = files.photo_links(session, report, now + PHOTO_VIEW, "", key=context.signing_key)
    images = "".join(
        f'<p><img src="{html.escape(link)}" alt="Foto laporan" style="max-width:100%"></p>' for link in links
    )
    # The reporter's own words after submission (supplements above all): staff verify the report with them.
    written = session.scalars(
        select(ReportMessage)
        .where(ReportMessage.report_id == report.id, ReportMessage.author == MessageAuthor.PELAPOR.value)
        .order_by(ReportMessage.created_at, ReportMessage.id)
    )
    messages = "".join(
        f"<li><strong>{html.escape(MessageKind(m.kind).label)}</strong> "
        f"({html.escape(format_date(m.created_at.astimezone(PONTIANAK_TZ).date()))}): {html.escape(m.text)}</li>"
        for m in written
    )
    content = (
        f"<table>{table}</table><h2>Uraian</h2><p>{html.escape(report.description)}</p>"
        f"<h2>Pesan pelapor</h2>{f'<ul>{messages}</ul>' if messages else '<p>Belum ada.</p>'}"
        f"<h2>Foto ({len(links)})</h2>{images or '<p>Tidak ada foto.</p>'}"
    )
    return _page(f"Laporan {report.tracking_id}", content)


@router.get("/proof/{tracking_id}", response_class=HTMLResponse)
def proof_form(
    tracking_id: TrackingId,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> HTMLResponse:
    """The OPD's upload page for the proof-of-completion photo."""
    _check(context, files.proof_upload_path(tracking_id), expires, signature, now)
    report = _proof_report(session, tracking_id)
    action = html.escape(f"{request.url.path}?{request.url.query}")
    content = (
        f"<p>Laporan <strong>{html.escape(report.tracking_id)}</strong>: unggah satu foto bukti penyelesaian "
        f"(JPEG, PNG, atau WebP, maksimal {uploads.MAX_BYTES // (1024 * 1024)} MB).</p>"
        f'<form method="post" action="{action}" enctype="multipart/form-data">'
        '<input type="file" name="photo" accept="image/jpeg,image/png,image/webp" required> '
        '<button type="submit">Unggah</button></form>'
        "<p>Setelah diunggah, salin nomor foto ke isian <em>Nomor foto bukti</em> di Tasklist.</p>"
    )
    return _page("Unggah foto bukti penyelesaian", content)


@router.post("/proof/{tracking_id}", status_code=status.HTTP_201_CREATED, response_class=HTMLResponse)
def proof_upload(
    tracking_id: TrackingId,
    photo: Annotated[UploadFile, File(description="Foto bukti penyelesaian")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    expires: Expires = None,
    signature: Signature = None,
) -> HTMLResponse:
    """Store the proof photo and show its id, to be pasted into the Tasklist form."""
    _check(context, files.proof_upload_path(tracking_id), expires, signature, now)
    report = _proof_report(session, tracking_id)
    images = read_photos(context, [photo], required=True)
    stored = add_photos(session, context, report=report, images=images, now=now, kind=PhotoKind.PROOF)
    session.commit()
    photo_id = stored[0].id
    _log.info("files.proof_uploaded", report_id=report.id, photo_id=photo_id)
    content = (
        f"<p>Foto bukti untuk laporan <strong>{html.escape(report.tracking_id)}</strong> tersimpan.</p>"
        f'<p>Nomor foto: <code id="photo-id">{photo_id}</code></p>'
        "<p>Salin nomor ini ke isian <em>Nomor foto bukti</em> pada tugas <em>Laporkan penyelesaian</em> "
        "di Tasklist.</p>"
    )
    return _page("Foto bukti tersimpan", content, status_code=status.HTTP_201_CREATED)
