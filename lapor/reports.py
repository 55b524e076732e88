"""Reports: tracking ids, the process variables of a report, and its timeline."""

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapor import audit, masterdata
from lapor.models import CLOSED_STATUSES, EventKind, Photo, PhotoKind, Report, ReportEvent, ReportStatus
from lapor.roles import WORKERS_ACCOUNT
from lapor.vocabulary import CHANNEL_NAMES, REPORT_TYPE_VARIABLE, TRACKING_ID_VARIABLE, Actor, ReportType, channel_words

CHANNELS = tuple(CHANNEL_NAMES)
REPORT_TYPES = tuple(t.value for t in ReportType)
_TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone


class ReportNotFound(LookupError):
    """No report with that tracking id."""


def new_tracking_id(now: datetime) -> str:
    """LAPOR!-style public tracking id, e.g. PTK-2611-7KQ3MX: city, year+month, six unguessable characters."""
    suffix = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
    return f"PTK-{now:%y%m}-{suffix}"


def insert_with_tracking_id(session: Session, now: datetime, build: Callable[[str], Report]) -> Report:
    """Insert the report `build` makes for a freshly drawn tracking id; draw again on the rare collision."""
    for _ in range(5):
        report = build(new_tracking_id(now))
        try:
            with session.begin_nested():
                session.add(report)
        except IntegrityError:
            if session.scalar(select(Report.id).where(Report.tracking_id == report.tracking_id)) is None:
                raise  # another unique value (an external reference sent twice at once): the caller's to answer
            continue  # tracking id collision: draw again
        return report
    raise RuntimeError("could not draw a unique tracking id")


def get_by_tracking_id(session: Session, tracking_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
    if report is None:
        raise ReportNotFound(tracking_id)
    return report


def photo_count(session: Session, report: Report) -> int:
    """The reporter's photos of a report, supplements' included (what the verification form counts)."""
    count = session.scalar(
        select(func.count(Photo.id)).where(Photo.report_id == report.id, Photo.kind == PhotoKind.REPORT.value)
    )
    return int(count or 0)


def channel_name(report: Report) -> str:
    """The channel in words; a staff-intake report names where staff received it (Tasklist and the staff page)."""
    return channel_words(report.channel, report.source)


def process_variables(report: Report, *, photo_count: int = 0) -> dict[str, Any]:
    """The only place that maps a report to process variables: ids, codes, their public master-data names and
    flags, never personal data.

    Primitives only (the engine has no JSON variables here): the staff page behind `reportSummaryUrl` shows the
    photos. The codes drive the model (routing-opd.dmn); the names are what the Tasklist forms show.
    """
    return {
        TRACKING_ID_VARIABLE: report.tracking_id,
        "channel": report.channel,
        "channelName": channel_name(report),
        REPORT_TYPE_VARIABLE: report.report_type,
        "category": report.category,
        "categoryName": masterdata.name_of(masterdata.get_category, report.category) or report.category,
        "kecamatanCode": report.kecamatan_code,
        "kecamatanName": masterdata.name_of(masterdata.get_kecamatan, report.kecamatan_code) or report.kecamatan_code,
        "kelurahanCode": report.kelurahan_code,
        "kelurahanName": masterdata.name_of(masterdata.get_kelurahan, report.kelurahan_code) or report.kelurahan_code,
        "anonymous": report.anonymous,
        "confidential": report.confidential,
        "photoCount": photo_count,
        # The signed link to the staff's report page is set by the deadline worker, renewed per stage.
        "reportSummaryUrl": "",
    }


def record_event(
    session: Session,
    *,
    report: Report,
    kind: EventKind,
    actor: Actor,
    at: datetime,
    task_id: str | None,
    status: ReportStatus | None = None,
    detail: str | None = None,
    recorded_by: str = WORKERS_ACCOUNT,
) -> bool:
    """Append to the timeline once per external task; False when this task already wrote it (a retry).

    The audit trail gets the same step, written by `recorded_by` (the workers' engine login), with who decided it.
    The note (a staff member's free text, which may name the reporter) stays on the timeline only: the entry holds
    the event's id, the note's length and SHA-256 (lapor.audit.record_message's way), so an erasure can redact the
    note without touching the append-only chain, and the digest still tells whether the text is the one written.
    """
    if task_id is not None and session.scalar(select(ReportEvent.id).where(ReportEvent.task_id == task_id)):
        return False
    event = ReportEvent(
        report_id=report.id,
        kind=kind.value,
        status=status.value if status else None,
        actor=actor.value,
        detail=detail,
        occurred_at=at,
        task_id=task_id,
    )
    session.add(event)
    session.flush()  # the event's id, for the audit entry
    if status is not None:
        report.status = status.value
        if status in CLOSED_STATUSES:
            report.closed_at = at
    audit.record(
        session,
        report,
        action=_AUDITED_KINDS[kind],
        actor_kind=audit.AuditActor.LAYANAN,
        actor=recorded_by,
        at=at,
        detail={
            "status": status.value if status else None,
            "opd": report.opd_code,
            "decided_by": actor.label,
            "event_id": event.id,
            "note_length": len(detail) if detail is not None else None,
            "note_sha256": hashlib.sha256(detail.encode()).hexdigest() if detail is not None else None,
            "text": f"{status.label} (oleh {actor.label})" if status else _AUDITED_KINDS[kind].label,
        },
    )
    return True


_AUDITED_KINDS = {
    EventKind.STATUS: audit.AuditAction.STATUS_CHANGED,
    EventKind.REMINDER: audit.AuditAction.REMINDER_SENT,
    EventKind.ESCALATION: audit.AuditAction.ESCALATED,
    EventKind.NATIONAL_RETURN: audit.AuditAction.RETURNED_TO_NATIONAL,
}
