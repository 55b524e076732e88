"""The one chain helper keeps each trail's MAC input as it was: entries written before it still verify."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete

from lapor import audit, chain, reporter_audit
from lapor.audit import AuditAction, AuditActor
from lapor.models import AuditEntry, Report, Reporter, ReporterAuditEntry
from lapor.reporter_audit import ReporterAction
from tests.support.builders import report_row, reporter_row
from tests.unit.conftest import SessionFactory

KEY = b"kunci-uji"
AT = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Written by lapor.audit and lapor.reporter_audit before they shared lapor.chain (commit 14526a9), with KEY.
TASK_DETAIL = '{"changes":null,"n":3,"operation":"Claim","task":"Verifikasi «laporan»"}'
REPORT_ENTRY_MAC = "bb6a4225f726eea08ffd75d7ca1c27f1cab1ff8149dbaac08e4350b973a966e4"
CORRECTED_DETAIL = '{"contact":"email","had_one":true,"text":"Alamat email diganti"}'
REPORTER_ENTRY_MAC = "44d3fd3617d4e0876c7cd7881473a63eece48b014febaff80805ce0901570b49"


def _report_entry() -> AuditEntry:
    return AuditEntry(
        report_id=7,
        seq=1,
        occurred_at=AT,
        recorded_at=LATER,
        actor_kind="staf",
        actor="admin-pengaduan",
        action="task_action",
        detail=TASK_DETAIL,
        source_ref="engine-op:abc",
        prev_hash=chain.GENESIS,
        hash=REPORT_ENTRY_MAC,
    )


def _reporter_entry() -> ReporterAuditEntry:
    return ReporterAuditEntry(
        reporter_id=5,
        seq=1,
        occurred_at=AT,
        recorded_at=AT,
        actor_kind="pelapor",
        actor="pelapor",
        action="contact_corrected",
        detail=CORRECTED_DETAIL,
        prev_hash=chain.GENESIS,
        hash=REPORTER_ENTRY_MAC,
    )


def test_the_mac_inputs_are_those_of_before() -> None:
    assert (
        chain.canonical({"operation": "Claim", "task": "Verifikasi «laporan»", "n": 3, "changes": None}) == TASK_DETAIL
    )
    assert chain.canonical({"contact": "email", "had_one": True, "text": "Alamat email diganti"}) == CORRECTED_DETAIL
    assert audit.REPORT_CHAIN.mac(KEY, _report_entry()) == REPORT_ENTRY_MAC
    assert reporter_audit.REPORTER_CHAIN.mac(KEY, _reporter_entry()) == REPORTER_ENTRY_MAC


def test_entries_written_before_verify_and_the_chains_go_on(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        session.add(reporter_row("Siti", email="siti@example.id", id=5, audit_seq=1, audit_head=REPORTER_ENTRY_MAC))
        session.add(report_row("PTK-2612-CHAIN1", id=7, audit_seq=1, audit_head=REPORT_ENTRY_MAC))
        session.flush()
        session.add_all([_report_entry(), _reporter_entry()])
    with session_factory() as session:
        trail, people = audit.verify(session, key=KEY), reporter_audit.verify(session, key=KEY)
        assert trail.ok and (trail.reports, trail.entries) == (1, 1)
        assert people.ok and (people.reporters, people.entries) == (1, 1)
        report, reporter = session.get(Report, 7), session.get(Reporter, 5)
        assert report is not None and reporter is not None
        added = audit.record(
            session,
            report,
            action=AuditAction.STATUS_CHANGED,
            actor_kind=AuditActor.LAYANAN,
            actor="workers",
            at=LATER + timedelta(hours=1),
            detail={"text": "Status berubah"},
            key=KEY,
        )
        assert added is not None and (added.seq, added.prev_hash) == (2, REPORT_ENTRY_MAC)
        read = reporter_audit.record(
            session,
            reporter,
            action=ReporterAction.IDENTITY_READ,
            actor_kind=AuditActor.STAF,
            actor="admin-pengaduan",
            at=LATER,
            key=KEY,
        )
        assert (read.seq, read.prev_hash) == (2, REPORTER_ENTRY_MAC)
    with session_factory() as session:
        assert audit.verify(session, key=KEY).ok and audit.verify(session, tracking_id="PTK-2612-CHAIN1", key=KEY).ok
        assert reporter_audit.verify(session, key=KEY).entries == 2 and reporter_audit.verify(session, key=KEY).ok
        # Another key sees every old entry as forged.
        assert [b.seq for b in reporter_audit.verify(session, key=b"kunci-lain").broken] == [1, 2]


def test_the_verify_command_checks_both_kinds_of_chain(
    session_factory: SessionFactory, db_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_factory() as session:
        report, reporter = report_row("PTK-2612-CHAIN2"), reporter_row("Siti", email="siti@example.id")
        session.add_all([report, reporter])
        session.flush()
        audit.record(
            session, report, action=AuditAction.REPORT_RECEIVED, actor_kind=AuditActor.PELAPOR, actor="pelapor", at=AT
        )
        reporter_audit.record(
            session,
            reporter,
            action=ReporterAction.DATA_EXPORTED,
            actor_kind=AuditActor.PELAPOR,
            actor="pelapor",
            at=AT,
        )
        reporter_id = reporter.id
    assert audit.main(["verify"], db=db_engine) == 0
    out = capsys.readouterr().out
    assert "1 entries in 1 reports checked: intact" in out and "1 entries in 1 reporters' chains checked: intact" in out
    with db_engine.begin() as connection:
        connection.execute(delete(ReporterAuditEntry))
    assert audit.main(["verify"], db=db_engine) == 1
    out = capsys.readouterr().out
    assert f"BROKEN reporter {reporter_id}: its head says 1 entries, the chain holds 0" in out
    assert "1 entries in 1 reports checked: intact" in out
