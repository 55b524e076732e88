"""A reporter corrects their e-mail address or phone number (UU No. 27/2022: the right to correction; issue 23 item
2), proved again through the channel, as at registration.

`start` makes a code for the NEW contact only (the one-time codes of lapor.contact_codes, as registration's, the row
naming the reporter it belongs to, so it never signs anybody in) and sends it there through the notifier's ledger.
`confirm` checks it (five wrong codes lock it, ten minutes expire it, as at registration), replaces the contact,
tells the OLD contact that it was replaced, and records the correction on the reporter's audit chain (which contact,
never the address). A contact that belongs to another reporter is refused only after its code is proved: nobody
learns from a correction whether an address is registered. Refusals are the core's (lapor.refusals).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lapor import contact_codes, erasure, reporter_audit, reporters
from lapor.audit import AuditActor
from lapor.models import RegistrationCode, Reporter
from lapor.notifications.channels import NotificationDeliveryError
from lapor.notifications.service import Notifier, Recipient, within
from lapor.refusals import Kind, Refused
from lapor.vocabulary import Actor, Notice

_log = structlog.stdlib.get_logger(__name__)


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"

    @property
    def label(self) -> str:
        return {"email": "Alamat email", "phone": "Nomor ponsel"}[self.value]


class SameContact(Refused):
    """The new contact is the one the reporter already has."""

    kind = Kind.CONFLICT
    code = "same_contact"
    message = "Kontak baru sama dengan kontak Anda sekarang."


class ContactTaken(Refused):
    """The proved contact belongs to another reporter."""

    kind = Kind.CONFLICT
    code = "identity_conflict"
    message = "Kontak ini sudah dipakai pelapor lain. Hubungi Diskominfo bila kontak ini milik Anda."


class CorrectionNotFound(contact_codes.CodeNotFound):
    code = "correction_not_found"
    message = "Permintaan penggantian kontak tidak ditemukan atau sudah diverifikasi."


# A spent code of a correction asks for a new code, not for a new registration.
_EXPIRED = "Kode verifikasi sudah kedaluwarsa. Minta kode baru."
_LOCKED = "Terlalu banyak kode salah. Minta kode baru."


@dataclass(frozen=True, slots=True)
class Started:
    correction_id: str
    expires_at: datetime
    contact: ContactKind


@dataclass(frozen=True, slots=True)
class Corrected:
    contact: ContactKind
    old_told: int  # messages sent to the old contact (0 when the reporter had none)


def _normalised(kind: ContactKind, value: str) -> str:
    return reporters.normalize_email(value) if kind is ContactKind.EMAIL else reporters.normalize_phone(value)


def start(
    session: Session, notifier: Notifier, reporter: Reporter, *, kind: ContactKind, value: str, now: datetime
) -> Started:
    """A code for the new contact, sent there only; the caller commits (ValueError for a contact that is none)."""
    if reporter.erased_at is not None:
        raise erasure.AlreadyErased()
    new = _normalised(kind, value)
    if new == getattr(reporter, kind.value):
        raise SameContact()
    email, phone = (new, None) if kind is ContactKind.EMAIL else (None, new)
    registration, _ = contact_codes.start(
        session, notifier, name="", email=email, phone=phone, now=now, correction_of=reporter.id
    )
    return Started(registration.public_id, registration.expires_at, kind)


def confirm(
    session: Session,
    notifier: Notifier,
    reporter: Reporter,
    *,
    correction_id: str,
    code: str,
    actor_kind: AuditActor,
    actor: str,
    now: datetime,
) -> Corrected:
    """Check the code (a wrong one counts, committed, as at registration) and replace the contact; the caller
    commits. Refuses as lapor.contact_codes does, in a correction's words, and ContactTaken."""
    try:
        proved = contact_codes.check(session, public_id=correction_id, code=code, now=now, correction_of=reporter.id)
    except contact_codes.CodeNotFound:
        raise CorrectionNotFound() from None
    except contact_codes.CodeExpired:
        raise contact_codes.CodeExpired(_EXPIRED) from None
    except contact_codes.CodeLocked:
        raise contact_codes.CodeLocked(_LOCKED) from None
    kind = ContactKind.EMAIL if proved.email else ContactKind.PHONE
    new = proved.email or proved.phone
    column = Reporter.email if kind is ContactKind.EMAIL else Reporter.phone
    if session.scalar(select(Reporter.id).where(column == new, Reporter.id != reporter.id)) is not None:
        raise ContactTaken()
    old = getattr(reporter, kind.value)
    if old is not None:
        # The proofs of the old contact stay the reporter's (their export, their erasure), not the address's.
        session.execute(
            update(RegistrationCode)
            .where(
                or_(RegistrationCode.email == old, RegistrationCode.phone == old),
                RegistrationCode.verified_at.is_not(None),
                RegistrationCode.reporter_id.is_(None),
            )
            .values(reporter_id=reporter.id)
        )
    setattr(reporter, kind.value, new)
    reporter_audit.record(
        session,
        reporter,
        action=reporter_audit.ReporterAction.CONTACT_CORRECTED,
        actor_kind=actor_kind,
        actor=actor,
        at=now,
        detail={"contact": kind.value, "had_one": old is not None, "text": f"{kind.label} diganti"},
    )
    session.flush()
    told = 0
    if old is not None:
        told = _tell_old(notifier, session, correction_id, kind, old, now)
    return Corrected(kind, told)


def _tell_old(
    notifier: Notifier, session: Session, correction_id: str, kind: ContactKind, old: str, now: datetime
) -> int:
    """The old contact learns of the change; one that no longer works (often why it is corrected) stops nothing."""
    try:
        return notifier.send_once(
            session_factory=within(session),
            idempotency_key=f"contact-changed:{correction_id}",
            report=None,
            template=Notice.KONTAK_DIUBAH,
            recipient_kind=Actor.PELAPOR.value,
            context={"changed": kind.label},
            now=now,
            recipients=[
                Recipient(
                    kind=Actor.PELAPOR,
                    email=old if kind is ContactKind.EMAIL else None,
                    phone=old if kind is ContactKind.PHONE else None,
                )
            ],
        )
    except NotificationDeliveryError:
        _log.warning("correction.old_contact_not_told", contact=kind.value)
        return 0
