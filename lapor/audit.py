"""The audit trail of each report: who did what and when, append-only and tamper-evident.

Every action on a report, by a person (the reporter, staff in Tasklist, an OPD liaison), a service (the workers,
the API) or a channel (SMS 1708, the national LAPOR!), is one `AuditEntry`, written in the same transaction as the
action itself. Task actions people take in Tasklist and Cockpit (claim, complete, reassign, retry) are imported from
the engine's user operation log (`import_engine_operations`), once each.

Each entry carries an HMAC-SHA256 of its content and of the previous entry's MAC, keyed with `LAPOR_AUDIT_KEY`
(production) or a local key file, and the report row holds the chain's head (count and last MAC). `verify` (and
`python -m lapor.audit verify`) recomputes every chain and names each entry that was changed, removed or forged,
and each report whose tail was cut off. The database also refuses any UPDATE of an entry (migration 0009). Someone
who holds both the database and the key can still rewrite a chain: keep the key out of the database's backups.

The trail never holds the reporter's name, e-mail or phone: a reporter's action names the actor "pelapor", a
notice names the kind of recipient and the channel, never the address.
"""

import argparse
import asyncio
import csv
import hashlib
import hmac
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.models import AuditEntry, MessageKind, Report, ReportMessage
from lapor.notifications.templates import format_due_date
from lapor.process.client import EngineClient
from lapor.process.history import UserOperation, historic_tasks, user_operations
from lapor.settings import Settings, get_settings
from lapor.signed_links import local_key
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

GENESIS = "0" * 64  # the "previous MAC" of a report's first entry
_FORMAT = 1  # the layout of the MAC's input; a new layout gets a new number and keeps verifying the old one
LOCAL_KEY_FILE = "audit.key"
ENGINE_OPERATION = "engine-op:"  # source_ref prefix of an imported engine operation
_PAGE = 500


class AuditActor(StrEnum):
    """Who acted, by kind; `actor` names them within the kind (never the reporter)."""

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
def _process_key() -> bytes:
    return audit_key(get_settings())


# -- writing -------------------------------------------------------------------------------------------------------
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical(detail: Detail | None) -> str:
    plain = {k: list(v) if isinstance(v, list | tuple) else v for k, v in (detail or {}).items()}
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _mac(key: bytes, entry: AuditEntry) -> str:
    fields = [
        _FORMAT,
        entry.report_id,
        entry.seq,
        _iso(entry.occurred_at),
        _iso(entry.recorded_at),
        entry.actor_kind,
        entry.actor,
        entry.action,
        entry.detail,
        entry.source_ref,
        entry.prev_hash,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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
    head = session.execute(
        select(Report.audit_seq, Report.audit_head).where(Report.id == report.id).with_for_update()
    ).one()
    if source_ref is not None and session.scalar(select(AuditEntry.id).where(AuditEntry.source_ref == source_ref)):
        return None
    entry = AuditEntry(
        report_id=report.id,
        seq=head.audit_seq + 1,
        occurred_at=at,
        recorded_at=recorded_at or at,
        actor_kind=actor_kind.value,
        actor=actor[:64],
        action=action.value,
        detail=_canonical(detail),
        source_ref=source_ref,
        prev_hash=head.audit_head or GENESIS,
    )
    entry.hash = _mac(key or _process_key(), entry)
    session.add(entry)
    report.audit_seq = entry.seq
    report.audit_head = entry.hash
    session.flush()
    return entry


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
    key = key or _process_key()
    verdict = Verdict()
    reports = select(Report.id, Report.tracking_id, Report.audit_seq, Report.audit_head).order_by(Report.id)
    if tracking_id is not None:
        reports = reports.where(Report.tracking_id == tracking_id)
    heads = {row.id: row for row in session.execute(reports)}
    entries = select(AuditEntry).order_by(AuditEntry.report_id, AuditEntry.seq)
    if tracking_id is not None:
        entries = entries.where(AuditEntry.report_id.in_(heads))
    chains: dict[int, tuple[int, str]] = {}  # report id -> (last seq, last MAC) seen
    for entry in session.scalars(entries.execution_options(yield_per=1000)):
        verdict.entries += 1
        head = heads.get(entry.report_id)
        tracking = head.tracking_id if head else f"(report id {entry.report_id})"
        seq, previous = chains.get(entry.report_id, (0, GENESIS))
        broken = [
            *([f"entries #{seq + 1} to #{entry.seq - 1} are missing"] if entry.seq > seq + 1 else []),
            *(
                ["it does not follow the entry before it (its previous MAC differs)"]
                if entry.prev_hash != previous
                else []
            ),
            *(
                ["its MAC does not match its content: it was changed after it was written"]
                if not hmac.compare_digest(_mac(key, entry), entry.hash)
                else []
            ),
        ]
        verdict.broken += [Broken(tracking, entry.id, entry.seq, reason) for reason in broken]
        chains[entry.report_id] = (entry.seq, entry.hash)
    for report_id, head in heads.items():
        verdict.reports += 1
        seq, last = chains.get(report_id, (0, None))
        if head.audit_seq != seq or head.audit_head != last:
            verdict.broken.append(
                Broken(
                    head.tracking_id,
                    None,
                    None,
                    f"its head says {head.audit_seq} entries, the trail holds {seq}: entries were removed or added"
                    if head.audit_seq != seq
                    else "its last entry is not the one the report's head names",
                )
            )
    return verdict


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
        return str(d.get("text") or "")


def trail(session: Session, report: Report) -> list[TrailLine]:
    """The report's entries in the order they happened (ties in the order they were written)."""
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.report_id == report.id).order_by(AuditEntry.occurred_at, AuditEntry.seq)
    )
    return [
        TrailLine(
            seq=row.seq,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            actor_kind=row.actor_kind,
            actor=row.actor,
            action=row.action,
            detail=json.loads(row.detail),
            hash=row.hash,
        )
        for row in rows
    ]


def export_json(report: Report, lines: Iterable[TrailLine]) -> str:
    """The trail as JSON: every field, the MACs included, so a reader can check the links of the chain."""
    return json.dumps(
        {
            "tracking_id": report.tracking_id,
            "entries": [
                {
                    "seq": line.seq,
                    "occurred_at": _iso(line.occurred_at),
                    "recorded_at": _iso(line.recorded_at),
                    "actor_kind": line.actor_kind,
                    "actor": line.actor,
                    "action": line.action,
                    "detail": line.detail,
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
        writer.writerow([line.seq, line.when, line.who, line.what, line.summary, _iso(line.recorded_at), line.hash])
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
        from lapor import reporter_audit  # it builds on this module

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
