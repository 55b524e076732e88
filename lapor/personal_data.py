"""A reporter's data on request (UU No. 27/2022 on personal data protection): everything the city holds about one
reporter, collected in one place for the citizen page, the API and the front desk (issue 23 item 1).

`collect` gathers, for one reporter and nobody else: their identity, their sign-ins (never the token), the
registrations they proved, every report filed under their identity (anonymous and confidential ones included: the
options hide the reporter from others, not from themself) with its timeline, messages, photos and notification
ledger rows, their ratings, the notices of their registration codes, their consent choices, and the record of who
read their identity or exported their data. `to_zip` packs it as one file: `data.json` (machine-readable, every
field with its code and its words) and the photo files under `photos/`, so the reporter keeps a complete copy that
needs no sign-in or link that expires. Every export is recorded on the reporter's own audit chain
(lapor.reporter_audit), as is every read of their identity by staff (`record_identity_read`).

`collect` is the map of where a reporter's data lives, and `NOT_INCLUDED` says what is held but not handed out, and
why; lapor.erasure removes the identity from the same places (issue 23 item 2), lapor.retention on a schedule.
"""

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lapor import consent, masterdata, reporter_audit, reporters
from lapor.audit import AuditActor
from lapor.models import (
    MessageKind,
    Notification,
    Photo,
    RegistrationCode,
    Report,
    Reporter,
    ReporterToken,
    ReportEvent,
    ReportFollower,
    ReportMessage,
    ReportStatus,
    ReportSupport,
)
from lapor.uploads import path_of
from lapor.vocabulary import FOLLOWER, Actor, ReportType, channel_words

FORMAT = "lapor-pontianak/data-pelapor/1"
DATA_FILE = "data.json"
README_FILE = "BACA-SAYA.txt"
CONTROLLER = "Pemerintah Kota Pontianak (Dinas Komunikasi dan Informatika), pengelola LAPOR! Kota Pontianak"
# What the city holds that the export leaves out, and why (shown on the page and in data.json).
NOT_INCLUDED = (
    "Token masuk dan kode verifikasi: hanya sidik (hash) yang disimpan; tidak dapat dan tidak perlu diserahkan.",
    "Catatan pembatasan permintaan (rate limit): hanya sidik alamat IP/kontak, dihapus setelah jendelanya lewat.",
    "Jejak audit per laporan: mencatat tindakan petugas dan layanan pada laporan, tanpa identitas pelapor.",
)


class ExportVia(StrEnum):
    """Where the export was asked for."""

    WEB = "web"  # the citizen page
    API = "api"  # GET /reporters/me/data
    FRONT_DESK = "meja_depan"  # staff, for a request made in person
    WRITTEN = "tertulis"  # the operator's command, for a request by letter or e-mail

    @property
    def label(self) -> str:
        return {
            "web": "Halaman warga",
            "api": "API",
            "meja_depan": "Meja depan (petugas)",
            "tertulis": "Permintaan tertulis (operator)",
        }[self.value]


@dataclass(frozen=True, slots=True)
class PhotoFile:
    """One photo of the export: its name in the ZIP and where it lives (None when the file is missing)."""

    name: str
    path: Path | None


@dataclass(frozen=True, slots=True)
class PersonalData:
    reporter_id: int
    data: dict[str, Any]
    photos: tuple[PhotoFile, ...]

    @property
    def report_count(self) -> int:
        return len(self.data["reports"])


# -- finding the reporter ------------------------------------------------------------------------------------------
def find_reporter(session: Session, *, email: str | None = None, phone: str | None = None) -> Reporter | None:
    """The reporter with this e-mail address or phone number (normalised as at registration); None for nobody, and
    None when the two name different reporters (the front desk asks for one contact)."""
    clauses = []
    if email:
        clauses.append(Reporter.email == reporters.normalize_email(email))
    if phone:
        clauses.append(Reporter.phone == reporters.normalize_phone(phone))
    if not clauses:
        return None
    found = list(session.scalars(select(Reporter).where(or_(*clauses)).limit(2)))
    return found[0] if len(found) == 1 else None


