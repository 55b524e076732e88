"""Taking a report in, for every channel: checks, photos, the report row and its start command, one transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import anyio.to_thread
import structlog
from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import AppContext
from api.errors import PayloadTooLarge, UnknownCategory, UnknownLocation, Unprocessable, UnsupportedMediaType
from api.schemas import ReportFields
from lapor import audit, masterdata, outbox, reports, uploads
from lapor.models import Photo, PhotoKind, Report, Reporter, ReportStatus
from lapor.vocabulary import ReportType
from lapor.workdays import PONTIANAK_TZ

_log = structlog.stdlib.get_logger(__name__)


class PhotosRequired(Unprocessable):
    code = "photos_required"
    message = "Lampirkan minimal satu foto."


class TooManyFiles(Unprocessable):
    code = "too_many_files"
    message = f"Paling banyak {uploads.MAX_FILES} foto per pengiriman."


class InvalidIncidentDate(Unprocessable):
    code = "invalid_incident_date"
    message = "Tanggal kejadian tidak boleh di masa depan."


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a report came from besides its channel (staff intake source, external reference)."""

    source: str | None = None
    external_ref: str | None = None
    filed_by: str | None = None  # the staff login that filed it (the front desk), for the audit trail


def _check_count(files: list[UploadFile], *, required: bool) -> None:
    if len(files) > uploads.MAX_FILES:
        raise TooManyFiles(details={"max_files": uploads.MAX_FILES})
    if required and not files:
        raise PhotosRequired()


def _clean(context: AppContext, index: int, data: bytes) -> uploads.CleanImage:
    """One photo decoded and re-encoded, in a worker thread, holding one of the process's image slots."""
    max_pixels = context.settings.max_image_pixels
    try:
        with context.image_slots:
            return uploads.clean_image(data, max_pixels=max_pixels)
    except uploads.FileTooLarge:
        raise PayloadTooLarge(
            f"Foto ke-{index + 1} melebihi {uploads.MAX_BYTES // (1024 * 1024)} MB "
            f"atau {max_pixels // 1_000_000} megapiksel.",
            details={"file_index": index, "max_bytes": uploads.MAX_BYTES, "max_pixels": max_pixels},
        ) from None
    except uploads.IncompleteImage:
        raise UnsupportedMediaType(
            f"Foto ke-{index + 1} rusak atau terpotong: isi gambarnya tidak selengkap ukuran yang tertulis.",
            details={"file_index": index, "reason": "incomplete_image"},
        ) from None
    except uploads.UnsupportedImage:
        raise UnsupportedMediaType(
            f"Foto ke-{index + 1} bukan gambar JPEG, PNG, atau WebP yang valid.", details={"file_index": index}
        ) from None


def _unique(images: list[uploads.CleanImage]) -> list[uploads.CleanImage]:
    return list({image.sha256: image for image in reversed(images)}.values())[::-1]  # the same photo once


def read_photos(context: AppContext, files: list[UploadFile], *, required: bool) -> list[uploads.CleanImage]:
    """Every photo checked from its bytes and re-encoded; refused before anything is written (sync routes)."""
    _check_count(files, required=required)
    return _unique([_clean(context, i, upload.file.read(uploads.MAX_BYTES + 1)) for i, upload in enumerate(files)])


async def decode_photos(context: AppContext, files: list[UploadFile], *, required: bool) -> list[uploads.CleanImage]:
    """As read_photos, for async callers: the decoding runs in a worker thread and a request waiting for an
    image slot waits on the event loop, so it holds neither a thread of the pool nor a database connection."""
    _check_count(files, required=required)
    images = []
    for index, upload in enumerate(files):
        data = await upload.read(uploads.MAX_BYTES + 1)
        images.append(
            await anyio.to_thread.run_sync(partial(_clean, context, index, data), limiter=context.image_limiter())
        )
    return _unique(images)


def check_master_data(*, category: str, kecamatan: str, kelurahan: str) -> None:
    try:
        masterdata.get_category(category)
    except masterdata.MasterDataError as err:
        raise UnknownCategory(str(err), details={"field": "category"}) from None
    try:
        masterdata.check_location(kecamatan, kelurahan)
    except masterdata.MasterDataError as err:
        raise UnknownLocation(str(err), details={"fields": ["kecamatan", "kelurahan"]}) from None


