"""The staff's report page behind `reportSummaryUrl` (Tasklist forms): the whole report, in words, for Admin
Pengaduan and the OPD's field crew; never the reporter's name, e-mail or phone, never the private rating."""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.views import actor_label, status_view
from api.web.render import template_environment
from lapor import masterdata, nearby, reports, signed_links
from lapor.deadlines import STILL_OPEN
from lapor.models import EventKind, MessageKind, PhotoKind, Report, ReportEvent, ReportMessage
from lapor.notifications.templates import DAY_NAMES, format_date, format_due_date
from lapor.vocabulary import CHANNEL_NAMES, Actor, Deadline, ReportType

TEMPLATES = Path(__file__).parent / "staff_templates"

UNKNOWN = "tidak tercantum di data induk"  # a code the master data no longer knows: never shown as a code
EVENT_WHAT = {
    EventKind.REMINDER.value: "Pengingat batas waktu dikirim",
    EventKind.ESCALATION.value: "Eskalasi ke Koordinator",
    EventKind.NATIONAL_RETURN.value: "Dikembalikan ke Admin Pusat",
}

_Named = masterdata.Category | masterdata.Kecamatan | masterdata.Kelurahan | masterdata.Opd
REPORT_TYPES = {kind.value: kind.label for kind in ReportType}

_environment = template_environment(TEMPLATES)
# The page's only style is inline (staf.css, included by the page); the policy allows exactly that text by its hash.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_environment.get_template("staf.css").render().encode()).digest())
PAGE_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH.decode()}'; img-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "Referrer-Policy": "no-referrer",  # the URL is a bearer link: a map link must not carry it away
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True, slots=True)
class ShownPhoto:
    url: str
    label: str


@dataclass(frozen=True, slots=True)
class ShownDeadline:
    label: str
    due: str
    overdue: bool


@dataclass(slots=True)
class ShownMessage:
    label: str
    author: str
    at: str
    text: str
    tone: str  # the CSS class: who speaks, and a rejection stands out
    photos: list[ShownPhoto] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ShownEvent:
    at: str
    actor: str
    what: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Place:
    address: str
    kelurahan: str
    kecamatan: str
    coordinates: str | None
    map_links: list[tuple[str, str]]


@dataclass(slots=True)
class StaffPage:
    """Everything the page shows, already in words: the template formats nothing."""

    tracking_id: str
    title: str
    status: str
    status_class: str
    facts: list[tuple[str, str]]
    place: Place
    deadlines: list[ShownDeadline]
    description: str
    photos: list[ShownPhoto]
    media_url: str | None
    messages: list[ShownMessage]
    proof_photos: list[ShownPhoto]
    timeline: list[ShownEvent]
    confidential: bool
    valid_until: str


def day_in_words(day: date) -> str:
    """E.g. "Jumat, 20 November 2026"."""
    return f"{DAY_NAMES[day.weekday()]}, {format_date(day)}"


def _name(lookup: Callable[[str], _Named], code: str | None, missing: str) -> str:
    if not code:
        return missing
    return masterdata.name_of(lookup, code) or UNKNOWN


def _channel(report: Report) -> str:
    return reports.channel_name(report) if report.channel in CHANNEL_NAMES else "saluran lain"


