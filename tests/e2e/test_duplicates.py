"""Admin Pengaduan marks a report as a duplicate at verification, on the real engine, workers and mail catcher: the
duplicate's process ends as Digabungkan, both reporters are told without each other's identity, the duplicate's
reporter follows the original to its end; a wrong tracking id reopens verification with the reason; a merge is
undone while the original is open."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine import LocalEngine
from lapor import duplicates, reports, support
from lapor.db import session_scope
from lapor.models import Photo, Report, Reporter, ReportStatus
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from lapor.vocabulary import Message
from tests.conftest import eventually, proof_photo
from tests.e2e.conftest import (
    REPORTER,
    Mailbox,
    Submitted,
    body_of,
    complete_task,
    correlate,
    open_task,
    reached,
    report_row,
    status_becomes,
    submit,
    timeline,
)
from workers.deps import Deps

pytestmark = pytest.mark.engine


def second_reporter(deps: Deps, instance: Submitted) -> str:
    """The duplicate comes from another citizen: a reporter of its own, with a fresh e-mail address."""
    email = f"warga.{uuid.uuid4().hex[:8]}@example.id"
    with session_scope(deps.db) as session:
        person = Reporter(name="Siti Aminah", email=email, verified_at=datetime.now(UTC), created_at=datetime.now(UTC))
        session.add(person)
        session.flush()
        reports.get_by_tracking_id(session, instance.tracking_id).reporter_id = person.id
        session.add(
            Photo(
                report_id=reports.get_by_tracking_id(session, instance.tracking_id).id,
                sha256=uuid.uuid4().hex * 2,
                content_type="image/jpeg",
                size_bytes=1,
                kind="report",
                created_at=datetime.now(UTC),
            )
        )
    return email


def follows(deps: Deps, follower_email: str, original: Submitted) -> bool:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, original.tracking_id)
        return any(f.email == follower_email for f in support.followers(session, report))


async def verified_original(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, deps: Deps
) -> Submitted:
    original = await submit(lapor_process, deps)
    await complete_task(operaton, engine, original, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, original, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    await status_becomes(deps, original, ReportStatus.TERVERIFIKASI)
    return original


async def mark_duplicate(operaton: EngineClient, engine: LocalEngine, duplicate: Submitted, original_id: str) -> None:
    variables = {"verificationResult": "duplikat", "originalTrackingId": original_id, "verificationNote": ""}
    await complete_task(operaton, engine, duplicate, "VerifyReportTask", variables)


async def test_a_duplicate_joins_the_original_and_its_reporter_hears_of_the_originals_end(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps, mailbox: Mailbox
) -> None:
    original = await verified_original(lapor_process, operaton, engine, worker_deps)
    duplicate = await submit(lapor_process, worker_deps)
    duplicate_email = second_reporter(worker_deps, duplicate)
    await open_task(operaton, duplicate, "VerifyReportTask")
    # The form suggests the open report of the same category in the same kelurahan, in public words only.
    candidates = operaton.variables(duplicate.process_instance_id)["duplicateCandidates"]
    assert f"- {original.tracking_id} — Jalan berlubang (kelurahan yang sama; " in candidates
    assert REPORTER["name"] not in candidates and REPORTER["email"] not in candidates

    await mark_duplicate(operaton, engine, duplicate, f" {original.tracking_id.lower()} ")  # as typed, trimmed
    await reached(operaton, duplicate, "DuplicateMergedEndEvent")
    row = await status_becomes(worker_deps, duplicate, ReportStatus.DIGABUNGKAN)
    assert row.closed_at is not None
    [merged] = [e for e in timeline(worker_deps, duplicate) if e.status == ReportStatus.DIGABUNGKAN]
    assert merged.detail == f"Digabungkan dengan laporan {original.tracking_id}" and merged.actor == "admin-pengaduan"
    with session_scope(worker_deps.db) as session:  # its photos stay with it
        kept = session.scalars(select(Photo).join(Report).where(Report.tracking_id == duplicate.tracking_id)).all()
        assert len(kept) == 1
    assert follows(worker_deps, duplicate_email, original)

    # Both reporters are told, each of the other report by tracking id only.
    [joined] = await eventually(lambda: mailbox.to(duplicate_email, original.tracking_id))
    assert joined["Subject"] == f"Laporan {duplicate.tracking_id} digabungkan dengan laporan {original.tracking_id}"
    assert f"/lacak/{original.tracking_id}" in body_of(joined) and REPORTER["name"] not in body_of(joined)
    assert REPORTER["email"] not in body_of(joined) and REPORTER["phone"] not in body_of(joined)

    def told_original() -> list[str]:
        found = mailbox.to(REPORTER["email"], original.tracking_id)
        return [body_of(m) for m in found if m["Subject"].startswith("Laporan lain digabungkan")]

    [told] = await eventually(told_original)
    assert duplicate_email not in told and "Siti" not in told and duplicate.tracking_id not in told

    # The original carries on; the duplicate's reporter hears of its end as a follower.
    async def complete(element_id: str, **variables: object) -> None:
        await complete_task(operaton, engine, original, element_id, dict(variables))

    await complete("OpdResponseTask", opdDecision="tanggapi", responseText="Tim akan menambal jalan.")
    await complete("OpdCompletionTask", completionText="Jalan sudah ditambal.", proofPhotoUpload=proof_photo())
    await complete("DocumentCompletionTask", documented=True, documentationNote="OK")
    await status_becomes(worker_deps, original, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, original, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    await status_becomes(worker_deps, original, ReportStatus.SELESAI)

    def done_notice() -> list[str]:
        found = mailbox.to(duplicate_email, original.tracking_id)
        return [body_of(m) for m in found if "Selesai" in body_of(m) and "yang Anda ikuti" in m["Subject"]]

    [done] = await eventually(done_notice)
    for personal in REPORTER.values():
        assert personal not in done
    # An undo is refused once the original is closed.
    with pytest.raises(duplicates.UndoRefused, match="Laporan asal sudah ditutup"):
        duplicates.undo_and_tell(
            worker_deps.db, worker_deps.notifier, tracking_id=duplicate.tracking_id, now=datetime.now(UTC)
        )


async def test_a_wrong_original_reopens_verification_with_the_reason(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    original = await verified_original(lapor_process, operaton, engine, worker_deps)
    merged = await submit(lapor_process, worker_deps)
    await mark_duplicate(operaton, engine, merged, original.tracking_id)
    await status_becomes(worker_deps, merged, ReportStatus.DIGABUNGKAN)
    report = await submit(lapor_process, worker_deps)
    refusals = {
        "PTK-0000-XXXXXX": "Laporan PTK-0000-XXXXXX tidak ditemukan: periksa kembali nomor pelacakannya.",
        report.tracking_id: f"{report.tracking_id} adalah laporan ini sendiri: tulis nomor laporan lain yang sama.",
        merged.tracking_id: (
            f"Laporan {merged.tracking_id} sendiri sudah digabungkan ke laporan lain; gabungkan ke laporan asalnya, "
            f"{original.tracking_id}."
        ),
        "": "Nomor laporan asal belum diisi: tulis nomor pelacakan laporan yang sama.",
    }
    for typed, reason in refusals.items():
        await mark_duplicate(operaton, engine, report, typed)
        await eventually(lambda r=reason: operaton.variables(report.process_instance_id)["duplicateRefusal"] == r)
        task = await open_task(operaton, report, "VerifyReportTask")  # back at verification, no incident
        assert task.name == f"Verifikasi laporan {report.tracking_id}"
        assert not operaton.incidents(process_instance_id=report.process_instance_id)
        assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI

    with session_scope(worker_deps.db) as session:  # the original made confidential for a moment
        reports.get_by_tracking_id(session, original.tracking_id).confidential = True
    await mark_duplicate(operaton, engine, report, original.tracking_id)
    await eventually(
        lambda: "rahasia" in operaton.variables(report.process_instance_id)["duplicateRefusal"],
    )
    with session_scope(worker_deps.db) as session:
        reports.get_by_tracking_id(session, original.tracking_id).confidential = False
    await open_task(operaton, report, "VerifyReportTask")
    # Corrected, it goes through, and the refusal is cleared.
    await mark_duplicate(operaton, engine, report, original.tracking_id)
    await status_becomes(worker_deps, report, ReportStatus.DIGABUNGKAN)


async def test_a_merge_is_undone_while_the_original_is_open(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps, mailbox: Mailbox
) -> None:
    original = await verified_original(lapor_process, operaton, engine, worker_deps)
    duplicate = await submit(lapor_process, worker_deps)
    duplicate_email = second_reporter(worker_deps, duplicate)
    await mark_duplicate(operaton, engine, duplicate, original.tracking_id)
    await reached(operaton, duplicate, "DuplicateMergedEndEvent")
    await status_becomes(worker_deps, duplicate, ReportStatus.DIGABUNGKAN)
    assert follows(worker_deps, duplicate_email, original)

    undone = duplicates.undo_and_tell(
        worker_deps.db, worker_deps.notifier, tracking_id=duplicate.tracking_id, now=datetime.now(UTC)
    )
    assert undone == duplicates.Undone(duplicate.tracking_id, original.tracking_id)
    row = report_row(worker_deps, duplicate)
    assert row.status == ReportStatus.BELUM_TERVERIFIKASI and row.merged_into_id is None and row.closed_at is None
    assert not follows(worker_deps, duplicate_email, original)
    [told] = await eventually(
        lambda: [m for m in mailbox.to(duplicate_email, duplicate.tracking_id) if "tidak lagi" in m["Subject"]]
    )
    assert original.tracking_id in body_of(told)

    # The outbox starts a fresh instance for the same business key, at verification.
    assert await OutboxDispatcher(lapor_process, worker_deps.db).run_once() == 1
    fresh_id = report_row(worker_deps, duplicate).process_instance_id
    assert fresh_id is not None and fresh_id != duplicate.process_instance_id
    fresh = Submitted(duplicate.tracking_id, fresh_id)
    await open_task(operaton, fresh, "VerifyReportTask")
    [back] = [e for e in timeline(worker_deps, duplicate) if e.detail and "dibatalkan" in e.detail]
    assert back.detail == f"Penggabungan dengan laporan {original.tracking_id} dibatalkan"
    # A second undo has nothing to undo.
    with pytest.raises(duplicates.UndoRefused, match="tidak sedang digabungkan"):
        duplicates.undo_and_tell(
            worker_deps.db, worker_deps.notifier, tracking_id=duplicate.tracking_id, now=datetime.now(UTC)
        )
