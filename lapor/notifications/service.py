"""Who receives a notification, and the notifier: every message on every channel that reaches the recipient, sent
once per key and channel (the ledger) even when the task is retried or runs twice."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Result, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapor import audit, signed_links
from lapor.links import tracking_page_url
from lapor.masterdata import MasterDataError, get_opd
from lapor.models import Notification, Report, Reporter, ReportStatus
from lapor.notifications.channels import (
    CHANNEL_NAME_LENGTH,
    Channel,
    Contact,
    NotificationDeliveryError,
    build_channels,
)
from lapor.notifications.templates import RenderedMessage, render
from lapor.settings import Settings
from lapor.vocabulary import FOLLOWER, RECIPIENTS, Actor

__all__ = [
    "CLAIM_LEASE",
    "Actor",
    "NotificationState",
    "Notifier",
    "Recipient",
    "SessionFactory",
    "build_channels",
    "report_context",
    "report_link",
    "resolve_recipients",
    "within",
]

_log = structlog.stdlib.get_logger(__name__)

# A "sending" claim older than this belongs to a worker that died mid-send; a retry may take it over.
# Longer than the slowest live send (several SMTP round trips of at most 10 s each).
CLAIM_LEASE = timedelta(minutes=2)
NOTIFIER = "layanan notifikasi"  # who sends, in the audit trail (the workers, or the API for its own notices)
_KEY_LENGTH = 64  # Notification.idempotency_key


class NotificationState(StrEnum):
    SENDING = "sending"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where one message goes; the address and number stay out of repr so they cannot reach a log."""

    kind: str
    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)

    def address(self, contact: Contact) -> str | None:
        """Where a channel that uses this contact sends to; None if the recipient has none."""
        match contact:
            case Contact.EMAIL:
                return self.email
            case Contact.PHONE:
                return self.phone


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    claimed_at: datetime


def _addresses(setting: str) -> list[str]:
    """A comma-separated address setting as a list, so an office can name more than one inbox."""
    return [address.strip() for address in setting.split(",") if address.strip()]


def resolve_recipients(
    session: Session, report: Report | None, recipient_kind: str, settings: Settings
) -> list[Recipient]:
    """The recipients of one kind for a report; [] for a report without a reachable reporter."""
    kind = Actor(recipient_kind)
    if kind is Actor.PELAPOR:
        if report is None:
            raise ValueError("recipient kind 'pelapor' needs a report (or explicit recipients)")
        # Reports forwarded by Admin Pusat carry no reporter of ours.
        reporter = session.get(Reporter, report.reporter_id) if report.reporter_id is not None else None
        if reporter is None or not (reporter.email or reporter.phone):
            return []
        return [Recipient(kind=kind, email=reporter.email, phone=reporter.phone)]
    if kind is Actor.OPD:
        if report is None or report.opd_code is None:
            raise ValueError("recipient kind 'opd' needs a report that has been routed to an OPD")
        return [Recipient(kind=kind, email=get_opd(report.opd_code).email, phone=None)]
    if kind not in RECIPIENTS:
        raise ValueError(f"{kind.value!r} receives no notices; recipients: {', '.join(RECIPIENTS)}")
    setting = settings.admin_email if kind is Actor.ADMIN_PENGADUAN else settings.koordinator_email
    return [Recipient(kind=kind, email=address, phone=None) for address in _addresses(setting)]


def report_context(report: Report | None) -> dict[str, str]:
    """Template values every report provides; the caller's context overrides them."""
    if report is None:
        return {}
    try:
        status_label = ReportStatus(report.status).label
    except ValueError:
        status_label = report.status
    context = {"tracking_id": report.tracking_id, "status_label": status_label}
    if report.opd_code is not None:
        try:
            opd = get_opd(report.opd_code)
            context |= {"opd_name": opd.name, "opd_short_name": opd.short_name}
        except MasterDataError:
            # A retired OPD code must not stop the reporter's notification; the code is still readable.
            context["opd_name"] = report.opd_code
    return context


# How long the staff page link in a notice to an OPD, Admin Pengaduan or the koordinator opens.
STAFF_LINK_LIFETIME = timedelta(days=30)


