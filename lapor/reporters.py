"""Reporters: registration and sign-in proved by one-time codes (lapor.contact_codes), and the bearer tokens that
open their own reports. Refusals are the core's (lapor.refusals), answered alike by the API and the pages."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lapor import contact_codes
from lapor.models import RegistrationCode, Reporter, ReporterToken
from lapor.notifications.channels import Contact
from lapor.notifications.service import Notifier
from lapor.refusals import Kind, Refused

__all__ = [
    "TOKEN_PREFIX",
    "TOKEN_TTL",
    "IdentityConflict",
    "IssuedToken",
    "NotRegistered",
    "Registration",
    "authenticate",
    "complete_registration",
    "issue_token",
    "normalize_email",
    "normalize_phone",
    "revoke",
    "start_registration",
]

TOKEN_TTL = timedelta(days=180)
TOKEN_PREFIX = "lpr_"  # noqa: S105 - not a secret; tells a reporter token apart from staff and national tokens at a glance

# ASCII only: smtplib cannot address an internationalised mailbox without SMTPUTF8.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+"
)
_PHONE_DIGITS = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"\+628[0-9]{7,12}")


class IdentityConflict(Refused):
    """The e-mail belongs to one reporter and the phone to another."""

    kind = Kind.CONFLICT
    code = "identity_conflict"
    message = "Email dan nomor ponsel ini terdaftar atas dua pelapor berbeda."


class NotRegistered(Refused):
    """A sign-in's contact, now proven, belongs to no reporter."""

    kind = Kind.NOT_FOUND
    code = "not_registered"
    message = "Belum ada pelapor terdaftar dengan email atau nomor ponsel ini. Silakan daftar terlebih dahulu."


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration or sign-in whose codes went out."""

    registration: RegistrationCode
    sent_to: list[Contact]


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


def start_registration(
    session: Session, notifier: Notifier, *, name: str, email: str | None, phone: str | None, now: datetime
) -> Registration:
    """A registration (or, with no `name`, a sign-in of a known reporter): a code to each contact; the caller commits
    once they went out (CodeNotSent otherwise)."""
    registration, sent = contact_codes.start(session, notifier, name=name, email=email, phone=phone, now=now)
    return Registration(registration, sent)


def complete_registration(
    session: Session, *, registration_id: str, code: str, sms_code: str | None, now: datetime
) -> IssuedToken:
    """Check the code(s) (a wrong one counts, committed) and issue a token; the caller commits.

    A sign-in names nobody: only the owner of the inbox or phone learns that it is not registered (NotRegistered)."""
    registration = contact_codes.check(session, public_id=registration_id, code=code, sms_code=sms_code, now=now)
    if not registration.name and not _known(session, registration):
        raise NotRegistered()
    return issue_token(session, registration=registration, now=now)


def _contact_clauses(registration: RegistrationCode) -> list[Any]:
    clauses = []
    if registration.email:
        clauses.append(Reporter.email == registration.email)
    if registration.phone:
        clauses.append(Reporter.phone == registration.phone)
    return clauses


def _known(session: Session, registration: RegistrationCode) -> bool:
    """Whether a reporter already has one of the registration's (now proven) contacts."""
    found = select(func.count()).select_from(Reporter).where(or_(*_contact_clauses(registration)))
    return session.scalar(found) != 0


def _reporter_for(session: Session, registration: RegistrationCode, now: datetime) -> Reporter:
    """The reporter this registration proves: an existing one (a new device, a lost token) or a new one.

    Every contact of a verified registration was proven by its own code, so matching on any of them is safe.
    An existing reporter keeps its name (a login never renames) and gains only a contact it did not have.
    """
    found = list(session.scalars(select(Reporter).where(or_(*_contact_clauses(registration)))))
    if len(found) > 1:
        raise IdentityConflict()
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
