"""One-time codes that prove an e-mail address or a phone number, shared by registration and sign-in
(lapor.reporters) and by a contact's correction (lapor.correction).

`start` writes a pending row with a fresh 6-digit code per contact (only their hash is stored) and sends each code
to its own contact through the notifier's ledger, in the caller's transaction: a registration that fails keeps
neither its row nor its ledger rows. `check` proves them: every wrong try counts and is committed at once, five lock
the row, ten minutes expire it. Refusals are the core's (lapor.refusals), so every channel answers them alike.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.models import RegistrationCode
from lapor.notifications.channels import Contact, NotificationDeliveryError
from lapor.notifications.service import Notifier, Recipient, within
from lapor.refusals import Kind, Refused
from lapor.vocabulary import Actor, Notice

__all__ = [
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "CodeExpired",
    "CodeInvalid",
    "CodeLocked",
    "CodeNotFound",
    "CodeNotSent",
    "NewCodes",
    "check",
    "create",
    "require_reachable",
    "start",
]

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
_log = structlog.stdlib.get_logger(__name__)


class CodeNotFound(Refused):
    kind = Kind.NOT_FOUND
    code = "registration_not_found"
    message = "Pendaftaran tidak ditemukan atau sudah diverifikasi."


class CodeExpired(Refused):
    kind = Kind.GONE
    code = "code_expired"
    message = "Kode verifikasi sudah kedaluwarsa. Silakan daftar ulang."


class CodeLocked(Refused):
    """Too many wrong codes: the row is spent."""

    kind = Kind.GONE
    code = "code_locked"
    message = "Terlalu banyak kode salah. Silakan daftar ulang."


class CodeInvalid(Refused):
    kind = Kind.WRONG
    code = "invalid_code"
    message = "Kode verifikasi salah."

    def __init__(self, attempts_left: int) -> None:
        super().__init__(details={"attempts_left": attempts_left})
        self.attempts_left = attempts_left


class CodeNotSent(Refused):
    kind = Kind.UNAVAILABLE
    code = "code_not_sent"
    message = "Kode verifikasi tidak dapat dikirim saat ini. Silakan coba lagi."


NO_CHANNEL = "Kode verifikasi tidak dapat dikirim: kanal email/SMS tidak tersedia."


@dataclass(frozen=True, slots=True)
class NewCodes:
    registration: RegistrationCode
    # The plain codes, to send once each; only their hash is stored. One code per contact given, so a row proves
    # every e-mail address and phone number it names, never one through the other.
    email_code: str | None
    sms_code: str | None


def new_public_id() -> str:
    """URL-safe, and never starting with "-": the operator passes a correction's id to `python -m lapor.data_request
    correct --correction ID`, where argparse reads a leading "-" as an option (1 id in 64 did)."""
    while (candidate := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return candidate


def _code_hash(public_id: str, email_code: str | None, sms_code: str | None) -> str:
    # The row's public id salts the hash, so equal codes of two rows hash differently.
    return hashlib.sha256(f"{public_id}:{email_code or ''}:{sms_code or ''}".encode()).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def require_reachable(notifier: Notifier, *, email: str | None, phone: str | None) -> None:
    """CodeNotSent when no channel reaches a contact given: checked before anything is written or counted."""
    if (email and not notifier.reaches(Contact.EMAIL)) or (phone and not notifier.reaches(Contact.PHONE)):
        raise CodeNotSent(NO_CHANNEL)


def create(
    session: Session,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    now: datetime,
    correction_of: int | None = None,
) -> NewCodes:
    """A pending row with a fresh code per contact, not sent (`start` sends them); the caller commits.

    `correction_of` is the reporter whose new contact it proves (lapor.correction): such a row never signs in."""
    if not email and not phone:
        raise ValueError("email or phone is required")
    public_id = new_public_id()
    email_code = _new_code() if email else None
    sms_code = _new_code() if phone else None
    registration = RegistrationCode(
        public_id=public_id,
        name=name.strip(),
        email=email,
        phone=phone,
        code_hash=_code_hash(public_id, email_code, sms_code),
        attempts=0,
        expires_at=now + CODE_TTL,
        created_at=now,
        reporter_id=correction_of,
    )
    session.add(registration)
    session.flush()
    return NewCodes(registration=registration, email_code=email_code, sms_code=sms_code)


def start(
    session: Session,
    notifier: Notifier,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    now: datetime,
    correction_of: int | None = None,
) -> tuple[RegistrationCode, list[Contact]]:
    """Create the codes and send each to its own contact; the row and the contacts sent to (the caller commits).

    Each code goes through the notifier's ledger like every other message (one key per row and contact), inside the
    caller's transaction; CodeNotSent when a contact cannot be reached or a channel fails."""
    require_reachable(notifier, email=email, phone=phone)
    new = create(session, name=name, email=email, phone=phone, now=now, correction_of=correction_of)
    codes = (
        (Recipient(kind=Actor.PELAPOR, email=email, phone=None), Contact.EMAIL, new.email_code),
        (Recipient(kind=Actor.PELAPOR, email=None, phone=phone), Contact.PHONE, new.sms_code),
    )
    sent: list[Contact] = []
    try:
        for recipient, contact, code in codes:
            if recipient.address(contact) and code:
                notifier.send_once(
                    session_factory=within(session),
                    idempotency_key=f"registration:{new.registration.public_id}:{contact.value}",
                    report=None,
                    template=Notice.KODE_VERIFIKASI,
                    recipient_kind=Actor.PELAPOR.value,
                    context={"code": code},
                    now=now,
                    recipients=[recipient],
                )
                sent.append(contact)
    except NotificationDeliveryError:
        _log.warning("contact_codes.not_sent", registration_id=new.registration.id, sent=[c.value for c in sent])
        raise CodeNotSent() from None
    return new.registration, sent


def check(
    session: Session,
    *,
    public_id: str,
    code: str,
    sms_code: str | None = None,
    now: datetime,
    correction_of: int | None = None,
) -> RegistrationCode:
    """The proved row, marked verified; a wrong code counts, committed at once, and raises CodeInvalid.

    `code` is the e-mailed code, or the SMS code of a phone-only row; `sms_code` is the SMS code when both an e-mail
    address and a phone were given: both must match, so each contact is proven by its own code. `correction_of`
    must be the reporter the row was made for (None for a registration or sign-in), so a correction's code never
    signs anybody in, and one reporter's correction is not found for another.
    """
    registration = session.scalar(select(RegistrationCode).where(RegistrationCode.public_id == public_id))
    if registration is None or registration.verified_at is not None or registration.reporter_id != correction_of:
        raise CodeNotFound()
    if registration.attempts >= MAX_CODE_ATTEMPTS:
        raise CodeLocked()
    if now >= registration.expires_at:
        raise CodeExpired()
    registration.attempts += 1
    if registration.email and registration.phone:
        given = _code_hash(public_id, code.strip(), (sms_code or "").strip())
    elif registration.email:
        given = _code_hash(public_id, code.strip(), None)
    else:
        given = _code_hash(public_id, None, code.strip())
    if not hmac.compare_digest(registration.code_hash, given):
        session.commit()  # the wrong try counts, whatever the caller does next
        raise CodeInvalid(MAX_CODE_ATTEMPTS - registration.attempts)
    registration.verified_at = now
    return registration
