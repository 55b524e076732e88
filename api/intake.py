"""Intake from the other channels: the SMS 1708 gateway (signed), staff entry, and Admin Pusat (national)."""

import hashlib
import hmac
import re
from datetime import datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile, status
from pydantic import BaseModel, Field, Strict, StrictBool, StringConstraints, ValidationError
from sqlalchemy.orm import Session

from api.deps import (
    AppContext,
    ContextDep,
    NationalDep,
    NowDep,
    SessionDep,
    StaffDep,
    national_before_body,
    staff_before_body,
)
from api.errors import InvalidSignature, PayloadTooLarge, documented
from api.forms import TextRoute, before_body
from api.schemas import (
    SEVERAL_LINES,
    EmailAddress,
    ExternalId,
    Latitude,
    Longitude,
    Name,
    PhoneNumber,
    ReportFields,
    StatusView,
    StorableText,
)
from api.submission import photo_rules, read_files, report_data
from api.views import status_view
from lapor import intake, masterdata, reporters, uploads
from lapor.links import tracking_page_url
from lapor.models import Report
from lapor.vocabulary import ReportType

router = APIRouter(
    prefix="/intake", tags=["intake"], route_class=TextRoute, responses=documented(400, 401, 409, 413, 415, 422, 503)
)
_log = structlog.stdlib.get_logger(__name__)

SMS_FORMAT = "KATEGORI#KELURAHAN#ALAMAT#ISI LAPORAN"
# An optional first field names the report type; without it an SMS is a complaint (pengaduan).
SMS_TYPE_KEYWORDS = {
    "ADUAN": ReportType.PENGADUAN,
    "PENGADUAN": ReportType.PENGADUAN,
    "ASPIRASI": ReportType.ASPIRASI,
    "INFO": ReportType.PERMINTAAN_INFORMASI,
}
SMS_PLACEHOLDER_NAME = "Pelapor SMS 1708"  # the gateway knows the number, not the name
StaffSource = Literal["media_sosial", "kotak_pengaduan", "tatap_muka", "email", "telepon", "lainnya"]


class IntakeAccepted(BaseModel):
    tracking_id: str
    status: StatusView
    created_at: datetime
    duplicate: bool = Field(False, description="true: this reference was received before; nothing new was created")


class SmsMessage(BaseModel):
    message_id: ExternalId
    sender: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32, pattern=r"^\+?[0-9]+$")
    ]
    text: Annotated[
        str, SEVERAL_LINES, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), StorableText
    ]


class SmsAccepted(IntakeAccepted):
    parsed: bool = Field(description=f"true: the text followed {SMS_FORMAT}; false: staff complete category and place")
    reply: str = Field(description="Text for the gateway to send back to the sender")


class StaffReportFields(ReportFields):
    source: StaffSource
    reporter_name: Name | None = None
    # A form: an empty field means "not given".
    reporter_email: EmailAddress | None = None
    reporter_phone: PhoneNumber | None = None


class NationalReport(ReportFields):
    # A JSON body: true/false only (the form bodies of the other channels send them as text).
    anonymous: StrictBool = Field(False, description="anonim: identitas disembunyikan dari publik dan OPD")
    confidential: StrictBool = Field(False, description="rahasia: laporan tidak ditampilkan kepada publik")
    show_name: StrictBool = Field(False, description="tampilkan nama pelapor pada laporan publik")
    # Left out when unknown (null is not a coordinate); both or neither, as the schema's dependentRequired says.
    latitude: Annotated[Latitude, Strict()] = None  # type: ignore[assignment]
    longitude: Annotated[Longitude, Strict()] = None  # type: ignore[assignment]
    national_id: ExternalId = Field(
        description="Nomor laporan di SP4N-LAPOR! nasional; pengiriman ulang dengan nomor yang sama tidak menggandakan"
    )


async def verify_sms_signature(
    request: Request, context: ContextDep, x_signature: Annotated[str | None, Header()] = None
) -> None:
    """HMAC-SHA256 of the raw body with the shared secret, hex, as `X-Signature: sha256=<hex>`."""
    secret = context.sms_webhook_secret
    if secret is None or not x_signature:
        raise InvalidSignature()
    expected = hmac.new(secret.encode(), await request.body(), hashlib.sha256).hexdigest()
    given = x_signature.removeprefix("sha256=").strip().lower()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise InvalidSignature()


