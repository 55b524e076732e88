"""lapor.retention: the schedule removes exactly what is past its date (identities of reporters inactive for the
identity period with no open report, photos of reports closed for the photo period, codes nobody proved), the dry
run and the real run count the same, a second run finds nothing, and March 2026's recap and SLA figures do not
move."""

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lapor import audit, erasure, recap, reporter_audit, retention
from lapor.models import (
    AuditEntry,
    Photo,
    RegistrationCode,
    Report,
    Reporter,
    ReporterToken,
    ReportEvent,
    ReportMessage,
    ReportStatus,
)
from lapor.settings import get_settings
from lapor.uploads import path_of, upload_dir
from lapor.workdays import PONTIANAK_TZ
from tests.support.builders import report_row, reporter_row
from tests.unit.conftest import SessionFactory

NOW = datetime(2029, 1, 15, 18, 0, tzinfo=UTC)
SCHEDULE = retention.Schedule(identity_years=2, photo_years=2)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def wib(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, tzinfo=PONTIANAK_TZ)


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def add_report(
    session_factory: SessionFactory,
    data_dir: Path,
    reporter: Reporter,
    number: int,
    *,
    created: datetime,
    closed: datetime | None,
    photos: tuple[str, ...],
) -> None:
    with session_factory() as session:
        session.add(reporter) if reporter.id is None else None
        session.flush()
        report = report_row(
            f"LPR-2026-{number:06d}",
            reporter_id=reporter.id,
            title=f"Lampu padam, kata {reporter.name}",
            status=ReportStatus.SELESAI if closed else ReportStatus.PROSES,
            opd_code="PUPR",
            created_at=created,
            closed_at=closed,
            verification_due_at=created + timedelta(days=3),
        )
        session.add(report)
        session.flush()
        session.add(
            ReportEvent(
                report_id=report.id,
                kind="status",
                status="TERVERIFIKASI",
                actor="t",
                occurred_at=created + timedelta(days=1),
            )
        )
        if closed:
            session.add(
                ReportEvent(report_id=report.id, kind="status", status="SELESAI", actor="t", occurred_at=closed)
            )
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author="pelapor",
                    kind="confirmation",
                    text=f"Terima kasih, {reporter.name}",
                    accepted=True,
                    rating=5,
                    created_at=closed,
                )
            )
        for name in photos:
            session.add(
                Photo(
                    report_id=report.id,
                    sha256=digest(name),
                    content_type="image/jpeg",
                    size_bytes=3,
                    kind="report",
                    created_at=created,
                )
            )
            stored = path_of(upload_dir(data_dir), digest(name), "image/jpeg")
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(b"jpg")


@pytest.fixture
def world(session_factory: SessionFactory, tmp_path: Path) -> dict[str, int]:
    """Siti: one report closed in March 2026, no sign-in since: her identity and photos go (a photo of the same
    bytes on Dewi's recent report keeps its file). Andi: the same, but signed in last year: his identity stays, his
    old report's photos go. Budi: a report from March 2026 still open: all stays. Dewi: closed in 2028: all stays."""
    people = {
        "siti": reporter_row(
            "Siti Rahmawati", email="siti@example.id", phone="+6281299990001", created_at=wib(2026, 3, 1)
        ),
        "andi": reporter_row("Andi Pratama", email="andi@example.id", created_at=wib(2026, 3, 1)),
        "budi": reporter_row("Budi Santoso", email="budi@example.id", created_at=wib(2026, 3, 1)),
        "dewi": reporter_row("Dewi Lestari", email="dewi@example.id", created_at=wib(2028, 1, 1)),
    }
    add_report(
        session_factory,
        tmp_path,
        people["siti"],
        1,
        created=wib(2026, 3, 2),
        closed=wib(2026, 3, 20),
        photos=("a", "shared"),
    )
    add_report(
        session_factory, tmp_path, people["andi"], 2, created=wib(2026, 3, 3), closed=wib(2026, 3, 25), photos=("b",)
    )
    add_report(session_factory, tmp_path, people["budi"], 3, created=wib(2026, 3, 4), closed=None, photos=("c",))
    add_report(
        session_factory,
        tmp_path,
        people["dewi"],
        4,
        created=wib(2028, 1, 2),
        closed=wib(2028, 2, 1),
        photos=("shared", "d"),
    )
    with session_factory() as session:
        ids = {
            name: session.scalars(select(Reporter.id).where(Reporter.email == f"{name}@example.id")).one()
            for name in people
        }
        for name, signed_in in (("siti", wib(2026, 3, 1)), ("andi", wib(2028, 6, 1))):
            session.add(
                ReporterToken(
                    reporter_id=ids[name],
                    token_hash=digest(name),
                    created_at=signed_in,
                    expires_at=signed_in + timedelta(days=180),
                )
            )
        for public_id, email, expires, verified in (
            ("old-unproved", "orang@example.id", wib(2026, 5, 1), None),
            ("new-unproved", "orang@example.id", NOW - timedelta(days=5), None),
            ("siti-proved", "siti@example.id", wib(2026, 3, 1), wib(2026, 3, 1)),
        ):
            session.add(
                RegistrationCode(
                    public_id=public_id,
                    name="x",
                    email=email,
                    code_hash="h",
                    attempts=0,
                    expires_at=expires,
                    created_at=expires - timedelta(minutes=10),
                    verified_at=verified,
                )
            )
    return ids


