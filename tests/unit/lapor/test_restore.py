"""The restore command's reading of the model, its report to the operator and its check of the photo files (the
comparison with the engine runs on the real engine: tests/e2e/test_restore.py)."""

import hashlib
from pathlib import Path

from sqlalchemy import Engine, select

from lapor.models import Photo, ReportStatus
from lapor.restore import Finding, Kind, Outcome, describe, photo_files, status_tasks
from lapor.uploads import path_of, upload_dir
from lapor.vocabulary import Actor
from tests.support.builders import report_row
from tests.unit.conftest import SessionFactory


def test_every_status_the_model_records_is_known_with_who_decides_it() -> None:
    tasks = status_tasks()
    assert {status for status, _actor in tasks.values()} == set(ReportStatus)
    assert tasks["RecordVerifiedStatusTask"] == (ReportStatus.TERVERIFIKASI, Actor.ADMIN_PENGADUAN)
    assert tasks["AutoCompleteReportTask"] == (ReportStatus.SELESAI, Actor.SISTEM)


def test_the_operator_reads_each_finding_then_what_is_left_for_a_person() -> None:
    outcome = Outcome(applied=False, reports=3, instances=2, closed_without_instance=1)
    outcome.findings = [
        Finding("PTK-2612-AAAAAA", Kind.NO_INSTANCE, "started again through the outbox, at verification"),
        Finding("PTK-2612-BBBBBB", Kind.REPORT_AHEAD, "set back from TERVERIFIKASI to BELUM_TERVERIFIKASI", "redo"),
    ]
    assert describe(outcome).splitlines() == [
        "PTK-2612-AAAAAA  report without instance     started again through the outbox, at verification",
        "PTK-2612-BBBBBB  report ahead of instance    set back from TERVERIFIKASI to BELUM_TERVERIFIKASI",
        "for a person:",
        "  PTK-2612-BBBBBB  report ahead of instance: redo",
        "3 reports, 2 instances, 1 closed reports the engine does not know; 2 would repair (dry run), 1 for a person",
    ]
    assert outcome.needs_person
    assert not Outcome(applied=True).needs_person


def test_photo_rows_without_their_file_and_files_without_a_row_are_listed_never_deleted(
    session_factory: SessionFactory, db_engine: Engine, tmp_path: Path
) -> None:
    # The files were copied before the application's dump: a photo sent between the two has a row and no file; and
    # one removed after the copy (or of a report the dump lacks) has a file and no row.
    uploads = upload_dir(tmp_path)
    kept, removed, stray = (hashlib.sha256(name.encode()).hexdigest() for name in ("kept", "removed", "stray"))
    with session_factory() as session:
        for number, photos in ((1, (kept,)), (2, (kept, removed))):
            report = report_row(f"PTK-2612-00000{number}")
            session.add(report)
            session.flush()
            for sha256 in photos:
                session.add(
                    Photo(
                        report_id=report.id,
                        sha256=sha256,
                        content_type="image/jpeg",
                        size_bytes=3,
                        kind="report",
                        created_at=report.created_at,
                    )
                )
        removed_id = session.scalars(select(Photo.id).where(Photo.sha256 == removed)).one()
    for sha256 in (kept, stray):
        path_of(uploads, sha256, "image/jpeg").parent.mkdir(parents=True, exist_ok=True)
        path_of(uploads, sha256, "image/jpeg").write_bytes(b"jpg")
    (uploads / "thumbs").mkdir()
    (uploads / "thumbs" / f"{kept}-320.jpg").write_bytes(b"jpg")  # a small copy, made again when missing: not a photo
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())

    outcome = Outcome(applied=True)
    photo_files.check(db_engine, tmp_path, None, outcome)
    assert [(f.tracking_id, f.kind) for f in outcome.findings] == [
        ("PTK-2612-000002", Kind.PHOTO_MISSING),
        ("-", Kind.STRAY_FILE),
    ]
    missing, found = outcome.findings
    assert missing.action == f"photo #{removed_id} uploads/{removed[:2]}/{removed}.jpg"
    assert found.action.startswith(f"uploads/{stray[:2]}/{stray}.jpg (written ") and found.action.endswith(" WIB)")
    assert all(f.for_person for f in outcome.findings) and outcome.needs_person
    assert "copy the file from a newer copy" in describe(outcome)
    print(describe(outcome))  # what docs/operations.md shows
    assert describe(outcome).endswith("0 repaired, 2 for a person")  # checked, nothing changed
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == before  # nothing deleted
    # One report's look: its own photos only, and no file scan (a stray file names no report).
    only = Outcome(applied=True)
    photo_files.check(db_engine, tmp_path, {"PTK-2612-000001"}, only)
    assert only.findings == []
