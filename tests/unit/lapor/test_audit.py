"""The audit trail's chain: appended in order, verified, and every kind of tampering named by the entry it hit."""

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import DatabaseError

from lapor import audit, chain
from lapor.audit import AuditAction, AuditActor
from lapor.models import AuditEntry, EventKind, Report, ReportEvent, ReportStatus
from lapor.process.history import _grouped
from lapor.reports import record_event
from lapor.vocabulary import Actor
from tests.support.builders import report_row
from tests.support.database import audit_unguarded
from tests.unit.conftest import SessionFactory

KEY = b"kunci-audit-uji"
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def _report(session_factory: SessionFactory, tracking_id: str = "PTK-2612-AUDIT1") -> int:
    with session_factory() as session:
        report = report_row(tracking_id, title="Lampu jalan mati", created_at=T0)
        session.add(report)
        session.flush()
        return report.id


def _append(session_factory: SessionFactory, report_id: int, count: int, *, start: int = 0) -> None:
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        for n in range(start, start + count):
            audit.record(
                session,
                report,
                action=AuditAction.STATUS_CHANGED,
                actor_kind=AuditActor.STAF,
                actor="admin-pengaduan",
                at=T0 + timedelta(minutes=n),
                detail={"status": "PROSES", "text": f"langkah {n}"},
                key=KEY,
            )


def _verdict(session_factory: SessionFactory, tracking_id: str | None = None) -> audit.Verdict:
    with session_factory() as session:
        return audit.verify(session, tracking_id=tracking_id, key=KEY)


@pytest.fixture
def unguarded(db_engine: Engine) -> Iterator[Engine]:
    """The database with its append-only trigger lifted, as an intruder with the owner's login could; restored."""
    with audit_unguarded(db_engine):
        yield db_engine


def test_entries_chain_in_order_and_verify(session_factory: SessionFactory) -> None:
    first, second = _report(session_factory), _report(session_factory, "PTK-2612-AUDIT2")
    _append(session_factory, first, 3)
    _append(session_factory, second, 2)
    with session_factory() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.report_id == first).order_by(AuditEntry.seq)).all()
        assert [row.seq for row in rows] == [1, 2, 3]
        assert rows[0].prev_hash == chain.GENESIS
        assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
        report = session.get(Report, first)
        assert report is not None
        assert (report.audit_seq, report.audit_head) == (3, rows[-1].hash)
    verdict = _verdict(session_factory)
    assert verdict.ok, verdict.broken
    assert (verdict.reports, verdict.entries) == (2, 5)


def test_the_database_refuses_to_change_an_entry(session_factory: SessionFactory, db_engine: Engine) -> None:
    _append(session_factory, _report(session_factory), 1)
    with pytest.raises(DatabaseError, match="append-only"), db_engine.begin() as connection:
        connection.execute(update(AuditEntry).values(actor="orang-lain"))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "kepala-bidang"),
        ("action", AuditAction.TASK_ACTION.value),
        ("detail", json.dumps({"status": "SELESAI", "text": "langkah 1"})),
        ("occurred_at", T0 + timedelta(days=1)),
        ("actor_kind", AuditActor.LAYANAN.value),
    ],
)
def test_a_changed_entry_is_named(
    session_factory: SessionFactory, unguarded: Engine, column: str, value: object
) -> None:
    report_id = _report(session_factory)
    _append(session_factory, report_id, 3)
    with unguarded.begin() as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.report_id == report_id, AuditEntry.seq == 2).values({column: value})
        )
        entry_id = connection.scalar(
            select(AuditEntry.id).where(AuditEntry.report_id == report_id, AuditEntry.seq == 2)
        )
    verdict = _verdict(session_factory)
    assert [(b.entry_id, b.seq, b.tracking_id) for b in verdict.broken] == [(entry_id, 2, "PTK-2612-AUDIT1")]
    assert "changed after it was written" in str(verdict.broken[0])
    assert f"audit entry {entry_id}" in str(verdict.broken[0])


