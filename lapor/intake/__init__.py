"""The one intake: every channel (web page, JSON API, SMS 1708, staff, national, Open311, the front desk) hands a
typed request here, and gets the report back or a refusal (`lapor.refusals.Refused`).

Order of work, cheapest first so refused work costs nothing: limits (the photo count), master data, the incident
date, the text; then the photos are decoded under the limits; then the report (built once, every column at
insert), its photos, the audit trail's first entry and the start command are written in one transaction, retried
whole when a concurrent insert of the same unique value refused it (`commit_once`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapor import audit, consent, masterdata, outbox, reporters, reports, text, uploads

# The photo helpers are part of the intake's interface (api/ decodes an async route's photos with them).
from lapor.intake.photos import PhotoRules as PhotoRules
from lapor.intake.photos import PhotoTooLarge as PhotoTooLarge
from lapor.intake.photos import PhotoUnsupported as PhotoUnsupported
from lapor.intake.photos import add_photos as add_photos
from lapor.intake.photos import decode_photo as decode_photo
from lapor.intake.photos import decode_photos as decode_photos
from lapor.intake.photos import unique as unique
from lapor.models import Report, Reporter, ReportStatus
from lapor.refusals import Refused
from lapor.vocabulary import ReportType
from lapor.workdays import PONTIANAK_TZ

_log = structlog.stdlib.get_logger(__name__)

UNPLACED_CATEGORY = "LAINNYA"  # a report whose place is not known yet (a free-text SMS)


# -- refusals, in the order they are checked ---------------------------------------------------------------------
class TooManyFiles(Refused):
    code = "too_many_files"
    message = f"Paling banyak {uploads.MAX_FILES} foto per pengiriman."


class PhotosRequired(Refused):
    code = "photos_required"
    message = "Lampirkan minimal satu foto."


class UnknownCategory(Refused):
    code = "unknown_category"
    message = "Kategori laporan tidak dikenal."


class UnknownLocation(Refused):
    code = "unknown_location"
    message = "Kecamatan atau kelurahan tidak dikenal di Kota Pontianak."


class InvalidIncidentDate(Refused):
    code = "invalid_incident_date"
    message = "Tanggal kejadian tidak boleh di masa depan."


class InvalidText(Refused):
    code = "invalid_text"
    message = "Teks mengandung karakter kontrol atau karakter tak terlihat."


# The e-mail of one reporter and the phone of another: refused as at registration.
IdentityConflict = reporters.IdentityConflict


# -- the request -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReportData:
    """What a channel says about a report, already in the form the schemas checked (codes as the gazetteer has them)."""

    title: str
    description: str
    category: str
    kecamatan: str
    kelurahan: str
    address: str
    report_type: str = ReportType.PENGADUAN.value
    incident_date: date | None = None
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    confidential: bool = False
    show_name: bool = False  # the reporter's own choice; anonymous wins over it

    @classmethod
    def unplaced(cls, *, title: str, description: str, report_type: ReportType) -> "ReportData":
        """A report whose place is not known yet: Admin Pengaduan reads it at verification and the disposisi picks
        the OPD (the routing DMN falls back to Diskominfo)."""
        return cls(title, description, UNPLACED_CATEGORY, "", "", "", report_type=report_type.value)

    @property
    def placed(self) -> bool:
        return bool(self.kecamatan or self.kelurahan)


@dataclass(frozen=True, slots=True)
class Contact:
    """The reporter a channel names without a login (staff intake, an SMS sender): found by e-mail or phone, or
    created unverified."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a report came from besides its channel: the source, an external system's reference (intake is
    idempotent on it) and the staff login that filed it (for the audit trail)."""

    source: str | None = None
    external_ref: str | None = None
    filed_by: str | None = None


@dataclass(frozen=True, slots=True)
class IntakeRequest:
    """One report as a channel hands it in; photos as raw bytes or already decoded (an async caller decodes them
    off its event loop with `decode_photo`)."""

    data: ReportData
    channel: str
    reporter_id: int | None = None  # a signed-in reporter
    contact: Contact | None = None  # or the contact details a channel names
    origin: Origin = Origin()
    photos: tuple[bytes | uploads.CleanImage, ...] = ()
    photos_required: bool = False
    media_url: str | None = None  # Open311's link, kept, never fetched


@dataclass(frozen=True, slots=True)
class Accepted:
    report: Report
    duplicate: bool  # this external reference was received before; nothing new was written
    photos: int = 0


# -- cheap checks ------------------------------------------------------------------------------------------------
def check_photo_count(count: int, *, required: bool) -> None:
    if count > uploads.MAX_FILES:
        raise TooManyFiles(details={"max_files": uploads.MAX_FILES})
    if required and count == 0:
        raise PhotosRequired()


def check_master_data(data: ReportData) -> None:
    try:
        masterdata.get_category(data.category)
    except masterdata.MasterDataError as err:
        raise UnknownCategory(str(err), details={"field": "category"}) from None
    if not data.placed and data.category == UNPLACED_CATEGORY:
        return
    try:
        masterdata.check_location(data.kecamatan, data.kelurahan)
    except masterdata.MasterDataError as err:
        raise UnknownLocation(str(err), details={"fields": ["kecamatan", "kelurahan"]}) from None


def check_incident_date(incident_date: date | None, now: datetime) -> None:
    if incident_date is not None and incident_date > now.astimezone(PONTIANAK_TZ).date():
        raise InvalidIncidentDate(details={"field": "incident_date"})


def check_text(request: IntakeRequest) -> None:
    """What a page will show, as lapor.text allows it (the API's schemas refuse the same earlier, field by field)."""
    data, name = request.data, request.contact.name if request.contact else None
    lines = {"title": data.title, "address": data.address, "reporter_name": name or ""}
    for field_name, value in [*lines.items(), ("description", data.description)]:
        rule = text.storable_text if field_name == "description" else text.storable
        try:
            rule(value)
        except ValueError as err:
            raise InvalidText(details={"field": field_name, "message": str(err)}) from None


def check(request: IntakeRequest, now: datetime) -> None:
    """Everything that costs no photo decoding, in the order a refusal is reported; microseconds."""
    if request.channel not in reports.CHANNELS:
        raise ValueError(f"unknown channel {request.channel!r}")  # a programming error, not the sender's
    if request.data.report_type not in reports.REPORT_TYPES:
        raise ValueError(f"unknown report type {request.data.report_type!r}")  # the schemas refuse it first
    check_photo_count(len(request.photos), required=request.photos_required)
    check_master_data(request.data)
    check_incident_date(request.data.incident_date, now)
    check_text(request)


# -- writing -----------------------------------------------------------------------------------------------------
def contact_reporter(session: Session, contact: Contact, now: datetime) -> Reporter | None:
    """The reporter a channel names: found by e-mail or phone, or created unverified (no token, no login)."""
    if not (contact.name or contact.email or contact.phone):
        return None
    clauses = [Reporter.email == contact.email] if contact.email else []
    clauses += [Reporter.phone == contact.phone] if contact.phone else []
    found = list(session.scalars(select(Reporter).where(or_(*clauses)))) if clauses else []
    if len(found) > 1:
        raise IdentityConflict()
    if found:
        return found[0]
    reporter = Reporter(
        name=contact.name or "Pelapor", email=contact.email, phone=contact.phone, verified_at=None, created_at=now
    )
    session.add(reporter)
    session.flush()
    return reporter


def insert_report(
    session: Session,
    data: ReportData,
    *,
    channel: str,
    reporter_id: int | None,
    now: datetime,
    origin: Origin = Origin(),
    media_url: str | None = None,
) -> Report:
    """The report row, built once with every column, under a freshly drawn tracking id."""
    return reports.insert_with_tracking_id(
        session,
        now,
        lambda tracking_id: Report(
            tracking_id=tracking_id,
            reporter_id=reporter_id,
            channel=channel,
            report_type=data.report_type,
            title=data.title,
            description=data.description,
            category=data.category,
            kecamatan_code=data.kecamatan,
            kelurahan_code=data.kelurahan,
            address=data.address,
            incident_date=data.incident_date,
            latitude=data.latitude,
            longitude=data.longitude,
            anonymous=data.anonymous,
            confidential=data.confidential,
            show_reporter_name=data.show_name and not data.anonymous,
            status=ReportStatus.BELUM_TERVERIFIKASI.value,
            created_at=now,
            source=origin.source,
            external_ref=origin.external_ref,
            media_url=media_url,
        ),
    )


def _write(
    session: Session, request: IntakeRequest, images: list[uploads.CleanImage], rules: PhotoRules, now: datetime
) -> Report:
    """Report, photos, the audit trail's first entry and the start command, in the caller's transaction."""
    reporter_id = request.reporter_id
    if request.contact is not None:
        reporter = contact_reporter(session, request.contact, now)
        reporter_id = reporter.id if reporter is not None else None
    report = insert_report(
        session,
        request.data,
        channel=request.channel,
        reporter_id=reporter_id,
        now=now,
        origin=request.origin,
        media_url=request.media_url,
    )
    add_photos(session, rules.upload_dir, report=report, images=images, now=now)
    outbox.enqueue_start(
        session, report=report, variables=reports.process_variables(report, photo_count=len(images)), now=now
    )
    origin = request.origin
    consent.record_report_choices(session, report, recorded_by=origin.filed_by, at=now)
    audit.record_received(
        session,
        report,
        photos=len(images),
        source=origin.source,
        external_ref=origin.external_ref,
        filed_by=origin.filed_by,
        at=now,
    )
    return report


def accept(session: Session, request: IntakeRequest, *, rules: PhotoRules, now: datetime) -> Accepted:
    """Check, decode, write and commit one report: the intake of every channel.

    Raises a `Refused` before anything is written; a request with an external reference received before answers
    the first report (`duplicate`), also when both arrive at once.
    """
    check(request, now)
    images = decode_photos(rules, request.photos)
    report, duplicate = commit_once(
        session, lambda: _write(session, request, images, rules, now), reference=request.origin.external_ref
    )
    return Accepted(report, duplicate, photos=0 if duplicate else len(images))


def report_by_ref(session: Session, external_ref: str) -> Report | None:
    """The report an external system sent before under this reference."""
    return session.scalar(select(Report).where(Report.external_ref == external_ref))


_ATTEMPTS = 3


def commit_once(session: Session, create: Callable[[], Report], *, reference: str | None = None) -> tuple[Report, bool]:
    """Create a report and commit, safe against a concurrent request: (the report, whether it was there before).

    Two requests at once that insert the same unique value (the same external reference, a new reporter's
    e-mail or phone) both pass their lookups; PostgreSQL makes the second insert wait for the first commit and then
    refuses it. That transaction is rolled back whole and tried again, and the retry finds what the first one
    wrote: the report under the same reference (answered as a duplicate) or the reporter (reused). No 500, and no
    message is lost.
    """
    for attempt in range(_ATTEMPTS):
        if reference is not None and (earlier := report_by_ref(session, reference)) is not None:
            return earlier, True
        try:
            report = create()
            session.commit()
        except IntegrityError:
            session.rollback()
            if attempt == _ATTEMPTS - 1:
                raise
            _log.info("intake.retry_after_conflict", attempt=attempt + 1)
            continue
        except BaseException:
            session.rollback()  # a refusal found while writing (IdentityConflict) leaves nothing half written
            raise
        return report, False
    raise AssertionError("unreachable")  # the last attempt returns or raises
