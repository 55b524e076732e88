"""lapor.duplicates on the migrated test database: the candidates the verification form shows, which originals are
refused and why, the follow a merge adds and an undo takes back, and the outbox's restart (the engine's answers are
the fake of lapor.process; the whole path on the real engine is tests/e2e/test_duplicates.py)."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from lapor import duplicates, reports, support
from lapor.models import OutboxMessage, Report, ReportStatus
from lapor.outbox import OutboxDispatcher
from lapor.process.fake import FakeEngine
from tests.support.builders import DEFAULT_CREATED_AT, report_row, reporter_row
from tests.unit.conftest import SessionFactory

NOW = DEFAULT_CREATED_AT + timedelta(days=1)
LAT, LON = -0.0263, 109.3425  # Pontianak
METRE = 1 / 111_320  # of latitude


def add(session_factory: SessionFactory, *rows: Report) -> None:
    with session_factory() as session:
        session.add_all(rows)


def test_the_form_lists_open_public_reports_of_the_category_nearby_in_public_words(
    session_factory: SessionFactory,
) -> None:
    add(
        session_factory,
        report_row("PTK-2612-AAAAAA", latitude=LAT, longitude=LON),  # the one being verified
        report_row("PTK-2612-NEAR60", latitude=LAT + 60 * METRE, longitude=LON, status=ReportStatus.PROSES),
        report_row("PTK-2612-FAR400", latitude=LAT + 400 * METRE, longitude=LON, status=ReportStatus.PROSES),
        report_row(
            "PTK-2612-OTHERC", latitude=LAT, longitude=LON, category="SAMPAH", status=ReportStatus.TERVERIFIKASI
        ),
        report_row(
            "PTK-2612-SECRET", latitude=LAT, longitude=LON, confidential=True, status=ReportStatus.TERVERIFIKASI
        ),
        report_row("PTK-2612-CLOSED", latitude=LAT, longitude=LON, status=ReportStatus.SELESAI),
    )
    with session_factory() as session:
        text = duplicates.candidates_text(session, reports.get_by_tracking_id(session, "PTK-2612-AAAAAA"), radius_m=150)
    assert text == "- PTK-2612-NEAR60 — Jalan berlubang di Jalan Gajah Mada (60 m; Proses)"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "Nomor laporan asal belum diisi"),
        ("PTK-2612-NOSUCH", "Laporan PTK-2612-NOSUCH tidak ditemukan"),
        ("ptk-2612-aaaaaa", "PTK-2612-AAAAAA adalah laporan ini sendiri"),
        ("PTK-2612-CLOSED", "Laporan PTK-2612-CLOSED sudah berstatus Selesai"),
        ("PTK-2612-RETURN", "sudah berstatus Dikembalikan ke Admin Pusat"),
        ("PTK-2612-SECRET", "Laporan PTK-2612-SECRET rahasia"),
        ("PTK-2612-UNSEEN", "Laporan PTK-2612-UNSEEN berstatus Belum Terverifikasi: gabungkan hanya ke laporan yang"),
        ("PTK-2612-BACKTO", "Laporan PTK-2612-BACKTO berstatus Dikembalikan"),
        ("PTK-2612-MERGED", "sendiri sudah digabungkan ke laporan lain; gabungkan ke laporan asalnya, PTK-2612-ORIGIN"),
    ],
)
def test_an_original_that_cannot_be_joined_is_refused_with_the_reason(
    session_factory: SessionFactory, typed: str, reason: str
) -> None:
    add(
        session_factory,
        report_row("PTK-2612-AAAAAA"),
        report_row("PTK-2612-CLOSED", status=ReportStatus.SELESAI),
        report_row("PTK-2612-RETURN", status=ReportStatus.DIKEMBALIKAN_KE_PUSAT),
        report_row("PTK-2612-SECRET", confidential=True, status=ReportStatus.PROSES),
        report_row("PTK-2612-ORIGIN", status=ReportStatus.PROSES),
        report_row("PTK-2612-UNSEEN", status=ReportStatus.BELUM_TERVERIFIKASI),
        report_row("PTK-2612-BACKTO", status=ReportStatus.DIKEMBALIKAN),
    )
    with session_factory() as session:
        origin = reports.get_by_tracking_id(session, "PTK-2612-ORIGIN")
        session.add(report_row("PTK-2612-MERGED", status=ReportStatus.DIGABUNGKAN, merged_into_id=origin.id))
    with session_factory() as session:
        duplicate = reports.get_by_tracking_id(session, "PTK-2612-AAAAAA")
        with pytest.raises(duplicates.MergeRefused, match=reason):
            duplicates.original_for(session, duplicate, typed)
        # An open public report is accepted, typed in lower case with spaces around it.
        assert duplicates.original_for(session, duplicate, " ptk-2612-origin ").tracking_id == "PTK-2612-ORIGIN"


def test_a_merge_is_undone_the_follow_goes_unless_the_reporter_supports_the_original_and_it_restarts(
    session_factory: SessionFactory,
) -> None:
    with session_factory() as session:
        one, two = reporter_row("Siti", email="siti@example.test"), reporter_row("Budi", email="budi@example.test")
        session.add_all([one, two])
        session.flush()
        original = report_row("PTK-2612-ORIGIN", status=ReportStatus.PROSES, reporter_id=one.id)
        session.add_all(
            [
                original,
                report_row("PTK-2612-DUPONE", reporter_id=two.id, process_instance_id="ended-1"),
                report_row("PTK-2612-DUPTWO", reporter_id=one.id, process_instance_id="ended-2"),
            ]
        )
        session.flush()
        for tracking_id in ("PTK-2612-DUPONE", "PTK-2612-DUPTWO"):
            duplicate = reports.get_by_tracking_id(session, tracking_id)
            assert duplicates.merge(session, duplicate=duplicate, original=original, at=NOW, task_id=tracking_id)
            assert not duplicates.merge(session, duplicate=duplicate, original=original, at=NOW, task_id=tracking_id)
        # Budi follows the original; Siti reported it herself and hears of it as its reporter.
        assert [f.name for f in support.followers(session, original)] == ["Budi"]
        support.support(session, report=original, reporter=two, now=NOW)  # and Budi says "Saya juga mengalami"

    with session_factory() as session:
        report, undone = duplicates.undo(session, tracking_id="PTK-2612-DUPONE", now=NOW)
        assert undone == duplicates.Undone("PTK-2612-DUPONE", "PTK-2612-ORIGIN")
        assert report.status == ReportStatus.BELUM_TERVERIFIKASI and report.process_instance_id is None
        original = reports.get_by_tracking_id(session, "PTK-2612-ORIGIN")
        assert [f.name for f in support.followers(session, original)] == ["Budi"]  # his own support keeps it
        with pytest.raises(duplicates.UndoRefused):
            duplicates.undo(session, tracking_id="PTK-2612-DUPONE", now=NOW)

    with session_factory() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        restarts = [(r.dedup_key, r.payload["restart_of"]) for r in rows]
        assert restarts == [("restart:PTK-2612-DUPONE:ended-1", "ended-1")]


async def test_a_restart_starts_a_fresh_instance_and_never_adopts_the_ended_one(
    session_factory: SessionFactory, db_engine: Engine
) -> None:
    with session_factory() as session:
        session.add_all(
            [
                report_row("PTK-2612-ORIGIN", status=ReportStatus.PROSES),
                report_row("PTK-2612-DUPONE", process_instance_id="fake-ended"),
            ]
        )
        session.flush()
        duplicates.merge(
            session,
            duplicate=reports.get_by_tracking_id(session, "PTK-2612-DUPONE"),
            original=reports.get_by_tracking_id(session, "PTK-2612-ORIGIN"),
            at=NOW,
            task_id="merge",
        )
    fake = FakeEngine()
    fake.start("lapor-pengaduan", business_key="PTK-2612-DUPONE", variables={})
    fake.instances[0].ended = True  # the merged instance, ended at DuplicateMergedEndEvent
    with session_factory() as session:
        duplicates.undo(session, tracking_id="PTK-2612-DUPONE", now=NOW)
    assert await OutboxDispatcher(fake, db_engine).run_once() == 1
    assert len(fake.instances) == 2 and fake.instances[1].variables["trackingId"] == "PTK-2612-DUPONE"
    with session_factory() as session:
        assert reports.get_by_tracking_id(session, "PTK-2612-DUPONE").process_instance_id == fake.instances[1].id
