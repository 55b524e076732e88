"""Reporters: registration confirmed by a one-time code, and the bearer tokens that open their own reports."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lapor.models import RegistrationCode, Reporter, ReporterToken

__all__ = [
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "TOKEN_PREFIX",
    "TOKEN_TTL",
    "CodeExpired",
    "CodeInvalid",
    "CodeLocked",
    "IdentityConflict",
    "IssuedToken",
    "NewRegistration",
    "RegistrationError",
    "RegistrationNotFound",
    "authenticate",
    "issue_token",
    "normalize_email",
    "normalize_phone",
    "revoke",
    "start_registration",
    "verify_code",
]

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
TOKEN_TTL = timedelta(days=180)
TOKEN_PREFIX = "lpr_"  # noqa: S105 - not a secret; tells a reporter token apart from staff and national tokens at a glance

# ASCII only: smtplib cannot address an internationalised mailbox without SMTPUTF8.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+"
)
_PHONE_DIGITS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"\+628[0-9]{7,12}")


class RegistrationError(ValueError):
    """A registration or code verification is refused."""


class RegistrationNotFound(RegistrationError):
    pass


class CodeExpired(RegistrationError):
    pass


class CodeLocked(RegistrationError):
    """Too many wrong codes: the registration is spent."""


class CodeInvalid(RegistrationError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong code, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class IdentityConflict(RegistrationError):
    """The e-mail belongs to one reporter and the phone to another."""


@dataclass(frozen=True, slots=True)
class NewRegistration:
    registration: RegistrationCode
    # The plain codes, to send once each; only their hash is stored. One code per channel given, so a
    # registration proves every e-mail address and phone number it names, never one through the other.
    email_code: str | None
    sms_code: str | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    reporter: Reporter
    token: str  # the plain token, shown once; only its hash is stored
    expires_at: datetime


def normalize_email(value: str) -> str:
    """Lower-cased address; ValueError if it does not look like one."""
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        raise ValueError("alamat email tidak valid")
    return email


def normalize_phone(value: str) -> str:
    """An Indonesian mobile number as +628...; ValueError otherwise (codes go by SMS)."""
    digits = _PHONE_DIGITS.sub("", value.strip())
    if digits.startswith("08"):
        digits = "+62" + digits[1:]
    elif digits.startswith("628"):
        digits = "+" + digits
    if not _MOBILE.fullmatch(digits):
        raise ValueError("nomor ponsel tidak valid (contoh: 081234567890)")
    return digits


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(public_id: str, email_code: str | None, sms_code: str | None) -> str:
    # The registration id salts the hash, so equal codes of two registrations hash differently.
    return _hash(f"{public_id}:{email_code or ''}:{sms_code or ''}")


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def start_registration(
    session: Session, *, name: str, email: str | None, phone: str | None, now: datetime
) -> NewRegistration:
    """A pending registration with a fresh 6-digit code per channel; the caller sends each code and commits."""
    if not email and not phone:
        raise ValueError("email or phone is required")
    public_id = secrets.token_urlsafe(16)
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
    )
    session.add(registration)
    session.flush()
    return NewRegistration(registration=registration, email_code=email_code, sms_code=sms_code)


def verify_code(
    session: Session,
    *,
    public_id: str,
    code: str,
    sms_code: str | None = None,
    now: datetime,
    correction_of: int | None = None,
) -> RegistrationCode:
    """Check the codes; every wrong try counts (the caller must commit even when this raises CodeInvalid).

    `code` is the e-mailed code, or the SMS code of a phone-only registration; `sms_code` is the SMS code when
    both an e-mail address and a phone were given: both must match, so each channel is proven by its own code.
    `correction_of` is the reporter whose correction this is (lapor.correction); a registration or sign-in has none,
    so a correction's code never signs anybody in, and one reporter's correction is not found for another.
    """
    registration = session.scalar(select(RegistrationCode).where(RegistrationCode.public_id == public_id))
    if registration is None or registration.verified_at is not None or registration.reporter_id != correction_of:
        raise RegistrationNotFound(public_id)
    if registration.attempts >= MAX_CODE_ATTEMPTS:
        raise CodeLocked(public_id)
    if now >= registration.expires_at:
        raise CodeExpired(public_id)
    registration.attempts += 1
    if registration.email and registration.phone:
        given = _code_hash(public_id, code.strip(), (sms_code or "").strip())
    elif registration.email:
        given = _code_hash(public_id, code.strip(), None)
    else:
        given = _code_hash(public_id, None, code.strip())
    if not hmac.compare_digest(registration.code_hash, given):
        raise CodeInvalid(MAX_CODE_ATTEMPTS - registration.attempts)
    registration.verified_at = now
    return registration


def _reporter_for(session: Session, registration: RegistrationCode, now: datetime) -> Reporter:
    """The reporter this registration proves: an existing one (a new device, a lost token) or a new one.

    Every contact of a verified registration was proven by its own code, so matching on any of them is safe.
    An existing reporter keeps its name (a login never renames) and gains only a contact it did not have.
    """
    clauses = []
    if registration.email:
        clauses.append(Reporter.email == registration.email)
    if registration.phone:
        clauses.append(Reporter.phone == registration.phone)
    found = list(session.scalars(select(Reporter).where(or_(*clauses))))
    if len(found) > 1:
        raise IdentityConflict(registration.public_id)
    if found:
        reporter = found[0]
        reporter.email = reporter.email or registration.email
        reporter.phone = reporter.phone or registration.phone
        reporter.verified_at = reporter.verified_at or now
        return reporter
    reporter = Reporter(
        name=registration.name, email=registration.email, phone=registration.phone, verified_at=now, created_at=now
    )
    session.add(reporter)
    session.flush()
    return reporter


def issue_token(session: Session, *, registration: RegistrationCode, now: datetime) -> IssuedToken:
    """After a verified code: the reporter (created or found) and a new bearer token."""
    reporter = _reporter_for(session, registration, now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + TOKEN_TTL
    session.add(ReporterToken(reporter_id=reporter.id, token_hash=_hash(token), created_at=now, expires_at=expires_at))
    session.flush()
    return IssuedToken(reporter=reporter, token=token, expires_at=expires_at)


def authenticate(session: Session, *, token: str, now: datetime) -> Reporter | None:
    """The reporter of a valid, unexpired, unrevoked token; None otherwise."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ReporterToken).where(ReporterToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return session.get(Reporter, row.reporter_id)


def revoke(session: Session, *, token: str, now: datetime) -> None:
    row = session.scalar(select(ReporterToken).where(ReporterToken.token_hash == _hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
