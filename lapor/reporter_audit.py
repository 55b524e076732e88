"""The reporter's own audit chain: actions on a person rather than on one report.

A report's trail (lapor.audit) records what happened to the report. Some actions concern the reporter whatever
their reports: staff reading their identity (name, e-mail, phone), an export of everything held about them, and,
later, a correction of their contact details, an erasure, a withdrawn consent. Those are one `ReporterAuditEntry`
each, in the action's transaction, chained per reporter by the same HMAC-SHA256 and key as the report trails
(lapor.chain), the chain's head on the reporter's row. One entry per action (not one per report): a reporter
without a report is covered, an export of fifty reports is one entry, and an erasure that anonymises the reporter's
row keeps the chain (it names the reporter by their row's id only).

The detail never holds the reporter's name, e-mail or phone, nor what was searched for: how staff found the
reporter (by e-mail or by phone), not the address typed.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.chain import AuditActor, Chain, Detail, canonical
from lapor.models import Reporter, ReporterAuditEntry

__all__ = ["ReporterAction", "ReporterBroken", "ReporterVerdict", "entries", "record", "verify"]

_FORMAT = "reporter-1"  # not the report trail's 1: an entry cannot be moved from one kind of chain to the other


class ReporterAction(StrEnum):
    IDENTITY_READ = "identity_read"  # a staff page showed the reporter's name, e-mail or phone
    DATA_EXPORTED = "data_exported"  # everything held about them, handed out (issue 23 item 1)
    CONTACT_CORRECTED = "contact_corrected"  # their e-mail or phone replaced, proved by a code (lapor.correction)
    ERASED = "erased"  # their identity erased on request or by retention (lapor.erasure)

    @property
    def label(self) -> str:
        return {
            "identity_read": "Identitas pelapor dibuka petugas",
            "data_exported": "Data pribadi diunduh",
            "contact_corrected": "Kontak pelapor diganti",
            "erased": "Data pribadi dihapus",
        }[self.value]


REPORTER_CHAIN = Chain(
    entry=ReporterAuditEntry,
    owner=Reporter,
    owner_column="reporter_id",
    tag=_FORMAT,
    columns=("seq", "occurred_at", "recorded_at", "actor_kind", "actor", "action", "detail", "prev_hash"),
    noun="chain",
)


def record(
    session: Session,
    reporter: Reporter,
    *,
    action: ReporterAction,
    actor_kind: AuditActor,
    actor: str,
    at: datetime,
    detail: Detail | None = None,
    key: bytes | None = None,
) -> ReporterAuditEntry:
    """Append one entry to the reporter's chain in the caller's transaction (the reporter's row locked meanwhile)."""
    head = REPORTER_CHAIN.lock(session, reporter)
    entry = ReporterAuditEntry(
        occurred_at=at,
        recorded_at=at,
        actor_kind=actor_kind.value,
        actor=actor[:64],
        action=action.value,
        detail=canonical(detail),
    )
    appended: ReporterAuditEntry = REPORTER_CHAIN.append(session, reporter, entry, head, key=key)
    return appended


def entries(session: Session, reporter: Reporter) -> list[ReporterAuditEntry]:
    """The reporter's chain in order."""
    return list(
        session.scalars(
            select(ReporterAuditEntry)
            .where(ReporterAuditEntry.reporter_id == reporter.id)
            .order_by(ReporterAuditEntry.seq)
        )
    )


@dataclass(frozen=True, slots=True)
class ReporterBroken:
    reporter_id: int
    entry_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"reporter audit entry {self.entry_id} (reporter {self.reporter_id}, #{self.seq})"
        return f"{where if self.entry_id else f'reporter {self.reporter_id}'}: {self.reason}"


@dataclass(slots=True)
class ReporterVerdict:
    reporters: int = 0
    entries: int = 0
    broken: list[ReporterBroken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def verify(session: Session, *, key: bytes | None = None) -> ReporterVerdict:
    """Recompute every reporter's chain; name each entry changed, removed or forged, and each cut-off tail."""
    check = REPORTER_CHAIN.verify(session, key=key)
    broken = [ReporterBroken(link.owner_id, link.entry_id, link.seq, link.reason) for link in check.broken]
    return ReporterVerdict(reporters=check.chained, entries=check.entries, broken=broken)
