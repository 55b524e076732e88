"""The audit trail of each report: who did what and when, append-only and tamper-evident.

Every action on a report, by a person (the reporter, staff in Tasklist, an OPD liaison), a service (the workers,
the API) or a channel (SMS 1708, the national LAPOR!), is one `AuditEntry`, written in the same transaction as the
action itself. Task actions people take in Tasklist and Cockpit (claim, complete, reassign, retry) are imported from
the engine's user operation log (`import_engine_operations`), once each.

Each entry carries an HMAC-SHA256 of its content and of the previous entry's MAC, keyed with `LAPOR_AUDIT_KEY`
(production) or a local key file (lapor.chain, shared with the reporters' chains of lapor.reporter_audit), and the
report row holds the chain's head (count and last MAC). `verify` (and `python -m lapor.audit verify`, which checks
the reporters' chains too) recomputes every chain and names each entry that was changed, removed or forged, and
each report whose tail was cut off. The database also refuses any UPDATE of an entry (migration 0009). Someone
who holds both the database and the key can still rewrite a chain: keep the key out of the database's backups.

The trail never holds the reporter's name, e-mail or phone: a reporter's action names the actor "pelapor", a
notice names the kind of recipient and the channel, never the address. Free text (a message, a staff member's note
on a timeline step) is held by its length and SHA-256 only, with the id of the row that keeps the words; the readable
trail (`trail`, the staff page, the exports) shows the note as that row reads now, so a note redacted by an erasure
(lapor.erasure) reads redacted here, while the chain itself never changes. Entries written before timeline notes
were held this way (December 2026) may still hold a note in their detail ("note", or "text" for a step without a
status); the chain forbids rewriting them, so they stay as written (docs/operations.md, "Penghapusan data pelapor").
"""

import argparse
import asyncio
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lapor import reporter_audit
from lapor.chain import AuditActor, Chain, Detail, audit_key, canonical, iso, process_key
from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.models import AuditEntry, MessageKind, Report, ReportEvent, ReportMessage
from lapor.notifications.templates import format_due_date
from lapor.process.client import EngineClient
from lapor.process.history import UserOperation, historic_tasks, user_operations
from lapor.settings import get_settings
from lapor.vocabulary import PROCESS_ID, channel_words

__all__ = [
    "AuditAction",
    "AuditActor",
    "Broken",
    "TrailLine",
    "Verdict",
    "audit_key",
    "export_csv",
    "export_json",
    "record",
    "trail",
    "verify",
]

log = structlog.get_logger(__name__)

ENGINE_OPERATION = "engine-op:"  # source_ref prefix of an imported engine operation
_PAGE = 500


class AuditAction(StrEnum):
    REPORT_RECEIVED = "report_received"
    STATUS_CHANGED = "status_changed"
    REMINDER_SENT = "reminder_sent"
    ESCALATED = "escalated"
    RETURNED_TO_NATIONAL = "returned_to_national"
    MESSAGE_ADDED = "message_added"
    PHOTO_ADDED = "photo_added"
    PHOTOS_REMOVED = "photos_removed"
    NOTIFICATION_SENT = "notification_sent"
    DEADLINE_RECOMPUTED = "deadline_recomputed"
    TASK_ACTION = "task_action"
    ENGINE_ACTION = "engine_action"
    TRAIL_EXPORTED = "trail_exported"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    AuditAction.REPORT_RECEIVED: "Laporan diterima",
    AuditAction.STATUS_CHANGED: "Status berubah",
    AuditAction.REMINDER_SENT: "Pengingat batas waktu",
    AuditAction.ESCALATED: "Eskalasi ke Koordinator",
    AuditAction.RETURNED_TO_NATIONAL: "Dikembalikan ke Admin Pusat",
    AuditAction.MESSAGE_ADDED: "Pesan ditambahkan",
    AuditAction.PHOTO_ADDED: "Foto ditambahkan",
    AuditAction.PHOTOS_REMOVED: "Foto dihapus",
    AuditAction.NOTIFICATION_SENT: "Pemberitahuan terkirim",
    AuditAction.DEADLINE_RECOMPUTED: "Batas waktu dihitung ulang",
    AuditAction.TASK_ACTION: "Tindakan pada tugas",
    AuditAction.ENGINE_ACTION: "Tindakan pada proses",
    AuditAction.TRAIL_EXPORTED: "Jejak audit diekspor",
}

