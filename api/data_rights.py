"""A reporter corrects their contact and asks for erasure (issue 23 item 2), the HTTP side shared by the API and the
citizen page (Data saya): limits and one commit; the core's refusals answer for themselves (api.errors). The rules
are lapor.correction's and lapor.erasure's."""

from datetime import datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.accounts import CodeSubmission, ReporterProfile
from api.deps import AppContext, ClientIpDep, ContextDep, NowDep, RateLimiter, RateLimiterDep, ReporterDep, SessionDep
from api.errors import documented
from api.forms import TextRoute
from api.schemas import EmailAddress, PhoneNumber
from lapor import contact_codes, correction, erasure
from lapor.audit import AuditActor
from lapor.models import Reporter
from lapor.process import EngineClient

router = APIRouter(
    prefix="/reporters",
    tags=["pelapor"],
    route_class=TextRoute,
    responses=documented(400, 401, 404, 409, 410, 422, 429, 503),
)
_log = structlog.stdlib.get_logger(__name__)

CorrectionId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ContactCorrection(BaseModel):
    """The new e-mail address or the new phone number: exactly one."""

    # Exactly one of email and phone, given as a string (the JSON schema says so, the validator below too).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}, "not": {"required": ["phone"]}},
                {"required": ["phone"], "properties": {"phone": {"type": "string"}}, "not": {"required": ["email"]}},
            ]
        }
    )

    email: EmailAddress | None = Field(None, description="Alamat email baru")
    phone: PhoneNumber | None = Field(None, description="Nomor ponsel baru")

    @model_validator(mode="after")
    def _one(self) -> "ContactCorrection":
        if (self.email is None) == (self.phone is None) or self.model_fields_set >= {"email", "phone"}:
            raise ValueError("isi satu kontak baru: email atau nomor ponsel")
        return self

    @property
    def requested(self) -> tuple[correction.ContactKind, str]:
        if self.email is not None:
            return correction.ContactKind.EMAIL, self.email
        assert self.phone is not None
        return correction.ContactKind.PHONE, self.phone


class CorrectionStarted(BaseModel):
    correction_id: str
    expires_at: datetime
    contact: Literal["email", "phone"]
    message: str


class Erased(BaseModel):
    reports: int = Field(description="laporan Anda: tetap ada, tanpa identitas Anda")
    open_reports: int = Field(description="laporan yang masih berjalan: ditangani tanpa pemberitahuan kepada Anda")
    message: str


# -- services, for the API and the page ----------------------------------------------------------------------------
def start_correction(
    session: Session,
    context: AppContext,
    limiter: RateLimiter,
    reporter: Reporter,
    *,
    kind: correction.ContactKind,
    value: str,
    now: datetime,
) -> correction.Started:
    """A code to the new contact only; committed once it went out."""
    email, phone = (value, None) if kind is correction.ContactKind.EMAIL else (None, value)
    contact_codes.require_reachable(context.notifier, email=email, phone=phone)
    limiter.hit("registration:identity", value)
    started = correction.start(session, context.notifier, reporter, kind=kind, value=value, now=now)
    session.commit()
    _log.info("correction.started", reporter_id=reporter.id, contact=kind.value)
    return started


def confirm_correction(
    session: Session,
    context: AppContext,
    limiter: RateLimiter,
    ip: str,
    reporter: Reporter,
    *,
    correction_id: str,
    code: str,
    now: datetime,
) -> correction.Corrected:
    """Check the code (wrong tries count and lock, as at registration) and replace the contact; committed."""
    limiter.hit("verification:ip", ip)
    limiter.hit("verification:registration", correction_id)
    done = correction.confirm(
        session,
        context.notifier,
        reporter,
        correction_id=correction_id,
        code=code,
        actor_kind=AuditActor.PELAPOR,
        actor=AuditActor.PELAPOR.value,
        now=now,
    )
    session.commit()
    _log.info("correction.confirmed", reporter_id=reporter.id, contact=done.contact.value)
    return done


def erase_reporter(
    session: Session, context: AppContext, reporter: Reporter, *, via: erasure.ErasureVia, now: datetime
) -> erasure.Erasure:
    """Erase the signed-in reporter's identity (their tokens with it: this request's is the last); committed. The
    engine is read with the API's own login (svc-api); when it does not answer nothing is erased
    (erasure.EngineUnreadable, 503)."""
    settings = context.settings
    try:
        with EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password) as engine:
            done = erasure.erase(
                session,
                reporter,
                via=via,
                actor_kind=AuditActor.PELAPOR,
                actor=AuditActor.PELAPOR.value,
                at=now,
                engine=engine,
                data_dir=settings.data_dir,
            )
    except erasure.EngineUnreadable as err:
        session.rollback()
        _log.warning("erasure.engine_unreadable", reporter_id=reporter.id, error=err.reason)
        raise
    session.commit()
    _log.info("erasure.done", reporter_id=done.reporter_id, via=via.value, reports=done.reports)
    return done


def erased_message(done: erasure.Erasure) -> str:
    kept = f"Data pribadi Anda telah dihapus. {done.reports} laporan Anda tetap tercatat tanpa identitas Anda"
    if not done.open_reports:
        return kept + "."
    return kept + f"; {done.open_reports} yang masih berjalan tetap ditangani tanpa pemberitahuan kepada Anda."


# -- the API -------------------------------------------------------------------------------------------------------
@router.post("/me/contact", status_code=status.HTTP_202_ACCEPTED, response_model=CorrectionStarted)
def correct_contact(
    body: ContactCorrection,
    reporter: ReporterDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    now: NowDep,
) -> CorrectionStarted:
    """Replace the e-mail address or phone number: a 6-digit code goes to the NEW contact only."""
    kind, value = body.requested
    started = start_correction(session, context, limiter, reporter, kind=kind, value=value, now=now)
    return CorrectionStarted(
        correction_id=started.correction_id,
        expires_at=started.expires_at,
        contact=started.contact.value,
        message="Kode verifikasi telah dikirim ke kontak baru. Masukkan kode dalam 10 menit.",
    )


@router.post("/me/contact/{correction_id}/verification", response_model=ReporterProfile)
def confirm_contact(
    correction_id: CorrectionId,
    body: CodeSubmission,
    reporter: ReporterDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
) -> ReporterProfile:
    """Confirm the code sent to the new contact; the answer is the corrected identity (the old contact is told)."""
    confirm_correction(session, context, limiter, ip, reporter, correction_id=correction_id, code=body.code, now=now)
    return ReporterProfile(
        name=reporter.name, email=reporter.email, phone=reporter.phone, verified_at=reporter.verified_at
    )


@router.delete("/me", response_model=Erased)
def erase_me(reporter: ReporterDep, session: SessionDep, context: ContextDep, now: NowDep) -> Erased:
    """Erase the signed-in reporter's identity; their reports stay without it, and this token stops working."""
    done = erase_reporter(session, context, reporter, via=erasure.ErasureVia.API, now=now)
    return Erased(reports=done.reports, open_reports=done.open_reports, message=erased_message(done))