def run(session_factory: SessionFactory, data_dir: Path, *, dry_run: bool) -> dict[str, int]:
    return retention.run(session_factory, SCHEDULE, now=NOW, data_dir=data_dir, dry_run=dry_run, engine=None)[1]


def test_retention_removes_exactly_what_is_past_its_date(
    session_factory: SessionFactory, tmp_path: Path, world: dict[str, int]
) -> None:
    with session_factory() as session:
        march_before = recap.compute_recap(session, *MARCH)
    assert march_before.total == 3 and march_before.satisfaction_overall == recap.Rating(2, 5.0)
    before = recap_workbook(march_before, tmp_path / "before.xlsx")
    expected = {"reporters": 1, "photos": 3, "files": 2, "codes": 1}
    assert run(session_factory, tmp_path, dry_run=True) == expected
    assert run(session_factory, tmp_path, dry_run=True) == expected  # a dry run changes nothing
    assert run(session_factory, tmp_path, dry_run=False) == expected  # the real run does what the dry run said
    assert run(session_factory, tmp_path, dry_run=False) == dict.fromkeys(expected, 0)  # idempotent
    with session_factory() as session:
        people = {r.id: r for r in session.scalars(select(Reporter))}
        assert [(p.name, p.email) for i, p in people.items() if i == world["siti"]] == [("", None)]
        assert all(p.erased_at is None for i, p in people.items() if i != world["siti"])
        siti = people[world["siti"]]
        assert [e.action for e in reporter_audit.entries(session, siti)] == ["erased"]
        assert reporter_audit.entries(session, siti)[0].actor == retention.ACTOR
        kept_photos = session.scalars(select(Photo.sha256).order_by(Photo.id)).all()
        assert kept_photos == [digest("c"), digest("shared"), digest("d")]
        assert session.scalars(select(RegistrationCode.public_id)).all() == ["new-unproved"]
        titles = session.scalars(select(Report.title).order_by(Report.id)).all()
        assert titles[0] == "Lampu padam, kata [dihapus]" and titles[1] == "Lampu padam, kata Andi Pratama"
        march_after = recap.compute_recap(session, *MARCH)
    files = sorted(p.name[:8] for p in upload_dir(tmp_path).rglob("*.jpg"))
    assert files == sorted(digest(n)[:8] for n in ("c", "shared", "d"))
    assert march_after == march_before  # counts, SLA per OPD, medians, ratings
    assert recap_workbook(march_after, tmp_path / "after.xlsx") == before