# -- collecting ----------------------------------------------------------------------------------------------------
def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _words(enum: Any, code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return str(enum(code).label)
    except ValueError:
        return code


def _identity(reporter: Reporter) -> dict[str, Any]:
    return {
        "name": reporter.name,
        "email": reporter.email,
        "phone": reporter.phone,
        "verified_at": _iso(reporter.verified_at),
        "registered_at": _iso(reporter.created_at),
    }


def _sign_ins(session: Session, reporter: Reporter) -> list[dict[str, Any]]:
    tokens = session.scalars(
        select(ReporterToken).where(ReporterToken.reporter_id == reporter.id).order_by(ReporterToken.id)
    )
    return [
        {"created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at), "revoked_at": _iso(t.revoked_at)}
        for t in tokens
    ]


def _registrations(session: Session, reporter: Reporter) -> list[RegistrationCode]:
    """The registrations, sign-ins and corrections the reporter proved with a code sent to their own e-mail or phone
    (an attempt nobody proved may have been typed by someone else: it is not theirs to receive)."""
    clauses = [RegistrationCode.email == reporter.email] if reporter.email else []
    clauses += [RegistrationCode.phone == reporter.phone] if reporter.phone else []
    clauses.append(RegistrationCode.reporter_id == reporter.id)  # corrections, and proofs of a corrected contact
    return list(
        session.scalars(
            select(RegistrationCode)
            .where(or_(*clauses), RegistrationCode.verified_at.is_not(None))
            .order_by(RegistrationCode.id)
        )
    )


def _notification(row: Notification, tracking_id: str | None) -> dict[str, Any]:
    return {
        "tracking_id": tracking_id,
        "template": row.template,
        "recipient_kind": row.recipient_kind,
        "recipient_name": _words(Actor, row.recipient_kind),
        "channel": row.channel,
        "state": row.state,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
    }


def _location(report: Report) -> dict[str, Any]:
    return {
        "kecamatan": {
            "code": report.kecamatan_code,
            "name": masterdata.name_of(masterdata.get_kecamatan, report.kecamatan_code),
        },
        "kelurahan": {
            "code": report.kelurahan_code,
            "name": masterdata.name_of(masterdata.get_kelurahan, report.kelurahan_code),
        },
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
    }


def _report(report: Report) -> dict[str, Any]:
    return {
        "tracking_id": report.tracking_id,
        "channel": report.channel,
        "source": report.source,
        "channel_name": channel_words(report.channel, report.source),
        "report_type": {"code": report.report_type, "name": _words(ReportType, report.report_type)},
        "title": report.title,
        "description": report.description,
        "category": {"code": report.category, "name": masterdata.name_of(masterdata.get_category, report.category)},
        "location": _location(report),
        "incident_date": _iso(report.incident_date),
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "show_name": report.show_reporter_name,
        "media_url": report.media_url,
        "status": {"code": report.status, "name": _words(ReportStatus, report.status)},
        "opd": None
        if report.opd_code is None
        else {"code": report.opd_code, "name": masterdata.name_of(masterdata.get_opd, report.opd_code)},
        "created_at": _iso(report.created_at),
        "closed_at": _iso(report.closed_at),
        "deadlines": {name: _iso(getattr(report, f"{name}_due_at")) for name in _DEADLINES},
    }


_DEADLINES = ("verification", "disposition", "response", "completion", "documentation", "supplement", "confirmation")


def _photo_name(tracking_id: str, number: int, photo: Photo) -> str:
    suffix = path_of(Path(), photo.sha256, photo.content_type).suffix
    return f"photos/{tracking_id}/{number:02d}-{photo.kind}{suffix}"


_Row = TypeVar("_Row")


def _by_report(rows: Sequence[_Row], report_id_of: Callable[[_Row], int]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(report_id_of(row), []).append(row)
    return grouped


def collect(session: Session, reporter: Reporter, *, upload_dir: Path, now: datetime) -> PersonalData:
    """Everything held about this reporter, and only about them: see the module's docstring."""
    mine = list(session.scalars(select(Report).where(Report.reporter_id == reporter.id).order_by(Report.id)))
    ids = [r.id for r in mine]
    events = _by_report(
        list(session.scalars(select(ReportEvent).where(ReportEvent.report_id.in_(ids)).order_by(ReportEvent.id))),
        lambda e: e.report_id,
    )
    messages = _by_report(
        list(session.scalars(select(ReportMessage).where(ReportMessage.report_id.in_(ids)).order_by(ReportMessage.id))),
        lambda m: m.report_id,
    )
    photos = _by_report(
        list(session.scalars(select(Photo).where(Photo.report_id.in_(ids)).order_by(Photo.id))), lambda p: p.report_id
    )
    proved = _registrations(session, reporter)
    code_keys = [f"registration:{r.public_id}:{contact}" for r in proved for contact in ("email", "phone")]
    # The notices of someone else's report they follow are theirs too: the ledger keys them by the follower's id.
    as_follower = Notification.idempotency_key.like(f"%:{FOLLOWER}:{reporter.id}")
    notices = list(
        session.scalars(
            select(Notification)
            .where(or_(Notification.report_id.in_(ids), Notification.idempotency_key.in_(code_keys), as_follower))
            .order_by(Notification.id)
        )
    )
    supported = list(
        session.execute(
            select(Report.tracking_id, ReportSupport.created_at)
            .join(ReportSupport, ReportSupport.report_id == Report.id)
            .where(ReportSupport.reporter_id == reporter.id)
            .order_by(ReportSupport.id)
        )
    )
    followed = list(
        session.execute(
            select(Report.id, Report.tracking_id, ReportFollower.created_at)
            .join(ReportFollower, ReportFollower.report_id == Report.id)
            .where(ReportFollower.reporter_id == reporter.id)
            .order_by(ReportFollower.id)
        )
    )
    tracking = {r.id: r.tracking_id for r in mine} | {row[0]: row[1] for row in followed}
    files: list[PhotoFile] = []
    reports_out, ratings = [], []
    for report in mine:
        entry = _report(report)
        entry["timeline"] = [
            {
                "kind": e.kind,
                "status": {"code": e.status, "name": _words(ReportStatus, e.status)} if e.status else None,
                "actor": {"code": e.actor, "name": _words(Actor, e.actor)},
                "detail": e.detail,
                "occurred_at": _iso(e.occurred_at),
            }
            for e in events.get(report.id, [])
        ]
        entry["messages"] = [
            {
                "kind": m.kind,
                "kind_name": _message_words(m.kind),
                "author": {"code": m.author, "name": _words(Actor, m.author)},
                "text": m.text,
                "accepted": m.accepted,
                "rating": m.rating,
                "created_at": _iso(m.created_at),
            }
            for m in messages.get(report.id, [])
        ]
        ratings += [
            {"tracking_id": report.tracking_id, "rating": m.rating, "accepted": m.accepted, "at": _iso(m.created_at)}
            for m in messages.get(report.id, [])
            if m.rating is not None
        ]
        entry["photos"] = []
        for number, photo in enumerate(photos.get(report.id, []), start=1):
            name = _photo_name(report.tracking_id, number, photo)
            stored = path_of(upload_dir, photo.sha256, photo.content_type)
            present = stored.is_file()
            files.append(PhotoFile(name, stored if present else None))
            entry["photos"].append(
                {
                    "file": name if present else None,
                    "kind": photo.kind,
                    "content_type": photo.content_type,
                    "size_bytes": photo.size_bytes,
                    "sha256": photo.sha256,
                    "created_at": _iso(photo.created_at),
                }
            )
        reports_out.append(entry)
    data = {
        "format": FORMAT,
        "generated_at": _iso(now),
        "controller": CONTROLLER,
        "identity": _identity(reporter),
        "sign_ins": _sign_ins(session, reporter),
        "registrations": [
            {
                "contacts": [c for c, v in (("email", r.email), ("phone", r.phone)) if v],
                "name": r.name or None,
                "created_at": _iso(r.created_at),
                "verified_at": _iso(r.verified_at),
            }
            for r in proved
        ],
        "consent": [
            {
                "choice": c.choice,
                "choice_name": consent.label_of(c.choice),
                "granted": c.granted,
                "tracking_id": tracking.get(c.report_id) if c.report_id is not None else None,
                "channel": c.channel,
                "channel_name": channel_words(c.channel),
                "recorded_by": c.recorded_by,
                "origin": c.origin,
                "recorded_at": _iso(c.recorded_at),
            }
            for c in consent.choices_of(session, reporter.id)
        ],
        "reports": reports_out,
        "ratings": ratings,
        # Someone else's public reports they said they also experienced ("Saya juga mengalami") and follow.
        "supports": [{"tracking_id": t, "at": _iso(at)} for t, at in supported],
        "follows": [{"tracking_id": t, "at": _iso(at)} for _, t, at in followed],
        "notifications": [_notification(n, tracking.get(n.report_id) if n.report_id else None) for n in notices],
        "access_record": [
            {
                "seq": a.seq,
                "at": _iso(a.occurred_at),
                "action": a.action,
                "action_name": _words(reporter_audit.ReporterAction, a.action),
                "actor_kind": a.actor_kind,
                "actor": a.actor,
                "detail": json.loads(a.detail),
            }
            for a in reporter_audit.entries(session, reporter)
        ],
        "not_included": list(NOT_INCLUDED),
    }
    return PersonalData(reporter.id, data, tuple(files))


def _message_words(kind: str) -> str:
    return _words(MessageKind, kind) or kind


# -- recording -----------------------------------------------------------------------------------------------------
def record_export(
    session: Session, reporter: Reporter, *, via: ExportVia, actor_kind: AuditActor, actor: str, at: datetime
) -> None:
    """The export on the reporter's chain, in the caller's transaction: before collecting, so the file holds it."""
    reports = session.scalars(select(Report.id).where(Report.reporter_id == reporter.id)).all()
    reporter_audit.record(
        session,
        reporter,
        action=reporter_audit.ReporterAction.DATA_EXPORTED,
        actor_kind=actor_kind,
        actor=actor,
        at=at,
        detail={"via": via.value, "format": "zip", "reports": len(reports), "text": f"Data diunduh: {via.label}"},
    )


def record_identity_read(
    session: Session, reporter: Reporter, *, staff: str, page: str, found_by: str, at: datetime
) -> None:
    """A staff page showed this reporter's identity: who, on which page, how they found the reporter (never the
    address they typed)."""
    reporter_audit.record(
        session,
        reporter,
        action=reporter_audit.ReporterAction.IDENTITY_READ,
        actor_kind=AuditActor.STAF,
        actor=staff,
        at=at,
        detail={"page": page, "found_by": found_by, "text": f"Identitas dibuka di {page}"},
    )


# -- packing -------------------------------------------------------------------------------------------------------
_README = """Data pribadi Anda di LAPOR! Kota Pontianak

Berkas ini berisi seluruh data yang disimpan Pemerintah Kota Pontianak tentang Anda sebagai pelapor, sesuai
UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi:

- data.json: identitas, laporan (dengan riwayat, pesan, dan daftar foto), penilaian, catatan pemberitahuan,
  pilihan persetujuan, dan catatan akses petugas atas identitas Anda, dalam format JSON (UTF-8).
- photos/: berkas foto laporan Anda, satu folder per nomor laporan.

Untuk perbaikan atau penghapusan data, hubungi Diskominfo Kota Pontianak (diskominfo@pontianak.go.id).
"""


def write_zip(personal: PersonalData, out: IO[bytes]) -> None:
    """data.json, the photos and a short note in Bahasa Indonesia, as one ZIP written to `out` (a file, so a
    reporter with many photos is never held in memory whole); photos stored, not recompressed."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(README_FILE, _README)
        archive.writestr(DATA_FILE, json.dumps(personal.data, ensure_ascii=False, indent=2))
        for photo in personal.photos:
            if photo.path is not None:
                archive.write(photo.path, photo.name, compress_type=zipfile.ZIP_STORED)


def to_zip(personal: PersonalData) -> bytes:
    out = io.BytesIO()
    write_zip(personal, out)
    return out.getvalue()


def file_name(personal: PersonalData) -> str:
    """The download's name: the date only, never the reporter's name (it may sit in a shared Downloads folder)."""
    return f"data-pelapor-lapor-pontianak-{personal.data['generated_at'][:10]}.zip"
