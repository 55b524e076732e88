"""Pages to read: home, the public feed, the reporter's own reports, and tracking by tracking id."""

import json
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api import accounts, public
from api.deps import AppContext, ContextDep, NowDep, SessionDep
from api.errors import ReportNotFound
from api.nearby import support_state
from api.replies import find_visible
from api.schemas import CODE_PATTERN, MessageView, ReportView
from api.views import PUBLIC_STATUSES, ShownMessage, due_of, is_owner, load_shown, report_view, return_note
from api.web.render import map_policy, map_values, page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep
from api.web.timeline import event_lines
from lapor import masterdata
from lapor.models import MessageKind, Report, ReportStatus
from lapor.replies import sent_reply
from lapor.vocabulary import Actor

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
    "didukung": "Terima kasih, dukungan Anda tercatat. Anda juga akan menerima kabar perkembangan laporan ini.",
    "diikuti": "Anda mengikuti laporan ini dan akan menerima kabar perkembangannya.",
    "berhenti": "Anda tidak lagi mengikuti laporan ini.",
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
    context: ContextDep,
    now: NowDep,
    number: PageNumber = 1,
    kategori: FeedFilter = "",
    kecamatan: FeedFilter = "",
    status: FeedFilter = "",
) -> Response:
    """The public feed: the API's own query (verified, not confidential; names only when the reporter chose),
    filtered by category, kecamatan and status as the API's feed is."""
    items = public.feed(
        session,
        context,
        now,
        page=number,
        page_size=PAGE_SIZE,
        category=kategori or None,
        kecamatan=kecamatan or None,
        status=status or None,
    )
    chosen = {"kategori": kategori, "kecamatan": kecamatan, "status": status}
    query = urlencode({name: value for name, value in chosen.items() if value})
    points = [
        {"lat": i.latitude, "lon": i.longitude, "title": i.title, "url": f"/lacak/{i.tracking_id}"}
        for i in items.items
        if i.latitude is not None and i.longitude is not None
    ]
    return page(
        "umpan.html",
        web,
        # The map's scripts and tiles only when the page has a report to put on it; else no script at all.
        headers={"Content-Security-Policy": map_policy(context.settings.map_tile_url, connect=False)} if points else {},
        map_mode="daftar",
        map_points=json.dumps(points),
        **map_values(context.settings),
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
    """The tracking page of a report the viewer may see: `report_view` decides what it shows. A reply the reporter
    sent in this round replaces its form and the deadline at once, before the engine moves the report on."""
    shown = load_shown(session, report)
    view = report_view(session, report, viewer=web.reporter, context=context, now=now, shown=shown)
    owner = is_owner(report, web.reporter)
    sent = sent_reply(session, report) if owner else None
    can_supplement = owner and sent is None and report.status == ReportStatus.DIKEMBALIKAN.value
    note = return_note(report, shown) if can_supplement else None
    own_messages, return_notes, completion_index = _messages(view, shown_note=note)
    location = view.location
    point = None
    if location is not None and location.latitude is not None and location.longitude is not None:
        point = (location.latitude, location.longitude)
    map_headers = {"Content-Security-Policy": map_policy(context.settings.map_tile_url, connect=False)} if point else {}
    return page(
        "lacak.html",
        web,
        status_code=status_code,
        headers=map_headers,
        map_mode="lihat",
        **map_values(context.settings, point),
        view=view,
        notice_text=NOTICES.get(notice or ""),
        due=None if sent else due_of(report),
        sent=sent,
        events=event_lines(view.timeline, opd_name=view.opd.name if view.opd else None),
        can_supplement=can_supplement,
        return_note=note,
        can_confirm=owner and sent is None and report.status == ReportStatus.MENUNGGU_KONFIRMASI.value,
        can_comment=owner,
        errors=errors or {},
        form=form or {},
        own_messages=own_messages,
        return_notes=return_notes,
        completion_index=completion_index,
        support=support_state(session, report, web.reporter, view.support_count),
    )


def _messages(view: ReportView, *, shown_note: ShownMessage | None) -> tuple[list[MessageView], list[MessageView], int]:
    """The messages by who wrote them: the reporter's own and Admin Pengaduan's return notes (the owner's view
    holds both; the note the supplement form shows is not listed twice), and which of the OPD's texts is its
    latest completion (the proof photos go next to it)."""
    completions = [i for i, r in enumerate(view.responses) if r.kind == MessageKind.OPD_COMPLETION]
    notes = [m for m in view.messages if m.kind == MessageKind.RETURN_NOTE]
    if shown_note is not None:
        notes = [m for m in notes if (m.at, m.text) != (shown_note.at, shown_note.text)]
    own = [m for m in view.messages if m.author == Actor.PELAPOR]
    return own, notes, completions[-1] if completions else -1


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
