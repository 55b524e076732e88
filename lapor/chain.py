"""The keyed hash chain behind both audit trails: a report's (lapor.audit) and a reporter's (lapor.reporter_audit).

Each entry carries an HMAC-SHA256 of its content and of the previous entry's MAC, keyed with `LAPOR_AUDIT_KEY`
(production) or a local key file; the owner's row (the report, the reporter) holds the chain's head (count and last
MAC). A `Chain` names one kind: its entry table, its owner table, the tag that starts the MAC's input and the entry
columns that follow it. The layout of each kind's MAC input never changes: a new layout gets a new tag.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from lapor.settings import Settings, get_settings
from lapor.signed_links import local_key

__all__ = [
    "GENESIS",
    "AuditActor",
    "Chain",
    "Check",
    "Detail",
    "Head",
    "Link",
    "audit_key",
    "canonical",
    "iso",
    "process_key",
]

GENESIS = "0" * 64  # the "previous MAC" of a chain's first entry
LOCAL_KEY_FILE = "audit.key"
Detail = Mapping[str, str | int | float | bool | Sequence[str] | None]


# -- the key -------------------------------------------------------------------------------------------------------
def audit_key(settings: Settings) -> bytes:
    """LAPOR_AUDIT_KEY, shared by the API, the workers and the commands; production refuses to run without one."""
    if settings.audit_key:
        return settings.audit_key.encode()
    if settings.environment == "production":
        raise RuntimeError("LAPOR_AUDIT_KEY must be set in production")
    return local_key(Path(settings.data_dir) / LOCAL_KEY_FILE)


@cache
def process_key() -> bytes:
    return audit_key(get_settings())


# -- an entry's content ----------------------------------------------------------------------------------------------
def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(detail: Detail | None) -> str:
    """The detail as stored and hashed: sorted keys, no spaces, lists for tuples."""
    plain = {k: list(v) if isinstance(v, list | tuple) else v for k, v in (detail or {}).items()}
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class AuditActor(StrEnum):
    """Who acted, by kind, in both trails; `actor` names them within the kind (never the reporter)."""

    PELAPOR = "pelapor"  # the reporter: never named
    STAF = "staf"  # a staff member or an OPD liaison, by their engine login
    LAYANAN = "layanan"  # a service: the workers, the API, an operator's command
    SALURAN = "saluran"  # a channel that brought the report in: SMS 1708, the national LAPOR!, Open311, the web

    @property
    def label(self) -> str:
        return {
            "pelapor": "Pelapor",
            "staf": "Petugas",
            "layanan": "Layanan sistem",
            "saluran": "Saluran",
        }[self.value]


class Head(NamedTuple):
    seq: int
    mac: str | None


class Link(NamedTuple):
    """One place where a chain does not hold: the entry (None for a cut-off tail) and why."""

    owner_id: int
    label: str | None  # the owner's name in reports (a report's tracking id), None when the chain has none
    entry_id: int | None
    seq: int | None
    reason: str


@dataclass(slots=True)
class Check:
    owners: int = 0  # every owner row looked at
    chained: int = 0  # those with at least one entry, or a head that says so
    entries: int = 0
    broken: list[Link] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Chain:
    """One kind of chain: entries of `entry` owned through `owner_column` by rows of `owner` (with audit_seq and
    audit_head); the MAC's input is `[tag, owner id, *columns]`, datetimes in ISO form, as JSON."""

    entry: Any  # the entry model: id, seq, hash, prev_hash and the columns below
    owner: Any  # the owner model: id, audit_seq, audit_head
    owner_column: str
    tag: int | str
    columns: tuple[str, ...]
    noun: str  # what the reasons call it: "trail", "chain"
    label: str | None = None  # the owner's column that names it in reasons (Report.tracking_id)

    def mac(self, key: bytes, entry: Any) -> str:
        values = [getattr(entry, column) for column in self.columns]
        fields = [
            self.tag,
            getattr(entry, self.owner_column),
            *(iso(v) if isinstance(v, datetime) else v for v in values),
        ]
        message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def lock(self, session: Session, owner: Any) -> Head:
        """The owner's head, its row locked (SELECT ... FOR UPDATE) until the caller's transaction ends."""
        row = session.execute(
            select(self.owner.audit_seq, self.owner.audit_head).where(self.owner.id == owner.id).with_for_update()
        ).one()
        return Head(row.audit_seq, row.audit_head)

    def append(self, session: Session, owner: Any, entry: Any, head: Head, *, key: bytes | None = None) -> Any:
        """Link `entry` after `head` (from `lock`), add it and move the owner's head, in the caller's transaction."""
        setattr(entry, self.owner_column, owner.id)
        entry.seq = head.seq + 1
        entry.prev_hash = head.mac or GENESIS
        entry.hash = self.mac(key or process_key(), entry)
        session.add(entry)
        owner.audit_seq = entry.seq
        owner.audit_head = entry.hash
        session.flush()
        return entry

    def verify(self, session: Session, *, key: bytes | None = None, owners: Select[Any] | None = None) -> Check:
        """Recompute every chain (or those of `owners`, a select of owner ids) and name each place it breaks."""
        key = key or process_key()
        check = Check()
        label = getattr(self.owner, self.label) if self.label else self.owner.id
        rows = select(self.owner.id, label.label("label"), self.owner.audit_seq, self.owner.audit_head)
        if owners is not None:
            rows = rows.where(self.owner.id.in_(owners))
        heads = {row.id: row for row in session.execute(rows.order_by(self.owner.id))}
        owner_of = getattr(self.entry, self.owner_column)
        entries = select(self.entry).order_by(owner_of, self.entry.seq)
        if owners is not None:
            entries = entries.where(owner_of.in_(heads))
        chains: dict[int, tuple[int, str]] = {}  # owner id -> (last seq, last MAC) seen
        for entry in session.scalars(entries.execution_options(yield_per=1000)):
            check.entries += 1
            owner_id = getattr(entry, self.owner_column)
            name = heads[owner_id].label if owner_id in heads and self.label else None
            check.broken += [
                Link(owner_id, name, entry.id, entry.seq, reason) for reason in self._entry_reasons(key, entry, chains)
            ]
            chains[owner_id] = (entry.seq, entry.hash)
        for owner_id, head in heads.items():
            check.owners += 1
            seq, last = chains.get(owner_id, (0, None))
            check.chained += bool(seq or head.audit_seq)
            if head.audit_seq != seq or head.audit_head != last:
                name = head.label if self.label else None
                check.broken.append(Link(owner_id, name, None, None, self._head_reason(head.audit_seq, seq)))
        return check

    def _entry_reasons(self, key: bytes, entry: Any, chains: dict[int, tuple[int, str]]) -> Iterator[str]:
        seq, previous = chains.get(getattr(entry, self.owner_column), (0, GENESIS))
        if entry.seq > seq + 1:
            yield f"entries #{seq + 1} to #{entry.seq - 1} are missing"
        if entry.prev_hash != previous:
            yield "it does not follow the entry before it (its previous MAC differs)"
        if not hmac.compare_digest(self.mac(key, entry), entry.hash):
            yield "its MAC does not match its content: it was changed after it was written"

    def _head_reason(self, says: int, holds: int) -> str:
        if says != holds:
            return f"its head says {says} entries, the {self.noun} holds {holds}: entries were removed or added"
        return "its last entry is not the one its head names"
