"""The reporter's own audit chain: actions on a person rather than on one report.

A report's trail (lapor.audit) records what happened to the report. Some actions concern the reporter whatever
their reports: staff reading their identity (name, e-mail, phone), an export of everything held about them, and,
later, a correction of their contact details, an erasure, a withdrawn consent. Those are one `ReporterAuditEntry`
each, in the action's transaction, chained per reporter by the same HMAC-SHA256 and key as the report trails, the
chain's head on the reporter's row. One entry per action (not one per report): a reporter without a report is
covered, an export of fifty reports is one entry, and an erasure that anonymises the reporter's row keeps the chain
(it names the reporter by their row's id only).

The detail never holds the reporter's name, e-mail or phone, nor what was searched for: how staff found the
reporter (by e-mail or by phone), not the address typed.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.audit import GENESIS, AuditActor, Detail, _canonical, _iso, _process_key
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


def _mac(key: bytes, entry: ReporterAuditEntry) -> str:
    fields = [
        _FORMAT,
        entry.reporter_id,
        entry.seq,
        _iso(entry.occurred_at),
        _iso(entry.recorded_at),
        entry.actor_kind,
        entry.actor,
        entry.action,
        entry.detail,
        entry.prev_hash,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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
    head = session.execute(
        select(Reporter.audit_seq, Reporter.audit_head).where(Reporter.id == reporter.id).with_for_update()
    ).one()
    entry = ReporterAuditEntry(
        reporter_id=reporter.id,
        seq=head.audit_seq + 1,
        occurred_at=at,
        recorded_at=at,
        actor_kind=actor_kind.value,
        actor=actor[:64],
        action=action.value,
        detail=_canonical(detail),
        prev_hash=head.audit_head or GENESIS,
    )
    entry.hash = _mac(key or _process_key(), entry)
    session.add(entry)
    reporter.audit_seq = entry.seq
    reporter.audit_head = entry.hash
    session.flush()
    return entry


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
    key = key or _process_key()
    verdict = ReporterVerdict()
    heads = {row.id: row for row in session.execute(select(Reporter.id, Reporter.audit_seq, Reporter.audit_head))}
    chains: dict[int, tuple[int, str]] = {}
    rows = select(ReporterAuditEntry).order_by(ReporterAuditEntry.reporter_id, ReporterAuditEntry.seq)
    for entry in session.scalars(rows.execution_options(yield_per=1000)):
        verdict.entries += 1
        seq, previous = chains.get(entry.reporter_id, (0, GENESIS))
        reasons = [
            *([f"entries #{seq + 1} to #{entry.seq - 1} are missing"] if entry.seq > seq + 1 else []),
            *(["it does not follow the entry before it"] if entry.prev_hash != previous else []),
            *(
                ["its MAC does not match its content: it was changed after it was written"]
                if not hmac.compare_digest(_mac(key, entry), entry.hash)
                else []
            ),
        ]
        verdict.broken += [ReporterBroken(entry.reporter_id, entry.id, entry.seq, reason) for reason in reasons]
        chains[entry.reporter_id] = (entry.seq, entry.hash)
    for reporter_id, head in heads.items():
        seq, last = chains.get(reporter_id, (0, None))
        if head.audit_seq == 0 and seq == 0:
            continue  # nothing recorded about this reporter yet
        verdict.reporters += 1
        if head.audit_seq != seq or head.audit_head != last:
            reason = f"its head says {head.audit_seq} entries, the chain holds {seq}"
            verdict.broken.append(ReporterBroken(reporter_id, None, None, reason))
    return verdict