# Operaton's operation types, as staff read them.
OPERATION_LABELS = {
    "Claim": "diambil",
    "Complete": "diselesaikan",
    "Assign": "dialihkan",
    "Delegate": "didelegasikan",
    "Resolve": "dikembalikan ke pemilik",
    "SetOwner": "pemiliknya diganti",
    "Update": "diubah",
    "SetJobRetries": "dicoba ulang",
    "SetExternalTaskRetries": "dicoba ulang",
    "ModifyVariable": "variabelnya diubah",
    "SetVariable": "variabelnya diubah",
    "RemoveVariable": "variabelnya dihapus",
    "Suspend": "ditangguhkan",
    "Activate": "dilanjutkan",
    "Delete": "dihapus",
    "ModifyProcessInstance": "dipindahkan",
    "Migrate": "dimigrasikan",
}
# The task properties an operation changes that a supervisor reads (never a variable's value), in words.
_PROPERTY_WORDS = {
    "assignee": "pemegang",
    "owner": "pemilik",
    "dueDate": "batas waktu",
    "followUpDate": "tanggal tindak lanjut",
    "delegation": "delegasi",
    "priority": "prioritas",
}


# -- writing -------------------------------------------------------------------------------------------------------
_FORMAT = 1  # the layout of the MAC's input; a new layout gets a new number and keeps verifying the old one
REPORT_CHAIN = Chain(
    entry=AuditEntry,
    owner=Report,
    owner_column="report_id",
    tag=_FORMAT,
    columns=(
        "seq",
        "occurred_at",
        "recorded_at",
        "actor_kind",
        "actor",
        "action",
        "detail",
        "source_ref",
        "prev_hash",
    ),
    noun="trail",
    label="tracking_id",
)
_process_key = process_key  # the commands and tests that read the key of this process


def record(
    session: Session,
    report: Report,
    *,
    action: AuditAction,
    actor_kind: AuditActor,
    actor: str,
    at: datetime,
    detail: Detail | None = None,
    source_ref: str | None = None,
    recorded_at: datetime | None = None,
    key: bytes | None = None,
) -> AuditEntry | None:
    """Append one entry to the report's chain in the caller's transaction; None if `source_ref` is in already.

    The report's row is locked while appending (SELECT ... FOR UPDATE), so two writers never fork the chain.
    """
    if report.id is None:
        session.flush()
    head = REPORT_CHAIN.lock(session, report)
    if source_ref is not None and session.scalar(select(AuditEntry.id).where(AuditEntry.source_ref == source_ref)):
        return None
    entry = AuditEntry(
        occurred_at=at,
        recorded_at=recorded_at or at,
        actor_kind=actor_kind.value,
        actor=actor[:64],
        action=action.value,
        detail=canonical(detail),
        source_ref=source_ref,
    )
    appended: AuditEntry = REPORT_CHAIN.append(session, report, entry, head, key=key)
    return appended


def record_received(
    session: Session,
    report: Report,
    *,
    photos: int,
    at: datetime,
    source: str | None = None,
    external_ref: str | None = None,
    filed_by: str | None = None,
) -> AuditEntry | None:
    """The trail's first entry: which channel brought the report in, and who filed it when staff did."""
    if report.channel == "web":  # the web page, the JSON API, Open311: the reporter themself
        kind, actor = AuditActor.PELAPOR, AuditActor.PELAPOR.value
    elif report.channel == "staff":
        kind, actor = AuditActor.STAF, filed_by or "token intake petugas"
    else:
        kind, actor = AuditActor.SALURAN, report.channel
    return record(
        session,
        report,
        action=AuditAction.REPORT_RECEIVED,
        actor_kind=kind,
        actor=actor,
        at=at,
        detail={
            "channel": report.channel,
            "source": source,
            "external_ref": external_ref,
            "report_type": report.report_type,
            "category": report.category,
            "kelurahan": report.kelurahan_code,
            "photos": photos,
            "anonymous": report.anonymous,
            "confidential": report.confidential,
            "show_name": report.show_reporter_name,
            "text": f"Laporan masuk: {channel_words(report.channel, source)}",
        },
    )


