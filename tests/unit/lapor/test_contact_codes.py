"""One-time codes in the core: sent through the ledger, proved with wrong tries counted at once, refused with the
core's refusals (lapor.refusals) for registration, sign-in and a contact's correction alike."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lapor import contact_codes, correction, intake, reporters
from lapor.audit import AuditActor
from lapor.models import Notification, RegistrationCode, Reporter
from lapor.notifications.channels import Channel, Contact, NotificationDeliveryError
from lapor.notifications.service import Notifier
from lapor.notifications.templates import RenderedMessage
from lapor.refusals import Kind, Refused
from lapor.settings import Settings
from tests.conftest import PushChannel
from tests.support.builders import reporter_row
from tests.unit.conftest import SessionFactory

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
PHONE = "+6281299990001"


@dataclass
class BrokenChannel:
    """A phone channel whose gateway refuses every message."""

    name: str = "rusak"
    label: str = "SMS rusak"
    contact: Contact = Contact.PHONE

    def send(self, to: str, message: RenderedMessage) -> None:
        raise NotificationDeliveryError("gateway down")


def _notifier(*channels: Channel) -> Notifier:
    return Notifier(channels, Settings())


def _start(session_factory: SessionFactory, push: PushChannel, *, name: str = "Siti") -> tuple[str, str]:
    """A row for PHONE, committed: its public id and the code the phone received."""
    with session_factory() as session:
        row, sent = contact_codes.start(session, _notifier(push), name=name, email=None, phone=PHONE, now=NOW)
        assert sent == [Contact.PHONE]
        public_id = row.public_id
    match = re.search(r"\b\d{6}\b", push.sent[-1][1])
    assert match is not None
    return public_id, match.group()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_wrong_code_counts_at_once_and_five_lock_it(session_factory: SessionFactory) -> None:
    public_id, code = _start(session_factory, PushChannel())
    for left in (4, 3, 2, 1, 0):
        # Each `with` block ends in an exception, so nothing the caller did is committed; the try counts anyway.
        with pytest.raises(contact_codes.CodeInvalid) as wrong, session_factory() as session:
            contact_codes.check(session, public_id=public_id, code=_wrong(code), now=NOW)
        refused = wrong.value
        assert isinstance(refused, Refused) and (refused.kind, refused.code) == (Kind.WRONG, "invalid_code")
        assert refused.details == {"attempts_left": left} and refused.attempts_left == left
    with session_factory() as session:
        assert session.scalar(select(RegistrationCode.attempts)) == 5
    with pytest.raises(contact_codes.CodeLocked) as locked, session_factory() as session:
        contact_codes.check(session, public_id=public_id, code=code, now=NOW)
    assert (locked.value.kind, locked.value.code) == (Kind.GONE, "code_locked")


def test_a_contact_no_channel_reaches_or_a_failing_channel_writes_nothing(session_factory: SessionFactory) -> None:
    with pytest.raises(contact_codes.CodeNotSent) as unreachable, session_factory() as session:
        contact_codes.start(
            session, _notifier(PushChannel()), name="Siti", email="siti@example.id", phone=None, now=NOW
        )
    assert (unreachable.value.kind, unreachable.value.code) == (Kind.UNAVAILABLE, "code_not_sent")
    with pytest.raises(contact_codes.CodeNotSent), session_factory() as session:
        contact_codes.start(session, _notifier(BrokenChannel()), name="Siti", email=None, phone=PHONE, now=NOW)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(RegistrationCode)) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_registration_and_sign_in_refuse_with_the_cores_refusals(session_factory: SessionFactory) -> None:
    push = PushChannel()
    public_id, code = _start(session_factory, push, name="")  # a sign-in: it names nobody
    with pytest.raises(reporters.NotRegistered) as unknown, session_factory() as session:
        reporters.complete_registration(session, registration_id=public_id, code=code, sms_code=None, now=NOW)
    assert (unknown.value.kind, unknown.value.code) == (Kind.NOT_FOUND, "not_registered")
    late, late_code = _start(session_factory, push)
    with pytest.raises(contact_codes.CodeExpired) as expired, session_factory() as session:
        later = NOW + contact_codes.CODE_TTL + timedelta(seconds=1)
        reporters.complete_registration(session, registration_id=late, code=late_code, sms_code=None, now=later)
    assert (expired.value.kind, expired.value.code) == (Kind.GONE, "code_expired")
    # The same conflict as at intake: one class, one code, one message.
    assert reporters.IdentityConflict is intake.IdentityConflict
    assert (reporters.IdentityConflict.kind, reporters.IdentityConflict.code) == (Kind.CONFLICT, "identity_conflict")


def test_a_correction_code_proves_only_that_reporters_new_contact(session_factory: SessionFactory) -> None:
    push = PushChannel()
    with session_factory() as session:
        siti, andi = reporter_row("Siti", email="siti@example.id"), reporter_row("Andi", email="andi@example.id")
        session.add_all([siti, andi])
        session.flush()
        started = correction.start(
            session, _notifier(push), siti, kind=correction.ContactKind.PHONE, value="0812-9999-0001", now=NOW
        )
        with pytest.raises(correction.SameContact) as same:
            correction.start(
                session, _notifier(push), siti, kind=correction.ContactKind.EMAIL, value="SITI@example.id", now=NOW
            )
        assert (same.value.kind, same.value.code) == (Kind.CONFLICT, "same_contact")
        siti_id, andi_id = siti.id, andi.id
    code = re.findall(r"\b\d{6}\b", push.sent[-1][1])[0]
    with pytest.raises(contact_codes.CodeNotFound) as not_sign_in, session_factory() as session:
        reporters.complete_registration(
            session, registration_id=started.correction_id, code=code, sms_code=None, now=NOW
        )
    assert not_sign_in.value.code == "registration_not_found"

    def confirm(reporter_id: int) -> correction.Corrected:
        with session_factory() as session:
            reporter = session.get(Reporter, reporter_id)
            assert reporter is not None
            return correction.confirm(
                session,
                _notifier(push),
                reporter,
                correction_id=started.correction_id,
                code=code,
                actor_kind=AuditActor.PELAPOR,
                actor="pelapor",
                now=NOW,
            )

    with pytest.raises(correction.CorrectionNotFound) as not_his:
        confirm(andi_id)
    assert (not_his.value.kind, not_his.value.code) == (Kind.NOT_FOUND, "correction_not_found")
    assert confirm(siti_id).contact is correction.ContactKind.PHONE
    with session_factory() as session:
        assert session.scalar(select(Reporter.phone).where(Reporter.id == siti_id)) == PHONE


def test_a_public_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's command takes a correction's id as an argument: "-Ab..." would be read as an option."""
    drawn = iter(["-Ab3xYz", "-Q", "Zk9-_x"])
    monkeypatch.setattr(contact_codes.secrets, "token_urlsafe", lambda size: next(drawn))
    assert contact_codes.new_public_id() == "Zk9-_x"
