"""Reporters: registration with a one-time code, the bearer token, the reporter's own profile and reports."""

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator
from sqlalchemy import func, select

from api.deps import ClientIpDep, ContextDep, NowDep, RateLimiterDep, ReporterDep, ReporterTokenDep, SessionDep
from api.errors import Gone, IdentityConflict, InvalidCode, NotFound, ServiceUnavailable
from api.schemas import Name, ReporterView, ReportPage
from api.views import last_activity, summary
from lapor import reporters
from lapor.db import session_scope
from lapor.models import Report
from lapor.notifications.channels import NotificationDeliveryError
from lapor.notifications.service import Recipient, RecipientKind, send_once

router = APIRouter(prefix="/reporters", tags=["pelapor"])
_log = structlog.stdlib.get_logger(__name__)


class RegistrationRequest(BaseModel):
    name: Name
    email: str | None = Field(None, max_length=320, description="Alamat email; kode dikirim ke sini")
    phone: str | None = Field(None, max_length=32, description="Nomor ponsel, mis. 081234567890; kode dikirim via SMS")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return reporters.normalize_email(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return reporters.normalize_phone(value) if value else None

    @model_validator(mode="after")
    def _contact(self) -> "RegistrationRequest":
        if not self.email and not self.phone:
            raise ValueError("isi email atau nomor ponsel")
        return self


class RegistrationStarted(BaseModel):
    registration_id: str
    expires_at: datetime
    channels: list[Literal["email", "sms"]]
    message: str


class CodeSubmission(BaseModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class TokenIssued(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime
    reporter: ReporterView


class ReporterProfile(ReporterView):
    verified_at: datetime | None


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = "Pendaftaran tidak ditemukan atau sudah diverifikasi."


class CodeExpired(Gone):
    code = "code_expired"
    message = "Kode verifikasi sudah kedaluwarsa. Silakan daftar ulang."


class CodeLocked(Gone):
    code = "code_locked"
    message = "Terlalu banyak kode salah. Silakan daftar ulang."


class CodeNotSent(ServiceUnavailable):
    code = "code_not_sent"
    message = "Kode verifikasi tidak dapat dikirim saat ini. Silakan coba lagi."


@router.post("/registrations", status_code=status.HTTP_202_ACCEPTED, response_model=RegistrationStarted)
def register(
    body: RegistrationRequest,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
) -> RegistrationStarted:
    """Start a registration (or a new login): a 6-digit code goes to the e-mail and/or phone."""
    limiter.check("registration:ip", ip)
    for identity in (body.email, body.phone):
        if identity:
            limiter.check("registration:identity", identity)
    new = reporters.start_registration(session, name=body.name, email=body.email, phone=body.phone, now=now)
    session.commit()
    channels: list[Literal["email", "sms"]] = []
    if body.email and context.email is not None:
        channels.append("email")
    if body.phone and context.sms is not None:
        channels.append("sms")
    try:
        sent = send_once(
            session_factory=partial(session_scope, context.db),
            idempotency_key=f"registrasi-{new.registration.id}",
            report=None,
            template="kode-verifikasi",
            recipient_kind=RecipientKind.PELAPOR.value,
            context={"code": new.code},
            email=context.email,
            sms=context.sms,
            now=now,
            settings=context.settings,
            recipients=[Recipient(kind=RecipientKind.PELAPOR.value, email=body.email, phone=body.phone)],
        )
    except NotificationDeliveryError:
        _log.warning("registration.code_failed", registration_id=new.registration.id)
        raise CodeNotSent() from None
    if sent == 0:
        raise CodeNotSent("Kode verifikasi tidak dapat dikirim: kanal email/SMS tidak tersedia.")
    _log.info("registration.started", registration_id=new.registration.id, channels=channels)
    return RegistrationStarted(
        registration_id=new.registration.public_id,
        expires_at=new.registration.expires_at,
        channels=channels,
        message="Kode verifikasi telah dikirim. Masukkan kode dalam 10 menit.",
    )


@router.post(
    "/registrations/{registration_id}/verification", status_code=status.HTTP_201_CREATED, response_model=TokenIssued
)
def verify(
    registration_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    body: CodeSubmission,
    session: SessionDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
) -> TokenIssued:
    """Confirm the code; the answer carries the reporter's bearer token (shown once)."""
    limiter.check("verification:ip", ip)
    limiter.check("verification:registration", registration_id)
    try:
        registration = reporters.verify_code(session, public_id=registration_id, code=body.code, now=now)
    except reporters.CodeInvalid as wrong:
        session.commit()  # the wrong try counts
        raise InvalidCode(details={"attempts_left": wrong.attempts_left}) from None
    except reporters.RegistrationNotFound:
        raise RegistrationNotFound() from None
    except reporters.CodeExpired:
        raise CodeExpired() from None
    except reporters.CodeLocked:
        raise CodeLocked() from None
    try:
        issued = reporters.issue_token(session, registration=registration, now=now)
    except reporters.IdentityConflict:
        raise IdentityConflict() from None
    session.commit()
    _log.info("registration.verified", reporter_id=issued.reporter.id)
    reporter = issued.reporter
    return TokenIssued(
        access_token=issued.token,
        expires_at=issued.expires_at,
        reporter=ReporterView(name=reporter.name, email=reporter.email, phone=reporter.phone),
    )


@router.get("/me", response_model=ReporterProfile)
def me(reporter: ReporterDep) -> ReporterProfile:
    """The signed-in reporter's identity."""
    return ReporterProfile(
        name=reporter.name, email=reporter.email, phone=reporter.phone, verified_at=reporter.verified_at
    )


@router.get("/me/reports", response_model=ReportPage)
def my_reports(
    reporter: ReporterDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReportPage:
    """The reporter's own reports, newest first, whatever their status or privacy options."""
    mine = select(Report).where(Report.reporter_id == reporter.id)
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = list(
        session.scalars(
            mine.order_by(Report.created_at.desc(), Report.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
    )
    updated = last_activity(session, rows)
    return ReportPage(
        page=page,
        page_size=page_size,
        total=total,
        items=[summary(r, updated[r.id], for_owner=True) for r in rows],
    )


@router.delete("/me/token", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def sign_out(token: ReporterTokenDep, reporter: ReporterDep, session: SessionDep, now: NowDep) -> Response:
    """Revoke the token used for this request."""
    reporters.revoke(session, token=token, now=now)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