def report_link(report: Report | None, settings: Settings, recipient_kind: str, now: datetime) -> dict[str, str]:
    """`report_url`: the reporter's and followers' notices link the tracking page on the citizen web page (a
    follower's notice also carries its own signed `unfollow_url`, from the worker); staff and OPD notices
    the signed staff page of the same report, which shows a confidential report too (the citizen page answers 404
    for it) and never who reported it.

    It wins over a caller's `report_url`, so no message can point a reader at another address for a report.
    """
    if report is None:
        return {}
    if recipient_kind in (Actor.PELAPOR.value, FOLLOWER):
        return {"report_url": tracking_page_url(settings.public_base_url, report.tracking_id)}
    expires = now + STAFF_LINK_LIFETIME
    return {"report_url": signed_links.report_summary_url(report, expires, settings.public_base_url, settings=settings)}


def _rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (execute() is typed as a plain Result)."""
    return cast("CursorResult[Any]", result).rowcount


SessionFactory = Callable[[], AbstractContextManager[Session]]


def within(session: Session) -> SessionFactory:
    """The ledger inside the caller's transaction, one savepoint per step, for messages that stand or fall with it
    (a registration's codes: the registration, its rate-limit counts and the ledger rows commit together)."""

    @contextmanager
    def savepoint() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return savepoint


def _claim(
    session_factory: SessionFactory,
    *,
    key: str,
    channel: str,
    report_id: int | None,
    template: str,
    recipient_kind: str,
    now: datetime,
) -> _Claim | None:
    """Claim (key, channel) in its own transaction; None if it was sent already or another worker has it."""
    conflict: IntegrityError | None = None
    for _ in range(3):
        try:
            with session_factory() as session:
                row = Notification(
                    idempotency_key=key,
                    report_id=report_id,
                    template=template,
                    recipient_kind=recipient_kind,
                    channel=channel,
                    state=NotificationState.SENDING.value,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                return _Claim(id=row.id, claimed_at=now)
        except IntegrityError as exc:
            conflict = exc
        with session_factory() as session:
            existing = session.scalars(
                select(Notification).where(Notification.idempotency_key == key, Notification.channel == channel)
            ).one_or_none()
            if existing is None:
                continue  # the other claim was released in between: claim again
            if existing.state == NotificationState.SENT or existing.created_at > now - CLAIM_LEASE:
                return None
            # Only one of several workers taking over the same stale claim matches created_at.
            taken = session.execute(
                update(Notification)
                .where(
                    Notification.id == existing.id,
                    Notification.state == NotificationState.SENDING.value,
                    Notification.created_at == existing.created_at,
                )
                .values(created_at=now)
            )
            return _Claim(id=existing.id, claimed_at=now) if _rowcount(taken) == 1 else None
    # No row to blame: the IntegrityError was something else (a missing report, for one).
    assert conflict is not None
    raise conflict


def _release(session_factory: SessionFactory, claim: _Claim) -> None:
    """Drop our claim so the retried job can send; guarded so a claim taken over by another stays."""
    with session_factory() as session:
        session.execute(
            delete(Notification).where(
                Notification.id == claim.id,
                Notification.state == NotificationState.SENDING.value,
                Notification.created_at == claim.claimed_at,
            )
        )


def _mark_sent(session_factory: SessionFactory, claim: _Claim, channel: Channel, now: datetime) -> None:
    """Sent: the ledger says so, and the report's audit trail names the notice, whom (by kind) and how (never the
    address)."""
    with session_factory() as session:
        session.execute(
            update(Notification)
            .where(Notification.id == claim.id)
            .values(state=NotificationState.SENT.value, sent_at=now)
        )
        row = session.get(Notification, claim.id)
        report = session.get(Report, row.report_id) if row is not None and row.report_id is not None else None
        if row is not None and report is not None:
            audit.record(
                session,
                report,
                action=audit.AuditAction.NOTIFICATION_SENT,
                actor_kind=audit.AuditActor.LAYANAN,
                actor=NOTIFIER,
                at=now,
                detail={
                    "template": row.template,
                    "recipient_kind": row.recipient_kind,
                    "channel": row.channel,
                    "text": f"«{row.template}» kepada {row.recipient_kind} lewat {channel.label}",
                },
                source_ref=f"notification:{row.id}",
            )


@dataclass(frozen=True, slots=True)
class Notifier:
    """The one way messages go out: the channels settings turn on (`build_channels`), each message sent to every
    recipient on every channel that reaches one of the recipient's contacts, at most once per key and channel."""

    channels: tuple[Channel, ...]
    settings: Settings

    def __post_init__(self) -> None:
        names = [channel.name for channel in self.channels]
        if len(set(names)) != len(names) or any(not 0 < len(name) <= CHANNEL_NAME_LENGTH for name in names):
            # The ledger tells a message's channels apart by name (Notification.channel).
            raise ValueError(f"channel names must be unique, 1 to {CHANNEL_NAME_LENGTH} characters: {names}")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Notifier":
        return cls(tuple(build_channels(settings)), settings)

    def reaches(self, contact: Contact) -> bool:
        """Whether a channel sends to this kind of contact (a registration code to a phone needs one)."""
        return any(channel.contact is contact for channel in self.channels)

    def send_once(
        self,
        *,
        session_factory: SessionFactory,
        idempotency_key: str,
        report: Report | None,
        template: str,
        recipient_kind: str,
        context: dict[str, str],
        now: datetime,
        recipients: Sequence[Recipient] | None = None,
    ) -> int:
        """Send a template to every recipient on every channel that reaches it, each at most once per key.

        Returns how many messages went out in this call. Raises NotificationDeliveryError after releasing the
        failed claim, so the retried job sends what is still missing. `recipients` overrides the lookup
        (e.g. a registration code for a reporter who has no report yet).
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        # Render first: a broken template or context must fail before anything is claimed.
        link = report_link(report, self.settings, recipient_kind, now)
        message = render(template, {**report_context(report), **context, **link})
        if recipients is None:
            with session_factory() as session:
                recipients = resolve_recipients(session, report, recipient_kind, self.settings)
        report_id = report.id if report is not None else None
        log = _log.bind(
            idempotency_key=idempotency_key, template=template, report_id=report_id, recipient_kind=recipient_kind
        )
        if not recipients:
            log.info("notification.no_recipient")
            return 0
        sent = 0
        for index, recipient in enumerate(recipients):
            # The ledger is unique on (key, channel), so the 2nd and later recipients get their own key.
            key = idempotency_key if index == 0 else f"{idempotency_key}:{index}"
            if len(key) > _KEY_LENGTH:
                raise ValueError(f"idempotency key longer than {_KEY_LENGTH} characters: {key!r}")
            deliveries = [(c, address) for c in self.channels if (address := recipient.address(c.contact))]
            if not deliveries:
                log.warning(
                    "notification.no_channel",
                    recipient_index=index,
                    contacts=[contact.value for contact in Contact if recipient.address(contact)],
                )
                continue
            for channel, address in deliveries:
                claim = _claim(
                    session_factory,
                    key=key,
                    channel=channel.name,
                    report_id=report_id,
                    template=template,
                    recipient_kind=recipient_kind,
                    now=now,
                )
                if claim is None:
                    log.info("notification.already_handled", key=key, channel=channel.name)
                    continue
                _deliver(session_factory, claim, channel, address, message, log=log.bind(key=key))
                _mark_sent(session_factory, claim, channel, now)
                sent += 1
                log.info("notification.sent", key=key, channel=channel.name)
        return sent


def _deliver(
    session_factory: SessionFactory,
    claim: _Claim,
    channel: Channel,
    address: str,
    message: RenderedMessage,
    *,
    log: structlog.stdlib.BoundLogger,
) -> None:
    """Hand the message to the channel; on any failure release the claim first, so a retry sends it."""
    try:
        channel.send(address, message)
    except BaseException as exc:
        try:
            _release(session_factory, claim)
        except Exception:
            # The lease frees the claim later; the delivery error is what the job must report.
            log.exception("notification.release_failed", channel=channel.name)
        if isinstance(exc, NotificationDeliveryError):
            log.warning("notification.failed", channel=channel.name, error=str(exc))
        raise