def record_message(
    session: Session,
    report: Report,
    message: ReportMessage,
    *,
    actor_kind: AuditActor,
    actor: str,
    photos: int = 0,
    key: bytes | None = None,
) -> AuditEntry | None:
    """A message added to the report: its kind, length and SHA-256, not its words (they may name the reporter);
    the digest shows later whether the stored text is still the one written."""
    session.flush()  # the message's id
    return record(
        session,
        report,
        action=AuditAction.MESSAGE_ADDED,
        actor_kind=actor_kind,
        actor=actor,
        at=message.created_at,
        detail={
            "message_id": message.id,
            "kind": message.kind,
            "accepted": message.accepted,
            "length": len(message.text),
            "text_sha256": hashlib.sha256(message.text.encode()).hexdigest(),
            "photos": photos,
            "text": _message_label(message.kind) + (f", {photos} foto" if photos else ""),
        },
        key=key,
    )


def _message_label(kind: str) -> str:
    try:
        return MessageKind(kind).label
    except ValueError:
        return kind


# -- verifying -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Broken:
    """One place where a chain does not hold: the entry (or the report, for a cut-off tail) and why."""

    tracking_id: str
    entry_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = (
            f"audit entry {self.entry_id} (report {self.tracking_id}, #{self.seq})"
            if self.entry_id
            else (f"report {self.tracking_id}")
        )
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class Verdict:
    reports: int = 0
    entries: int = 0
    broken: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def verify(session: Session, *, tracking_id: str | None = None, key: bytes | None = None) -> Verdict:
    """Recompute every chain (or one report's) and name each entry or report where it breaks."""
    one = select(Report.id).where(Report.tracking_id == tracking_id) if tracking_id is not None else None
    check = REPORT_CHAIN.verify(session, key=key, owners=one)
    broken = [
        Broken(link.label or f"(report id {link.owner_id})", link.entry_id, link.seq, link.reason)
        for link in check.broken
    ]
    return Verdict(reports=check.owners, entries=check.entries, broken=broken)


# -- reading -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrailLine:
    """One entry as supervisors read it."""

    seq: int
    occurred_at: datetime
    recorded_at: datetime
    actor_kind: str
    actor: str
    action: str
    detail: dict[str, object]
    hash: str
    note: str | None = None  # the timeline event's note as it reads now (redacted after an erasure)

    @property
    def when(self) -> str:
        return format_due_date(self.occurred_at)

    @property
    def who(self) -> str:
        try:
            kind = AuditActor(self.actor_kind)
        except ValueError:
            return self.actor
        return kind.label if kind is AuditActor.PELAPOR else f"{kind.label}: {self.actor}"

    @property
    def what(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action

    @property
    def summary(self) -> str:
        """The detail in a line of words."""
        d = self.detail
        if self.action in (AuditAction.TASK_ACTION, AuditAction.ENGINE_ACTION):
            verb = OPERATION_LABELS.get(str(d.get("operation")), str(d.get("operation")))
            subject = f"Tugas «{d['task']}»" if d.get("task") else str(d.get("entity", "Proses"))
            changes = d.get("changes")
            extra = f" ({changes})" if isinstance(changes, str) and changes else ""
            return f"{subject} {verb}{extra}"
        text = str(d.get("text") or "")
        if not self.note:
            return text
        return f"{text}: {self.note}" if d.get("status") else self.note


def trail(session: Session, report: Report) -> list[TrailLine]:
    """The report's entries in the order they happened (ties in the order they were written)."""
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.report_id == report.id).order_by(AuditEntry.occurred_at, AuditEntry.seq)
    ).all()
    details = [json.loads(row.detail) for row in rows]
    # A timeline step's note is read from the timeline (lapor.reports.record_event keeps only its digest here).
    event_ids = [d["event_id"] for d in details if isinstance(d.get("event_id"), int)]
    found = session.execute(select(ReportEvent.id, ReportEvent.detail).where(ReportEvent.id.in_(event_ids)))
    notes = {event_id: note for event_id, note in found} if event_ids else {}
    return [
        TrailLine(
            seq=row.seq,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            actor_kind=row.actor_kind,
            actor=row.actor,
            action=row.action,
            detail=detail,
            hash=row.hash,
            note=notes.get(detail["event_id"]) if isinstance(detail.get("event_id"), int) else None,
        )
        for row, detail in zip(rows, details, strict=True)
    ]


