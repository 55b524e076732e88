"""Pages to read: home, the public feed, the reporter's own reports, and tracking by tracking id."""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api import public
from api import reporters as accounts
from api.deps import AppContext, ContextDep, NowDep, SessionDep
from api.errors import ReportNotFound
from api.replies import find_visible
from api.schemas import CODE_PATTERN
from api.views import PUBLIC_STATUSES, is_owner, report_view
from api.web.render import page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep
from lapor import masterdata
from lapor.models import Report, ReportStatus

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE_SIZE = 20
PageNumber = Annotated[int, Query(alias="halaman", ge=1, le=10_000)]
# What a redirect after a form may announce: fixed sentences, never text from the address bar.
NOTICES = {
    "terkirim": "Laporan Anda telah diterima. Simpan nomor pelacakan ini untuk memantau perkembangannya.",
    "dilengkapi": "Kelengkapan laporan diterima dan akan diverifikasi kembali.",
    "diterima": "Terima kasih atas konfirmasi Anda.",
    "ditolak": "Penolakan Anda diteruskan kepada OPD untuk ditindaklanjuti kembali.",
    "komentar": "Komentar Anda disimpan bersama laporan.",
}


def to_sign_in() -> Response:
    return RedirectResponse("/masuk", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/")
def home(web: WebSessionDep) -> Response:
    return page("beranda.html", web)


FeedFilter = Annotated[str, Query(max_length=32, pattern=r"^[A-Za-z0-9_.\-]*$")]


@router.get("/laporan")
def feed(
    web: WebSessionDep,
    session: SessionDep,
    number: PageNumber = 1,
    kategori: FeedFilter = "",
    kecamatan: FeedFilter = "",
    status: FeedFilter = "",
) -> Response:
    """The public feed: the API's own query (verified, not confidential; names only when the reporter chose),
    filtered by category, kecamatan and status as the API's feed is."""
    items = public.feed(
        session,
        page=number,
        page_size=PAGE_SIZE,
        category=kategori or None,
        kecamatan=kecamatan or None,
        status=status or None,
    )
    chosen = {"kategori": kategori, "kecamatan": kecamatan, "status": status}
    query = urlencode({name: value for name, value in chosen.items() if value})
    return page(
        "umpan.html",
        web,
        feed=items,
        chosen=chosen,
        pager_path="/laporan?" + (query + "&" if query else ""),
        categories=masterdata.category_list(),
        kecamatan_list=masterdata.kecamatan_list(),
        statuses=[ReportStatus(code) for code in PUBLIC_STATUSES],
    )


@router.get("/laporan-saya")
def mine(web: WebSessionDep, session: SessionDep, number: PageNumber = 1) -> Response:
    if web.reporter is None:
        return to_sign_in()
    items = accounts.my_reports(web.reporter, session, page=number, page_size=PAGE_SIZE)
    return page("laporan_saya.html", web, me=web.reporter, reports=items)


@router.get("/lacak")
def find(nomor: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The tracking form of the home page (GET, so it works without JavaScript)."""
    tracking_id = nomor.strip().upper()
    if not tracking_id:
        return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    return RedirectResponse(f"/lacak/{tracking_id}", status_code=status.HTTP_303_SEE_OTHER)


TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]


def tracking_page(
    web: WebSession,
    session: Session,
    context: AppContext,
    now: datetime,
    report: Report,
    *,
    status_code: int = 200,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The tracking page of a report the viewer may see: `report_view` decides what it shows."""
    view = report_view(session, report, viewer=web.reporter, context=context, now=now)
    owner = is_owner(report, web.reporter)
    return page(
        "lacak.html",
        web,
        status_code=status_code,
        view=view,
        notice_text=NOTICES.get(notice or ""),
        can_supplement=owner and report.status == ReportStatus.DIKEMBALIKAN.value,
        can_confirm=owner and report.status == ReportStatus.MENUNGGU_KONFIRMASI.value,
        can_comment=owner,
        errors=errors or {},
        form=form or {},
    )


@router.get("/lacak/{tracking_id}")
def track(
    tracking_id: TrackingId,
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    pesan: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Status, timeline, deadlines in WIB and OPD responses; the owner also sees their own detail and forms."""
    try:
        report = find_visible(session, tracking_id.upper(), web.reporter)
    except ReportNotFound:
        raise ReportNotFound("Laporan dengan nomor pelacakan ini tidak ditemukan.") from None
    return tracking_page(web, session, context, now, report, notice=pesan)