def check_incident_date(incident_date: date | None, now: datetime) -> None:
    if incident_date is not None and incident_date > now.astimezone(PONTIANAK_TZ).date():
        raise InvalidIncidentDate(details={"field": "incident_date"})


def add_photos(
    session: Session,
    context: AppContext,
    *,
    report: Report,
    images: list[uploads.CleanImage],
    now: datetime,
    kind: PhotoKind = PhotoKind.REPORT,
    message_id: int | None = None,
) -> list[Photo]:
    """Files first, rows second: a committed row always has its file (a failed commit leaves an orphan file)."""
    photos = []
    for image in images:
        uploads.store(context.upload_dir, image)
        photo = Photo(
            report_id=report.id,
            message_id=message_id,
            sha256=image.sha256,
            content_type=image.content_type,
            size_bytes=len(image.data),
            kind=kind.value,
            created_at=now,
        )
        session.add(photo)
        photos.append(photo)
    session.flush()
    return photos


def _start_process(
    session: Session,
    context: AppContext,
    *,
    report: Report,
    images: list[uploads.CleanImage],
    now: datetime,
    origin: Origin,
) -> None:
    variables = reports.process_variables(report, photo_count=len(images))
    outbox.enqueue_start(session, report=report, variables=variables, now=now)
    audit.record_received(
        session,
        report,
        photos=len(images),
        source=origin.source,
        external_ref=origin.external_ref,
        filed_by=origin.filed_by,
        at=now,
    )


def check_fields(fields: ReportFields, now: datetime) -> None:
    """Everything about a report that costs no photo decoding; every channel runs it before it decodes a photo."""
    check_master_data(category=fields.category, kecamatan=fields.kecamatan, kelurahan=fields.kelurahan)
    check_incident_date(fields.incident_date, now)


def create_report(
    session: Session,
    context: AppContext,
    *,
    fields: ReportFields,
    reporter: Reporter | None,
    channel: str,
    images: list[uploads.CleanImage],
    now: datetime,
    origin: Origin = Origin(),
) -> Report:
    """Report, photos and the start command in the caller's transaction; the caller commits."""
    check_fields(fields, now)
    report = reports.create(
        session,
        data=reports.NewReport(
            title=fields.title,
            description=fields.description,
            category=fields.category,
            kecamatan_code=fields.kecamatan,
            kelurahan_code=fields.kelurahan,
            address=fields.address,
            report_type=fields.report_type,
            anonymous=fields.anonymous,
            confidential=fields.confidential,
            show_reporter_name=fields.show_name,
        ),
        reporter=reporter,
        channel=channel,
        now=now,
    )
    report.incident_date = fields.incident_date
    report.latitude = fields.latitude
    report.longitude = fields.longitude
    report.source = origin.source
    report.external_ref = origin.external_ref
    session.flush()
    add_photos(session, context, report=report, images=images, now=now)
    _start_process(session, context, report=report, images=images, now=now, origin=origin)
    return report


def create_unlocated_report(
    session: Session,
    context: AppContext,
    *,
    title: str,
    description: str,
    reporter: Reporter | None,
    channel: str,
    now: datetime,
    origin: Origin,
    report_type: ReportType = ReportType.PENGADUAN,
) -> Report:
    """A report whose place is not known yet (a free-text SMS): category LAINNYA, no kecamatan or kelurahan.

    lapor.reports.create insists on a valid location, so the row is written here; Admin Pengaduan reads the
    text at verification and the disposisi picks the OPD (the routing DMN falls back to Diskominfo).
    """
    report = reports.insert_with_tracking_id(
        session,
        now,
        lambda tracking_id: Report(
            tracking_id=tracking_id,
            reporter_id=reporter.id if reporter else None,
            channel=channel,
            report_type=report_type.value,
            title=title,
            description=description,
            category="LAINNYA",
            kecamatan_code="",
            kelurahan_code="",
            address="",
            anonymous=False,
            confidential=False,
            status=ReportStatus.BELUM_TERVERIFIKASI.value,
            created_at=now,
            source=origin.source,
            external_ref=origin.external_ref,
        ),
    )
    _start_process(session, context, report=report, images=[], now=now, origin=origin)
    return report


def reports_by_ref(session: Session, external_ref: str) -> Report | None:
    """The report an external system sent before under this reference (intake is idempotent on it)."""
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
        if reference is not None and (earlier := reports_by_ref(session, reference)) is not None:
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
        return report, False
    raise AssertionError("unreachable")  # the last attempt returns or raises