def export_json(report: Report, lines: Iterable[TrailLine]) -> str:
    """The trail as JSON: every field, the MACs included, so a reader can check the links of the chain."""
    return json.dumps(
        {
            "tracking_id": report.tracking_id,
            "entries": [
                {
                    "seq": line.seq,
                    "occurred_at": iso(line.occurred_at),
                    "recorded_at": iso(line.recorded_at),
                    "actor_kind": line.actor_kind,
                    "actor": line.actor,
                    "action": line.action,
                    "detail": line.detail,
                    "note": line.note,
                    "hash": line.hash,
                }
                for line in lines
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def export_csv(lines: Iterable[TrailLine]) -> str:
    """The trail as a spreadsheet reads it (UTF-8 with BOM for Excel), Indonesian headers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["No.", "Waktu (WIB)", "Pelaku", "Tindakan", "Keterangan", "Dicatat (UTC)", "MAC"])
    for line in lines:
        writer.writerow([line.seq, line.when, line.who, line.what, line.summary, iso(line.recorded_at), line.hash])
    return "\ufeff" + out.getvalue()


# -- the engine's side: what people did in Tasklist and Cockpit ----------------------------------------------------
def _task_detail(operation: UserOperation, names: Mapping[str, str]) -> dict[str, str | None]:
    """What the operation did, without values a person typed: who holds the task now, its new due date."""
    changes = "; ".join(
        f"{_PROPERTY_WORDS[c.property]}: {c.before or 'kosong'} → {c.after or 'kosong'}"
        for c in operation.changes
        if c.property in _PROPERTY_WORDS
    )
    return {
        "operation": operation.operation_type,
        "entity": operation.entity_type,
        "task": names.get(operation.task_id or "") or None,
        "changes": changes or None,
    }


def import_operations(
    session: Session, report: Report, operations: Iterable[UserOperation], task_names: Mapping[str, str], now: datetime
) -> int:
    """Append the operations people did on the report's instance that the trail does not hold yet; how many."""
    added = 0
    for operation in operations:
        if operation.by_service:
            continue  # the services' own steps are recorded by the application where they happen
        is_task = operation.entity_type in ("Task", "IdentityLink") and operation.task_id is not None
        entry = record(
            session,
            report,
            action=AuditAction.TASK_ACTION if is_task else AuditAction.ENGINE_ACTION,
            actor_kind=AuditActor.STAF,
            actor=operation.user_id,
            at=operation.timestamp,
            recorded_at=now,
            detail=_task_detail(operation, task_names),
            source_ref=f"{ENGINE_OPERATION}{operation.operation_id}",
        )
        added += entry is not None
    return added


def import_engine_operations(session: Session, client: EngineClient, report: Report, now: datetime) -> int:
    """Bring the report's Tasklist and Cockpit actions into its trail (idempotent); how many were new."""
    if not report.process_instance_id:
        return 0
    operations = user_operations(client, process_instance_id=report.process_instance_id)
    if not any(not op.by_service for op in operations):
        return 0
    names = {task.id: task.name for task in historic_tasks(client, process_instance_id=report.process_instance_id)}
    return import_operations(session, report, operations, names, now)


def collect(db: Engine, client: EngineClient, now: datetime, *, overlap: timedelta = timedelta(minutes=10)) -> int:
    """Import the operations people did on every report since the last import (less `overlap`, for operations
    committed late); each report in its own transaction. How many entries were new."""
    with session_scope(db) as session:
        last = session.scalar(
            select(func.max(AuditEntry.occurred_at)).where(AuditEntry.source_ref.like(f"{ENGINE_OPERATION}%"))
        )
    after = last - overlap if last is not None else None
    operations: list[UserOperation] = []
    while True:
        page = user_operations(client, process_definition_key=PROCESS_ID, after=after, max_results=_PAGE)
        operations += page
        if len(page) < _PAGE or page[-1].timestamp == after:
            break
        after = page[-1].timestamp - timedelta(milliseconds=1)
    by_instance: dict[str, list[UserOperation]] = {}
    for operation in operations:
        if not operation.by_service:
            by_instance.setdefault(operation.process_instance_id, []).append(operation)
    added = 0
    for instance_id, mine in by_instance.items():
        with session_scope(db) as session:
            refs = [f"{ENGINE_OPERATION}{op.operation_id}" for op in mine]
            known = set(session.scalars(select(AuditEntry.source_ref).where(AuditEntry.source_ref.in_(refs))))
            new = [op for op in mine if f"{ENGINE_OPERATION}{op.operation_id}" not in known]
            report = session.scalar(select(Report).where(Report.process_instance_id == instance_id))
            if not new or report is None:
                continue
            names = {task.id: task.name for task in historic_tasks(client, process_instance_id=instance_id)}
            added += import_operations(session, report, new, names, now)
    return added


class Collector:
    """Imports Tasklist's and Cockpit's actions into the trails every `interval` seconds (inside the API)."""

    def __init__(self, client: EngineClient, db: Engine, *, interval: float = 30.0) -> None:
        self._client, self._db, self._interval = client, db, interval

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                added = await asyncio.to_thread(collect, self._db, self._client, datetime.now(UTC))
                if added:
                    log.info("audit.collected", entries=added)
            except Exception:
                log.exception("audit.collect_failed")  # the engine away: the next round imports what it missed
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                pass


# -- the operator's command ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None, *, db: Engine | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.audit", description="Jejak audit laporan / audit trail")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="recompute every chain; exit 1 and name each broken entry")
    check.add_argument("tracking_id", nargs="?", help="only this report")
    out = commands.add_parser("export", help="one report's trail as JSON or CSV on standard output")
    out.add_argument("tracking_id")
    out.add_argument("--format", choices=("json", "csv"), default="json")
    commands.add_parser("collect", help="import the Tasklist and Cockpit actions the trail does not hold yet")
    args = parser.parse_args(argv)
    db = db or default_engine()
    if args.command == "verify":
        with session_scope(db) as session:
            verdict = verify(session, tracking_id=args.tracking_id)
            people = reporter_audit.verify(session) if args.tracking_id is None else reporter_audit.ReporterVerdict()
        for broken in [*verdict.broken, *people.broken]:
            print(f"BROKEN {broken}")
        state = "intact" if verdict.ok else f"{len(verdict.broken)} problems"
        print(f"{verdict.entries} entries in {verdict.reports} reports checked: {state}")
        if args.tracking_id is None:
            state = "intact" if people.ok else f"{len(people.broken)} problems"
            print(f"{people.entries} entries in {people.reporters} reporters' chains checked: {state}")
        return 0 if verdict.ok and people.ok else 1
    if args.command == "export":
        with session_scope(db) as session:
            report = session.scalar(select(Report).where(Report.tracking_id == args.tracking_id))
            if report is None:
                print(f"no report {args.tracking_id}", file=sys.stderr)
                return 2
            lines = trail(session, report)
            sys.stdout.write(export_json(report, lines) if args.format == "json" else export_csv(lines))
        return 0
    with EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password) as client:
        print(f"{collect(db, client, datetime.now(UTC))} new entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