def test_each_report_whose_photos_the_schedule_removed_says_so_on_its_audit_trail(
    session_factory: SessionFactory, tmp_path: Path, world: dict[str, int]
) -> None:
    run(session_factory, tmp_path, dry_run=True)
    with session_factory() as session:
        assert session.scalars(select(AuditEntry.action)).all() == []  # a dry run writes nothing
    run(session_factory, tmp_path, dry_run=False)
    run(session_factory, tmp_path, dry_run=False)  # nothing left to remove: nothing more on any trail
    with session_factory() as session:
        removed = {
            report.tracking_id: [
                (line.actor_kind, line.actor, line.detail)
                for line in audit.trail(session, report)
                if line.action == audit.AuditAction.PHOTOS_REMOVED
            ]
            for report in session.scalars(select(Report).order_by(Report.id))
        }
        assert audit.verify(session).ok
    text = "foto dihapus sesuai jadwal retensi: laporan selesai 2026-03-{day}, lebih dari 2 tahun lalu"
    assert removed == {
        "LPR-2026-000001": [("layanan", retention.ACTOR, {"photos": 2, "text": "2 " + text.format(day=20)})],
        "LPR-2026-000002": [("layanan", retention.ACTOR, {"photos": 1, "text": "1 " + text.format(day=25)})],
        "LPR-2026-000003": [],  # still open
        "LPR-2026-000004": [],  # closed in 2028
    }
    assert audit.AuditAction.PHOTOS_REMOVED.label == "Foto dihapus"


def recap_workbook(figures: recap.Recap, path: Path) -> dict[str, bytes]:
    import zipfile

    recap.write_xlsx(figures, path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def test_the_schedule_is_at_most_the_engine_history_and_the_command_prints_its_counts(
    session_factory: SessionFactory,
    db_engine: object,
    tmp_path: Path,
    world: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ValueError, match="1 to 5 years"):
        retention.Schedule(identity_years=6, photo_years=2)
    monkeypatch.setenv("LAPOR_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert retention.main(["--dry-run"], db=db_engine, now=NOW) == 0  # type: ignore[arg-type]
        dry = capsys.readouterr().out
        assert retention.main([], db=db_engine, now=NOW) == 0  # type: ignore[arg-type]
        real = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert "would remove: 1 reporter identities, 3 photos (2 files), 1 unproved registration codes" in dry
    assert "removed: 1 reporter identities, 3 photos (2 files), 1 unproved registration codes" in real
    assert "before 2027-01-15" in dry and "Siti" not in dry + real


def test_the_identity_is_found_in_the_ways_people_write_it() -> None:
    patterns = erasure.identity_patterns("Siti Rahmawati", "siti@example.id", "+6281299990001")
    text = (
        "SITI RAHMAWATI (siti@Example.id) 0812-9999-0001, +62 812 9999 0001, 6281299990001, (0812) 99990001; "
        "not 08129999000123, not Sitiwati, not 0812-9999-0002"
    )
    assert erasure.redact(text, patterns) == (
        "[dihapus] ([dihapus]) [dihapus], [dihapus], [dihapus], ([dihapus]; "
        "not 08129999000123, not Sitiwati, not 0812-9999-0002"
    )
    assert erasure.identity_patterns("Al", None, None) == []  # too short to find without harm


def test_each_part_of_the_name_is_found_as_a_whole_word() -> None:
    patterns = erasure.identity_patterns("Budi  Santoso", None, None)
    text = "Pak Budi dan Bu SANTOSO datang; Budi Santoso lagi. Budiman, Santosoputra dan budi-nya"
    assert erasure.redact(text, patterns) == (
        "Pak [dihapus] dan Bu [dihapus] datang; [dihapus] lagi. Budiman, Santosoputra dan [dihapus]-nya"
    )
    assert erasure.redact("Al Ma'ruf dan Al", erasure.identity_patterns("Al Ma'ruf", None, None)) == (
        "[dihapus] dan Al"  # "Al" alone is too short to find without harm
    )


def test_an_identity_whose_reports_reached_the_engine_waits_while_the_engine_does_not_answer(
    session_factory: SessionFactory, tmp_path: Path, world: dict[str, int]
) -> None:
    """Siti's report has an instance: without an engine to read its variables her erasure is rolled back whole and
    deferred to the next run; the photos and codes are removed as planned."""
    with session_factory() as session:
        report = session.scalars(select(Report).where(Report.reporter_id == world["siti"])).one()
        report.process_instance_id = "instance-1"
    assert run(session_factory, tmp_path, dry_run=False) == {
        "reporters": 0,
        "photos": 3,
        "files": 2,
        "codes": 1,
        "deferred": 1,
    }
    with session_factory() as session:
        siti = session.get(Reporter, world["siti"])
        assert siti is not None and (siti.name, siti.erased_at) == ("Siti Rahmawati", None)
        assert reporter_audit.entries(session, siti) == []
