"""Reporters: registration with a one-time code, the bearer token, the reporter's own profile and reports."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import (
    AppContext,
    ClientIpDep,
    ContextDep,
    NowDep,
    RateLimiter,
    RateLimiterDep,
    ReporterDep,
    ReporterTokenDep,
    SessionDep,
)
from api.errors import documented
from api.forms import TextRoute
from api.personal_data import ZIP_RESPONSE, export
from api.schemas import EmailAddress, Name, PhoneNumber, ReporterView, ReportPage
from api.views import last_activity, summary
from lapor import contact_codes, nearby, personal_data, reporters
from lapor.audit import AuditActor
from lapor.models import Report
from lapor.notifications.channels import Contact

router = APIRouter(
    prefix="/reporters",
    tags=["pelapor"],
    route_class=TextRoute,
    responses=documented(400, 401, 404, 409, 410, 413, 422, 429, 503),
)
_log = structlog.stdlib.get_logger(__name__)


class ContactRequest(BaseModel):
    """An e-mail address or a phone number (or both), as registration and the web page's sign-in take them."""

    # At least one of email and phone, given as a string (the JSON schema says so, the validator below too).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
            ]
        }
    )

    email: EmailAddress | None = Field(None, description="Alamat email; kode dikirim ke sini")
    phone: PhoneNumber | None = Field(
        None, description="Nomor ponsel, mis. 081234567890; kode terpisah dikirim via SMS"
    )

    @model_validator(mode="after")
    def _contact(self) -> "ContactRequest":
        if not self.email and not self.phone:
            raise ValueError("isi email atau nomor ponsel")
        return self


class RegistrationRequest(ContactRequest):
    name: Name


class RegistrationStarted(BaseModel):
    registration_id: str
    expires_at: datetime
    channels: list[Literal["email", "sms"]]
    message: str


SixDigits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class CodeSubmission(BaseModel):
    code: SixDigits = Field(description="Kode dari email, atau dari SMS bila hanya nomor ponsel yang didaftarkan")
    sms_code: SixDigits | None = Field(
        None, description="Kode dari SMS, wajib bila email dan nomor ponsel didaftarkan bersama"
    )


class TokenIssued(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime
    reporter: ReporterView


class ReporterProfile(ReporterView):
    verified_at: datetime | None


@router.post("/registrations", status_code=status.HTTP_202_ACCEPTED, response_model=RegistrationStarted)
def register(
    body: RegistrationRequest,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
) -> RegistrationStarted:
    """Start a registration (or a new login): a 6-digit code goes to each e-mail address and phone given."""
    started = start_registration(
        session, context, limiter, ip, name=body.name, email=body.email, phone=body.phone, now=now
    )
    return RegistrationStarted(
        registration_id=started.registration_id,
        expires_at=started.expires_at,
        channels=started.channels,
        message=started.message,
    )


@dataclass(frozen=True, slots=True)
class Started:
    registration_id: str
    expires_at: datetime
    channels: list[Literal["email", "sms"]]
    message: str


def start_registration(
    session: Session,
    context: AppContext,
    limiter: RateLimiter,
    ip: str,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    now: datetime,
) -> Started:
    """A registration or a sign-in, for the JSON API and the web page: limits, the codes sent, committed.

    `name` is empty for a sign-in of the web page: such a registration can only sign in an existing reporter.
    """
    # Checked before anything is written: a code that cannot be sent neither saves nor counts anything.
    contact_codes.require_reachable(context.notifier, email=email, phone=phone)
    limiter.hit("registration:ip", ip)
    for identity in (email, phone):
        if identity:
            limiter.hit("registration:identity", identity)
    started = reporters.start_registration(session, context.notifier, name=name, email=email, phone=phone, now=now)
    session.commit()  # only once every code went out
    channels = [_CODE_SENT_TO[contact] for contact in started.sent_to]
    _log.info("registration.started", registration_id=started.registration.id, channels=channels)
    return Started(
        registration_id=started.registration.public_id,
        expires_at=started.registration.expires_at,
        channels=channels,
        message=(
            "Kode verifikasi telah dikirim ke email dan SMS. Masukkan kedua kode dalam 10 menit."
            if len(channels) == 2
            else "Kode verifikasi telah dikirim. Masukkan kode dalam 10 menit."
        ),
    )


# How the answer names where the codes went (RegistrationStarted.channels).
_CODE_SENT_TO: dict[Contact, Literal["email", "sms"]] = {Contact.EMAIL: "email", Contact.PHONE: "sms"}


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
    issued = complete_registration(
        session, limiter, ip, registration_id=registration_id, code=body.code, sms_code=body.sms_code, now=now
    )
    reporter = issued.reporter
    return TokenIssued(
        access_token=issued.token,
        expires_at=issued.expires_at,
        reporter=ReporterView(name=reporter.name, email=reporter.email, phone=reporter.phone),
    )


def complete_registration(
    session: Session,
    limiter: RateLimiter,
    ip: str,
    *,
    registration_id: str,
    code: str,
    sms_code: str | None,
    now: datetime,
) -> reporters.IssuedToken:
    """Check the code(s) and issue a token, for the JSON API and the web page; committed."""
    limiter.hit("verification:ip", ip)
    limiter.hit("verification:registration", registration_id)
    issued = reporters.complete_registration(
        session, registration_id=registration_id, code=code, sms_code=sms_code, now=now
    )
    session.commit()
    _log.info("registration.verified", reporter_id=issued.reporter.id)
    return issued


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
    updated = last_activity(session, rows, for_owner=True)
    supports = nearby.support_counts(session, [r.id for r in rows])
    return ReportPage(
        page=page,
        page_size=page_size,
        total=total,
        items=[summary(r, updated[r.id], for_owner=True, support_count=supports.get(r.id, 0)) for r in rows],
    )


@router.get("/me/data", response_class=Response, responses=ZIP_RESPONSE)
def my_data(reporter: ReporterDep, session: SessionDep, context: ContextDep, now: NowDep) -> Response:
    """Everything held about the signed-in reporter as a ZIP (data.json and photos/); recorded, never cached."""
    return export(
        session,
        context,
        reporter,
        via=personal_data.ExportVia.API,
        actor_kind=AuditActor.PELAPOR,
        actor=AuditActor.PELAPOR.value,
        now=now,
    )


@router.delete("/me/token", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def sign_out(token: ReporterTokenDep, reporter: ReporterDep, session: SessionDep, now: NowDep) -> Response:
    """Revoke the token used for this request."""
    reporters.revoke(session, token=token, now=now)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
