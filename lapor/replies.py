"""The reporter's replies to their own report: a supplement to a returned report, the acceptance or rejection of a
result (with an optional satisfaction rating), a comment. One implementation for the JSON API and the citizen web
page; who may reply to which report (404/403) is decided by the caller's view rules before these run."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lapor import audit, intake, outbox, uploads
from lapor.models import (
    EventKind,
    MessageKind,
    OutboxKind,
    OutboxMessage,
    Report,
    ReportEvent,
    ReportMessage,
    ReportStatus,
)
from lapor.refusals import Kind, Refused
from lapor.vocabulary import Actor, Message

RATING_MIN, RATING_MAX = 1, 5
# The reply a status waits for from the reporter: the message that moves the process on.
_AWAITED = {
    ReportStatus.DIKEMBALIKAN.value: Message.SUPPLEMENTED,
    ReportStatus.MENUNGGU_KONFIRMASI.value: Message.CITIZEN_RESPONSE,
}


class InvalidState(Refused):
    kind = Kind.CONFLICT
    code = "invalid_state"
    message = "Tindakan ini tidak dapat dilakukan pada status laporan saat ini."


class AlreadyAnswered(Refused):
    kind = Kind.CONFLICT
    code = "already_answered"
    message = "Anda sudah memberi tanggapan atas hasil tindak lanjut ini."


class NotOwner(Refused):
    kind = Kind.FORBIDDEN
    code = "not_owner"
    message = "Hanya pelapor yang dapat menanggapi laporan ini."


@dataclass(frozen=True, slots=True)
class SentReply:
    """The reporter's reply to the round a report waits on, sent while its status has not moved on yet."""

    message: Message
    accepted: bool | None  # the confirmation's answer; None for a supplement
    at: datetime

    @property
    def is_supplement(self) -> bool:
        return self.message is Message.SUPPLEMENTED


@dataclass(frozen=True, slots=True)
class Reply:
    """What the reporter is told after a reply: the report (status unchanged until the process moves) and a line."""

    report: Report
    message: str
    photos: int = 0  # the photos a supplement brought (the same one twice counts once)


def require_status(report: Report, expected: ReportStatus) -> None:
    if report.status != expected.value:
        raise InvalidState(details={"status": report.status, "allowed": [expected.value]})


def _round(session: Session, report: Report) -> int:
    """The current status round: the id of the latest status event (a reply belongs to one round)."""
    latest = session.scalar(
        select(func.max(ReportEvent.id)).where(
            ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.STATUS.value
        )
    )
    return int(latest or 0)


def _round_message_id(session: Session, report: Report, name: Message) -> str:
    """One message per round: a second reply before the process moves on is kept, not published again."""
    return f"{name.value}:{report.tracking_id}:{_round(session, report)}"


def sent_reply(session: Session, report: Report) -> SentReply | None:
    """The reply the report's status waits for, if the reporter already sent it in this round (the engine's status
    worker has not moved the report yet): read from the message queued for the engine."""
    name = _AWAITED.get(report.status)
    if name is None:
        return None
    message_id = _round_message_id(session, report, name)
    queued = session.execute(
        select(OutboxMessage.payload, OutboxMessage.created_at).where(
            OutboxMessage.report_id == report.id, OutboxMessage.kind == OutboxKind.PUBLISH_MESSAGE.value
        )
    )
    for payload, at in queued:
        if payload.get("message_id") == message_id:
            return SentReply(name, payload.get("variables", {}).get("citizenAccepted"), at)
    return None


def supplement(
    session: Session,
    *,
    report: Report,
    text: str,
    photos: tuple[bytes | uploads.CleanImage, ...],
    rules: intake.PhotoRules,
    now: datetime,
) -> Reply:
    """Supplement a report returned as incomplete (DIKEMBALIKAN); its status and the photo count are checked before
    a photo is decoded. The caller commits."""
    require_status(report, ReportStatus.DIKEMBALIKAN)
    intake.check_photo_count(len(photos), required=False)
    images = intake.decode_photos(rules, photos)
    message = _reporter_message(session, report, MessageKind.SUPPLEMENT, text, now, photos=len(images))
    intake.add_photos(session, rules.upload_dir, report=report, images=images, now=now, message_id=message.id)
    outbox.enqueue_message(
        session,
        report=report,
        name=Message.SUPPLEMENTED.value,
        message_id=_round_message_id(session, report, Message.SUPPLEMENTED),
        variables={},
        now=now,
    )
    return Reply(report, "Kelengkapan laporan diterima dan akan diverifikasi kembali.", len(images))


def confirm(
    session: Session,
    *,
    report: Report,
    accepted: bool,
    rating: int | None,
    comment: str | None,
    now: datetime,
) -> Reply:
    """Accept or reject the result (MENUNGGU_KONFIRMASI), once per round; the caller commits.

    Only `citizenAccepted` goes to the engine: the comment may hold personal data and the rating is private.
    """
    require_status(report, ReportStatus.MENUNGGU_KONFIRMASI)
    if rating is not None and not RATING_MIN <= rating <= RATING_MAX:
        raise ValueError(f"rating {rating} outside {RATING_MIN}..{RATING_MAX}")  # the schemas refuse it first
    queued = outbox.enqueue_message(
        session,
        report=report,
        name=Message.CITIZEN_RESPONSE.value,
        message_id=_round_message_id(session, report, Message.CITIZEN_RESPONSE),
        variables={"citizenAccepted": accepted},
        now=now,
    )
    if queued is None:
        raise AlreadyAnswered()
    message = ReportMessage(
        report_id=report.id,
        author=Actor.PELAPOR.value,
        kind=MessageKind.CONFIRMATION.value,
        text=comment or ("Hasil tindak lanjut diterima." if accepted else "Hasil tindak lanjut ditolak."),
        accepted=accepted,
        rating=rating,
        created_at=now,
    )
    session.add(message)
    audit.record_message(session, report, message, actor_kind=audit.AuditActor.PELAPOR, actor="pelapor")
    if accepted:
        return Reply(report, "Terima kasih atas konfirmasi Anda.")
    return Reply(report, "Penolakan Anda diteruskan kepada OPD untuk ditindaklanjuti kembali.")


def comment(session: Session, *, report: Report, text: str, now: datetime) -> ReportMessage:
    """A comment of the reporter on their own report: kept with it (owner only), the process does not move."""
    return _reporter_message(session, report, MessageKind.COMMENT, text, now)


def _reporter_message(
    session: Session, report: Report, kind: MessageKind, text: str, now: datetime, *, photos: int = 0
) -> ReportMessage:
    message = ReportMessage(report_id=report.id, author=Actor.PELAPOR.value, kind=kind.value, text=text, created_at=now)
    session.add(message)
    audit.record_message(session, report, message, actor_kind=audit.AuditActor.PELAPOR, actor="pelapor", photos=photos)
    return message