def test_a_rewritten_entry_with_a_fresh_mac_of_another_key_is_named(
    session_factory: SessionFactory, unguarded: Engine
) -> None:
    """Recomputing the MAC does not help without the key: the forged entry and the next one both break."""
    report_id = _report(session_factory)
    _append(session_factory, report_id, 3)
    with session_factory() as session:
        forged = session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        forged.actor = "kepala-bidang"
        mac = audit.REPORT_CHAIN.mac(b"kunci-tebakan", forged)
        session.expunge(forged)
    with unguarded.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="kepala-bidang", hash=mac))
    broken = _verdict(session_factory).broken
    assert [(b.seq, b.reason.split(":")[0]) for b in broken] == [
        (2, "its MAC does not match its content"),
        (3, "it does not follow the entry before it (its previous MAC differs)"),
    ]
    assert "report PTK-2612-AUDIT1" in str(broken[-1]) or any("#3" in str(b) for b in broken)


def test_a_removed_entry_and_a_cut_tail_are_named(session_factory: SessionFactory, db_engine: Engine) -> None:
    middle, tail = _report(session_factory), _report(session_factory, "PTK-2612-AUDIT2")
    _append(session_factory, middle, 3)
    _append(session_factory, tail, 3)
    with db_engine.begin() as connection:
        connection.execute(delete(AuditEntry).where(AuditEntry.report_id == middle, AuditEntry.seq == 2))
        connection.execute(delete(AuditEntry).where(AuditEntry.report_id == tail, AuditEntry.seq == 3))
    broken = [str(b) for b in _verdict(session_factory).broken]
    assert any("PTK-2612-AUDIT1, #3): entries #2 to #2 are missing" in b for b in broken), broken
    assert any(b.startswith("report PTK-2612-AUDIT2: its head says 3 entries, the trail holds 2") for b in broken)
    assert _verdict(session_factory, "PTK-2612-AUDIT2").broken and len(_verdict(session_factory).broken) == 3


def test_appending_after_verifying_keeps_the_chain(session_factory: SessionFactory) -> None:
    report_id = _report(session_factory)
    _append(session_factory, report_id, 2)
    _append(session_factory, report_id, 2, start=2)
    assert _verdict(session_factory).ok


def test_the_same_source_is_recorded_once(session_factory: SessionFactory) -> None:
    report_id = _report(session_factory)
    for _ in range(2):
        with session_factory() as session:
            report = session.get(Report, report_id)
            assert report is not None
            audit.record(
                session,
                report,
                action=AuditAction.NOTIFICATION_SENT,
                actor_kind=AuditActor.LAYANAN,
                actor="layanan notifikasi",
                at=T0,
                source_ref="notification:7",
                key=KEY,
            )
    with session_factory() as session:
        assert len(session.scalars(select(AuditEntry)).all()) == 1


def test_the_timeline_writes_its_step_into_the_trail_once(session_factory: SessionFactory) -> None:
    """lapor.reports.record_event: a retried external task adds neither a timeline row nor an audit entry."""
    report_id = _report(session_factory)
    for _ in range(2):
        with session_factory() as session:
            report = session.get(Report, report_id)
            assert report is not None
            record_event(
                session,
                report=report,
                kind=EventKind.STATUS,
                actor=Actor.ADMIN_PENGADUAN,
                at=T0,
                task_id="task-1",
                status=ReportStatus.TERVERIFIKASI,
            )
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        lines = audit.trail(session, report)
    assert [(line.action, line.actor, line.detail["status"]) for line in lines] == [
        ("status_changed", "svc-workers", "TERVERIFIKASI")
    ]
    assert lines[0].who == "Layanan sistem: svc-workers"
    assert "Admin Pengaduan" in lines[0].summary