_SIGNATURE = re.compile(r"^(?:sha256=)?[0-9A-Fa-f]{64}$")
SMS_MAX_BODY_BYTES = 16 * 1024  # a message of 2000 characters, each up to 4 bytes as JSON escapes, and its fields


async def sms_signature_present(request: Request) -> None:
    """Before the body is read: a secret configured, a signature of the right shape (the HMAC itself needs the
    body, `verify_sms_signature`), and a declared length an SMS can have (anyone can forge the shape)."""
    context: AppContext = request.app.state.context
    if context.sms_webhook_secret is None or not _SIGNATURE.match(request.headers.get("X-Signature", "").strip()):
        raise InvalidSignature()
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > SMS_MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Pesan SMS paling besar {SMS_MAX_BODY_BYTES} byte.")


def _accepted(report: Report, *, duplicate: bool) -> IntakeAccepted:
    return IntakeAccepted(
        tracking_id=report.tracking_id,
        status=status_view(report.status),
        created_at=report.created_at,
        duplicate=duplicate,
    )


def _sms_type(text: str) -> tuple[ReportType, str]:
    """The report type an SMS names in front (`ASPIRASI#...`, `INFO#...`), and the text after it."""
    keyword, separator, rest = text.partition("#")
    kind = SMS_TYPE_KEYWORDS.get(keyword.strip().upper())
    return (kind, rest) if separator and kind is not None else (ReportType.PENGADUAN, text)


def _parse_sms(text: str, report_type: ReportType) -> intake.ReportData | None:
    """KATEGORI#KELURAHAN#ALAMAT#ISI, category by code and kelurahan by name or code; None if it does not fit."""
    parts = [part.strip() for part in text.split("#", 3)]
    if len(parts) != 4:
        return None
    category, place, address, body = parts
    wanted = place.replace(" ", "").lower()
    kelurahan = next(
        (k for k in masterdata.kelurahan_list() if wanted in (k.code.lower(), k.name.replace(" ", "").lower())), None
    )
    if kelurahan is None:
        return None
    try:
        masterdata.get_category(category.upper())
        fields = ReportFields(
            title=" ".join(body.split())[:60],
            description=body,
            category=category.upper(),
            address=address,
            kecamatan=kelurahan.kecamatan_code,
            kelurahan=kelurahan.code,
            report_type=report_type.value,
        )
    except (ValidationError, masterdata.MasterDataError):
        return None
    return report_data(fields)


def _sms_request(message: SmsMessage, reference: str) -> intake.IntakeRequest:
    """The report an SMS is: located when its text follows the format, else unplaced for staff to complete."""
    try:
        phone = reporters.normalize_phone(message.sender)
    except ValueError:
        phone = message.sender  # a landline or short code: kept as the gateway gave it
    report_type, text = _sms_type(message.text)
    data = _parse_sms(text, report_type) or intake.ReportData.unplaced(
        title=" ".join(message.text.split())[:60], description=message.text, report_type=report_type
    )
    return intake.IntakeRequest(
        data,
        channel="sms1708",
        contact=intake.Contact(name=SMS_PLACEHOLDER_NAME, phone=phone),
        origin=intake.Origin(source="sms1708", external_ref=reference),
    )


@router.post(
    "/sms",
    status_code=status.HTTP_201_CREATED,
    response_model=SmsAccepted,
    responses={200: {"model": SmsAccepted, "description": "Pesan ini sudah diterima sebelumnya (duplicate: true)"}},
    dependencies=[Depends(verify_sms_signature)],
)
@before_body(sms_signature_present)
def sms(message: SmsMessage, response: Response, session: SessionDep, context: ContextDep, now: NowDep) -> SmsAccepted:
    """Webhook of the SMS 1708 gateway, signed with HMAC-SHA256; idempotent on the gateway's message id."""
    accepted = intake.accept(
        session, _sms_request(message, f"sms:{message.message_id}"), rules=photo_rules(context), now=now
    )
    report, duplicate = accepted.report, accepted.duplicate
    if duplicate:  # sent before, or the same message id twice at once
        response.status_code = status.HTTP_200_OK
    else:
        _log.info("intake.sms", report_id=report.id, located=report.kelurahan_code != "")
    return SmsAccepted(
        **_accepted(report, duplicate=duplicate).model_dump(),
        parsed=report.kelurahan_code != "",
        reply=_sms_reply(report, context),
    )


