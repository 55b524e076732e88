"""The audit trail on the real engine: a report walked through return, supplement, disposition, rejection and
completion lists each action once, the Tasklist actions with the Operaton user who took them; tampering is named."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from engine import LocalEngine
from lapor import audit
from lapor.db import session_scope
from lapor.models import AuditEntry, Notification, Photo, Report, ReportStatus
from lapor.process import EngineClient
from lapor.vocabulary import Message
from tests.e2e.conftest import REPORTER, Submitted, correlate, status_becomes, submit
from tests.e2e.test_lapor_process import Staff
from tests.support.database import audit_unguarded
from workers.deps import Deps

pytestmark = pytest.mark.engine


def _trail(deps: Deps, instance: Submitted) -> list[audit.TrailLine]:
    with session_scope(deps.db) as session:
        report = session.scalars(select(Report).where(Report.tracking_id == instance.tracking_id)).one()
        return audit.trail(session, report)


def _collect(deps: Deps, api: EngineClient) -> int:
    return audit.collect(deps.db, api, datetime.now(UTC))


async def test_a_walked_report_lists_each_action_once_with_who_took_it(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    report = await submit(lapor_process, worker_deps)
    staff = Staff(operaton, engine, report)
    await staff.verify("tidak_lengkap", "Foto lokasi belum jelas")
    returned = await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN)
    with session_scope(worker_deps.db) as session:
        session.add(Photo(report_id=returned.id, sha256="cd" * 32, content_type="image/jpeg", size_bytes=1,
                          kind="report", created_at=datetime.now(UTC)))  # fmt: skip
    await correlate(lapor_process, report, Message.SUPPLEMENTED, {})
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    await staff.finish_work()
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": False})
    await staff.finish_work()
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    await status_becomes(worker_deps, report, ReportStatus.SELESAI)

    # The API's own login (svc-api) reads the engine's log, as the API's collector does every 30 s; twice: once.
    assert await asyncio.to_thread(_collect, worker_deps, lapor_process) > 0
    assert await asyncio.to_thread(_collect, worker_deps, lapor_process) == 0
    lines = _trail(worker_deps, report)

    task_actions = [(line.actor, line.summary) for line in lines if line.action == "task_action"]
    # Every user task: claimed and completed by the group's member who did it, in order, each once.
    expected_tasks = [
        ("admin-pengaduan", "Verifikasi laporan"),
        ("admin-pengaduan", "Verifikasi laporan"),
        ("admin-pengaduan", "Analisis dan disposisi ke OPD"),
        ("opd-pupr", "Tanggapan OPD"),
        ("opd-pupr", "Laporkan penyelesaian"),
        ("admin-pengaduan", "Dokumentasikan penyelesaian"),
        ("opd-pupr", "Laporkan penyelesaian"),
        ("admin-pengaduan", "Dokumentasikan penyelesaian"),
    ]
    claims = [(who, what) for who, what in task_actions if " diambil" in what]
    completions = [(who, what) for who, what in task_actions if " diselesaikan" in what]
    assert len(claims) == len(completions) == len(expected_tasks), task_actions
    for (who, what), (user, name) in zip(completions, expected_tasks, strict=True):
        assert who == user and name.lower() in what.lower() and report.tracking_id in what, (who, what)
    assert [who for who, _ in claims] == [user for user, _ in expected_tasks]

    statuses = [line.detail["status"] for line in lines if line.action == "status_changed"]
    assert statuses == [
        "BELUM_TERVERIFIKASI",
        "DIKEMBALIKAN",
        "BELUM_TERVERIFIKASI",
        "TERVERIFIKASI",
        "PROSES",
        "MENUNGGU_KONFIRMASI",
        "PROSES",
        "MENUNGGU_KONFIRMASI",
        "SELESAI",
    ]
    assert all(line.actor == "svc-workers" for line in lines if line.action == "status_changed")
    proofs = [line for line in lines if line.action == "photo_added"]
    assert len(proofs) == 2 and all(line.detail["kind"] == "proof" for line in proofs)
    with session_scope(worker_deps.db) as session:
        row = session.scalars(select(Report).where(Report.tracking_id == report.tracking_id)).one()
        sent = session.scalar(select(func.count(Notification.id)).where(Notification.report_id == row.id))
    notices = [line for line in lines if line.action == "notification_sent"]
    assert len(notices) == sent and sent > 0  # every notice in the ledger, once
    assert len({line.seq for line in lines}) == len(lines)
    # The trail is in the order things happened and names no reporter.
    assert [line.occurred_at for line in lines] == sorted(line.occurred_at for line in lines)
    everything = " ".join(f"{line.actor} {line.detail}" for line in lines)
    for personal in REPORTER.values():
        assert personal not in everything

    with session_scope(worker_deps.db) as session:
        assert audit.verify(session, tracking_id=report.tracking_id).ok


async def test_the_verify_command_names_a_changed_row(
    lapor_process: EngineClient, worker_deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    report = await submit(lapor_process, worker_deps)
    await status_becomes(worker_deps, report, ReportStatus.BELUM_TERVERIFIKASI)
    assert audit.main(["verify", report.tracking_id], db=worker_deps.db) == 0
    assert "entries in 1 reports checked: intact" in capsys.readouterr().out
    with session_scope(worker_deps.db) as session:
        row = session.scalars(select(Report).where(Report.tracking_id == report.tracking_id)).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.report_id == row.id)).first()
        assert entry is not None
        entry_id = entry.id
    with audit_unguarded(worker_deps.db), worker_deps.db.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'orang-lain' WHERE id = :id"), {"id": entry_id})
    assert audit.main(["verify", report.tracking_id], db=worker_deps.db) == 1
    out = capsys.readouterr().out
    assert f"BROKEN audit entry {entry_id} (report {report.tracking_id}, #1)" in out