def test_engine_operations_group_per_operation_and_import_once(session_factory: SessionFactory) -> None:
    """The log's rows (one per property) make one entry per operation; services' own rows are left out."""
    rows = [
        _log_row("op-1", "Claim", "admin-pengaduan", "assignee", None, "admin-pengaduan", "01:00:00"),
        _log_row("op-2", "Assign", "koordinator", "assignee", "admin-pengaduan", "analis", "01:05:00"),
        _log_row("op-3", "Complete", "analis", "delete", None, "true", "01:10:00"),
        _log_row("op-4", "SetVariable", "svc-workers", None, None, None, "01:11:00", entity="Variable", task=None),
    ]
    operations = _grouped([*rows, {**rows[0], "property": "owner", "newValue": "admin-pengaduan"}])
    assert [op.operation_type for op in operations] == ["Claim", "Assign", "Complete", "SetVariable"]
    assert len(operations[0].changes) == 2
    report_id = _report(session_factory)
    for _ in range(2):
        with session_factory() as session:
            report = session.get(Report, report_id)
            assert report is not None
            audit.import_operations(session, report, operations, {"task-9": "Verifikasi laporan"}, T0)
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        lines = audit.trail(session, report)
    assert [(line.actor, line.summary) for line in lines] == [
        (
            "admin-pengaduan",
            "Tugas «Verifikasi laporan» diambil "
            "(pemegang: kosong → admin-pengaduan; pemilik: kosong → admin-pengaduan)",
        ),
        ("koordinator", "Tugas «Verifikasi laporan» dialihkan (pemegang: admin-pengaduan → analis)"),
        ("analis", "Tugas «Verifikasi laporan» diselesaikan"),
    ]
    assert lines[0].occurred_at == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert lines[0].recorded_at == T0


def _log_row(
    operation: str,
    kind: str,
    user: str,
    prop: str | None,
    before: str | None,
    after: str | None,
    clock: str,
    *,
    entity: str = "Task",
    task: str | None = "task-9",
) -> dict[str, object]:
    return {
        "operationId": operation,
        "operationType": kind,
        "entityType": entity,
        "category": "TaskWorker",
        "userId": user,
        "timestamp": f"2026-12-07T{clock}.000+0000",
        "processInstanceId": "pi-1",
        "taskId": task,
        "property": prop,
        "orgValue": before,
        "newValue": after,
    }


def test_exports_hold_every_entry_and_no_reporter(session_factory: SessionFactory) -> None:
    report_id = _report(session_factory)
    _append(session_factory, report_id, 2)
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        lines = audit.trail(session, report)
        exported = json.loads(audit.export_json(report, lines))
        table = audit.export_csv(lines)
    assert exported["tracking_id"] == "PTK-2612-AUDIT1"
    assert [e["seq"] for e in exported["entries"]] == [1, 2]
    assert table.startswith("\ufeffNo.,Waktu (WIB),Pelaku,Tindakan,Keterangan")
    assert "Senin, 7 Desember 2026 pukul 08.00 WIB" in table
    assert table.count("\n") == 3


def test_a_timeline_note_is_held_by_its_digest_and_read_from_the_timeline(session_factory: SessionFactory) -> None:
    """A staff note may name the reporter: the entry holds its length and SHA-256 and the event's id; the trail reads
    the note from the timeline, so a note redacted later reads redacted, and the chain still verifies."""
    report_id = _report(session_factory)
    note = "Pak Budi Santoso (budi@example.id) mohon dihubungi"
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        for task, kind, status in (
            ("t-1", EventKind.STATUS, ReportStatus.DIKEMBALIKAN),
            ("t-2", EventKind.REMINDER, None),
        ):
            record_event(
                session,
                report=report,
                kind=kind,
                actor=Actor.ADMIN_PENGADUAN,
                at=T0,
                task_id=task,
                status=status,
                detail=note,
            )
    with session_factory() as session:
        stored = session.scalars(select(AuditEntry.detail).where(AuditEntry.report_id == report_id)).all()
        assert [text for text in stored if "Budi" in text or "budi@" in text] == []
        first = json.loads(stored[0])
        event = session.get(ReportEvent, first["event_id"])
        assert event is not None and event.detail == note
        assert (first["note_length"], first["note_sha256"]) == (len(note), hashlib.sha256(note.encode()).hexdigest())
        report = session.get(Report, report_id)
        assert report is not None
        assert [line.summary for line in audit.trail(session, report)] == [
            f"Dikembalikan (oleh Admin Pengaduan Daerah): {note}",
            note,
        ]
        for event in session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id)):
            event.detail = "Pak [dihapus] mohon dihubungi"  # what an erasure leaves
    with session_factory() as session:
        report = session.get(Report, report_id)
        assert report is not None
        lines = audit.trail(session, report)
        assert [line.note for line in lines] == ["Pak [dihapus] mohon dihubungi"] * 2
        assert "Budi" not in audit.export_csv(lines) + audit.export_json(report, lines)
        assert audit.verify(session).ok