def _degrees(value: float) -> str:
    """Decimal degrees to 6 places (about 10 cm), without trailing zeros: -0.0336, 109.3342."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _place(report: Report) -> Place:
    missing = "belum diketahui (ditentukan saat verifikasi)"
    kelurahan = _name(masterdata.get_kelurahan, report.kelurahan_code, missing)
    kecamatan = _name(masterdata.get_kecamatan, report.kecamatan_code, missing)
    if report.latitude is not None and report.longitude is not None:
        lat, lon = _degrees(report.latitude), _degrees(report.longitude)
        osm = f"https://www.openstreetmap.org/?{urlencode({'mlat': lat, 'mlon': lon})}#map=18/{lat}/{lon}"
        google = f"https://www.google.com/maps/search/?{urlencode({'api': '1', 'query': f'{lat},{lon}'})}"
        return Place(
            report.address,
            kelurahan,
            kecamatan,
            f"{lat}, {lon}",
            [("Buka di OpenStreetMap", osm), ("Buka di Google Maps", google)],
        )
    links = []
    if report.address:  # no coordinates: the crew can still search the address
        known = masterdata.name_of(masterdata.get_kelurahan, report.kelurahan_code) if report.kelurahan_code else None
        where = ", ".join(p for p in (report.address, known, "Pontianak") if p)
        links = [("Cari alamat di Google Maps", f"https://www.google.com/maps/search/?api=1&query={quote(where)}")]
    return Place(report.address or "belum diketahui", kelurahan, kecamatan, None, links)


def _deadlines(report: Report, now: datetime, *, completion_reported: bool) -> list[ShownDeadline]:
    """The deadlines of the step the report is in (columns keep a finished step's date until its next round)."""
    wanted = list(STILL_OPEN.get(report.status, ()))
    if report.disposition_due_at is not None:  # verified: the disposition runs (the status changes after it)
        wanted = [d for d in wanted if d is not Deadline.VERIFICATION]
    if report.response_due_at is not None:  # dispatched
        wanted = [d for d in wanted if d is not Deadline.DISPOSITION]
    if report.report_type != ReportType.PENGADUAN:  # the OPD's answer is the result: no completion step
        wanted = [d for d in wanted if d is not Deadline.OPD_COMPLETION]
    # In PROSES the OPD works until it reports completion in this round; then Admin Pengaduan documents it.
    done = Deadline.OPD_COMPLETION if completion_reported else Deadline.DOCUMENTATION
    wanted = [d for d in wanted if d is not done]
    shown = []
    for deadline in wanted:
        due: datetime | None = getattr(report, deadline.column) if deadline.column else None
        if due is not None:
            shown.append(ShownDeadline(f"Batas waktu {deadline.label}", format_due_date(due), due <= now))
    return shown


def _message_label(message: ReportMessage) -> tuple[str, str]:
    """What staff read above a message, and its tone (a CSS class)."""
    if message.kind == MessageKind.CONFIRMATION:
        if message.accepted is False:
            return "Alasan penolakan pelapor", "tolak"
        if message.accepted:
            return "Pelapor menerima hasil tindak lanjut", "terima"
    if message.kind == MessageKind.RETURN_NOTE:
        return "Catatan pengembalian dari Admin Pengaduan", "admin"
    try:
        label = MessageKind(message.kind).label
    except ValueError:
        label = "Pesan"
    return label, {Actor.OPD.value: "opd", Actor.ADMIN_PENGADUAN.value: "admin"}.get(message.author, "pelapor")


def _messages(rows: list[ReportMessage], photos: list[signed_links.SignedPhoto]) -> list[ShownMessage]:
    shown: dict[int, ShownMessage] = {}
    for message in rows:
        label, tone = _message_label(message)
        author = actor_label(message.author)
        shown[message.id] = ShownMessage(label, author, format_due_date(message.created_at), message.text, tone)
    for photo in photos:
        if photo.message_id is not None and (owner := shown.get(photo.message_id)) is not None:
            owner.photos.append(ShownPhoto(photo.url, f"Foto kelengkapan {len(owner.photos) + 1}"))
    return list(shown.values())


def _timeline(events: list[ReportEvent]) -> list[ShownEvent]:
    return [
        ShownEvent(
            at=format_due_date(event.occurred_at),
            actor=actor_label(event.actor),
            what=(
                f"Status menjadi {status_view(event.status or '').label}"
                if event.kind == EventKind.STATUS and event.status
                else EVENT_WHAT.get(event.kind, "Catatan")
            ),
            note=event.detail,
        )
        for event in events
    ]


def _facts(report: Report) -> list[tuple[str, str]]:
    """The heading's facts: what, where it came in, by whom (never who), when."""
    facts = [
        ("Jenis", REPORT_TYPES.get(report.report_type, "tidak dikenal")),
        ("Kategori", _name(masterdata.get_category, report.category, "belum ditentukan")),
        ("Perangkat daerah", _name(masterdata.get_opd, report.opd_code, "belum didisposisi")),
        ("Diterima melalui", _channel(report)),
        ("Pelapor", "Pelapor anonim" if report.anonymous else "Pelapor terdaftar"),
    ]
    if report.incident_date is not None:
        facts.append(("Tanggal kejadian", day_in_words(report.incident_date)))
    facts.append(("Dikirim", format_due_date(report.created_at)))
    if report.closed_at is not None:
        facts.append(("Berakhir", format_due_date(report.closed_at)))
    return facts


def build(
    session: Session, report: Report, *, now: datetime, photos_until: datetime, link_until: datetime, key: bytes
) -> StaffPage:
    """The page of one report as staff see it; photo links are signed until `photos_until`."""
    reporter_photos = signed_links.signed_photos(session, report, PhotoKind.REPORT, photos_until, "", key=key)
    proof = signed_links.signed_photos(session, report, PhotoKind.PROOF, photos_until, "", key=key)
    # The rating of confirmations is never read into the page: it is the reporter's private word.
    messages = list(
        session.scalars(
            select(ReportMessage)
            .where(ReportMessage.report_id == report.id)
            .order_by(ReportMessage.created_at, ReportMessage.id)
        )
    )
    events = list(
        session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report.id)
            .order_by(ReportEvent.occurred_at, ReportEvent.id)
        )
    )
    last_status = max((e.occurred_at for e in events if e.kind == EventKind.STATUS), default=report.created_at)
    completion_reported = any(m.kind == MessageKind.OPD_COMPLETION and m.created_at >= last_status for m in messages)
    status = status_view(report.status)
    return StaffPage(
        tracking_id=report.tracking_id,
        title=report.title,
        status=status.label,
        status_class=f"status-{report.status.lower()}",
        facts=[*_facts(report), ("Dukungan warga", _supporters(session, report))],
        place=_place(report),
        deadlines=_deadlines(report, now, completion_reported=completion_reported),
        description=report.description,
        photos=[
            ShownPhoto(p.url, f"Foto laporan {n}")
            for n, p in enumerate((p for p in reporter_photos if p.message_id is None), start=1)
        ],
        media_url=report.media_url,
        messages=_messages(messages, reporter_photos),
        proof_photos=[ShownPhoto(p.url, f"Foto bukti penyelesaian {n}") for n, p in enumerate(proof, start=1)],
        timeline=_timeline(events),
        confidential=report.confidential,
        valid_until=format_due_date(link_until),
    )


def _supporters(session: Session, report: Report) -> str:
    """How many citizens said "Saya juga mengalami": a weight for priorities, never who they are."""
    count = nearby.support_counts(session, [report.id]).get(report.id, 0)
    return f"{count} warga juga mengalami" if count else "Belum ada"


def render(page: StaffPage) -> str:
    return _environment.get_template("laporan.html").render(page=page)