def _sms_reply(report: Report, context: AppContext) -> str:
    """The tracking number and the report's page on the citizen web page; a text that did not follow the format
    is told the format."""
    link = tracking_page_url(context.base_url, report.tracking_id)
    if report.kelurahan_code:
        return f"LAPOR! Pontianak: laporan diterima, nomor {report.tracking_id}. Pantau di {link}"
    return (
        f"LAPOR! Pontianak: laporan diterima, nomor {report.tracking_id}, tetapi formatnya tidak dikenali; petugas "
        f"akan melengkapinya. Lain kali kirim {SMS_FORMAT}, mis. SAMPAH#Benua Melayu Darat#Jl. Gajah Mada#Sampah "
        f"menumpuk (aspirasi: awali ASPIRASI#, permintaan informasi: INFO#). Pantau di {link}"
    )


def file_staff_report(
    session: Session,
    context: AppContext,
    *,
    fields: StaffReportFields,
    photos: tuple[bytes | uploads.CleanImage, ...],
    now: datetime,
    filed_by: str | None,
) -> Report:
    """A report staff received offline, with its reporter when they left contact details, committed: the staff
    intake of `POST /intake/staff` and the front desk page (api/front_desk.py), through `lapor.intake`.

    `filed_by` is the engine user id of the staff member who filed it (None for a bearer token, which names nobody);
    it is logged here (never the reporter's data) and named in the report's audit trail.
    """
    request = intake.IntakeRequest(
        report_data(fields),
        channel="staff",
        contact=intake.Contact(name=fields.reporter_name, email=fields.reporter_email, phone=fields.reporter_phone),
        origin=intake.Origin(source=fields.source, filed_by=filed_by),
        photos=photos,
    )
    accepted = intake.accept(session, request, rules=photo_rules(context), now=now)
    report = accepted.report
    _log.info("intake.staff", report_id=report.id, source=fields.source, photos=accepted.photos, filed_by=filed_by)
    return report


@router.post("/staff", status_code=status.HTTP_201_CREATED, response_model=IntakeAccepted)
@before_body(staff_before_body)
def staff(
    fields: Annotated[StaffReportFields, Form()],
    _staff: StaffDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    photos: Annotated[list[UploadFile], File(description="0 sampai 5 foto")] = [],  # noqa: B006
) -> IntakeAccepted:
    """A report staff received by social media, complaint box, face to face, e-mail or phone."""
    photo_bytes = read_files(photos)  # decoded by the core after its cheap checks
    report = file_staff_report(session, context, fields=fields, photos=photo_bytes, now=now, filed_by=None)
    return _accepted(report, duplicate=False)


@router.post(
    "/national",
    status_code=status.HTTP_201_CREATED,
    response_model=IntakeAccepted,
    responses={200: {"model": IntakeAccepted, "description": "Sudah diterima sebelumnya (duplicate: true)"}},
)
@before_body(national_before_body)
def national(
    body: NationalReport,
    _national: NationalDep,
    response: Response,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> IntakeAccepted:
    """A report forwarded by Admin Pusat SP4N-LAPOR! (no reporter of ours); idempotent on national_id."""
    origin = intake.Origin(source="sp4n-lapor", external_ref=f"national:{body.national_id}")
    request = intake.IntakeRequest(report_data(body), channel="national", origin=origin)
    accepted = intake.accept(session, request, rules=photo_rules(context), now=now)
    report, duplicate = accepted.report, accepted.duplicate
    if duplicate:  # sent before, or the same national id twice at once
        response.status_code = status.HTTP_200_OK
    else:
        _log.info("intake.national", report_id=report.id)
    return _accepted(report, duplicate=duplicate)
