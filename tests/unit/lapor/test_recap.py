"""Monthly recap: counts, SLA and medians computed by hand from a small November 2026, and the workbook."""

from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from lapor.models import RecapDocument, ReportEvent, ReportMessage, ReportStatus
from lapor.recap import NOT_DISPATCHED, Rating, SlaCount, compute_recap, period_of, produce_recap, write_xlsx
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ
from tests.support.builders import report_row
from tests.unit.conftest import SessionFactory

S = ReportStatus
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
RECAP_RUN = datetime(2026, 12, 1, 0, 5, tzinfo=PONTIANAK_TZ)
FAR = datetime(2027, 3, 1, tzinfo=UTC)


def wib(month: int, day: int, hour: int = 0, minute: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PONTIANAK_TZ)


def due(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=PONTIANAK_TZ)


def add_report(
    session_factory: SessionFactory,
    number: int,
    created_at: datetime,
    *,
    category: str = "JALAN",
    kecamatan: str = "61.71.01",
    opd: str | None = None,
    status: ReportStatus = S.BELUM_TERVERIFIKASI,
    verification_due: datetime | None = None,
    response_due: datetime | None = None,
    completion_due: datetime | None = None,
    events: tuple[tuple[ReportStatus | None, datetime], ...] = (),
    report_type: str = "pengaduan",
    ratings: tuple[tuple[int | None, datetime], ...] = (),
) -> None:
    """A report, its status events (None as status: a reminder, which the recap must ignore) and the reporter's
    confirmations with their ratings (None: answered without a rating)."""
    with session_factory() as session:
        report = report_row(
            f"LPR-2026-{number:06d}",
            report_type=report_type,
            title=f"Laporan {number}",
            category=category,
            kecamatan_code=kecamatan,
            kelurahan_code=kecamatan + ".1001",
            status=status,
            opd_code=opd,
            verification_due_at=verification_due,
            response_due_at=response_due,
            completion_due_at=completion_due,
            created_at=created_at,
        )
        session.add(report)
        session.flush()
        for event_status, occurred_at in events:
            session.add(
                ReportEvent(
                    report_id=report.id,
                    kind="status" if event_status else "reminder",
                    status=event_status.value if event_status else None,
                    actor="test",
                    occurred_at=occurred_at,
                )
            )
        for rating, given_at in ratings:
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author="pelapor",
                    kind="confirmation",
                    text="Konfirmasi",
                    accepted=rating is not None and rating >= 3,
                    rating=rating,
                    created_at=given_at,
                )
            )


@pytest.fixture
def november(session_factory: SessionFactory) -> SessionFactory:
    """Eight reports created in November 2026 (Pontianak time) and two just outside it."""
    # R1: verified after 24 h, Proses 48 h later, Selesai after 552 h: every SLA met.
    add_report(
        session_factory, 1, wib(11, 2, 9), opd="PUPR", status=S.SELESAI,
        verification_due=due(11, 5), response_due=due(11, 19), completion_due=FAR,
        events=((S.TERVERIFIKASI, wib(11, 3, 9)), (S.PROSES, wib(11, 5, 9)),
                (S.MENUNGGU_KONFIRMASI, wib(11, 20, 9)), (S.SELESAI, wib(11, 25, 9))),
        ratings=((5, wib(11, 25, 9)),),
    )  # fmt: skip
    # R2: verified late (144 h); its Proses comes after the period, so at the cut-off the response is late.
    add_report(
        session_factory, 2, wib(11, 10, 10), category="SAMPAH", kecamatan="61.71.02", opd="DLH",
        status=S.PROSES, verification_due=due(11, 13), response_due=due(11, 27), completion_due=FAR,
        events=((S.TERVERIFIKASI, wib(11, 16, 10)), (S.PROSES, wib(12, 2, 10))),
        ratings=((1, wib(12, 2, 11)),),  # given after the period: not in November's satisfaction
    )  # fmt: skip
    # R3: not verified yet, due only after the period: pending.
    add_report(session_factory, 3, wib(11, 28, 8), verification_due=due(12, 2))
    # R4: not verified and overdue at the cut-off: missed; the reminder is not a status.
    add_report(
        session_factory, 4, wib(11, 20, 12), category="DRAINASE", kecamatan="61.71.03",
        verification_due=due(11, 25), events=((None, wib(11, 25, 8)),),
    )  # fmt: skip
    # R5: returned to the reporter after 48 h (a decision, so verification met), then closed.
    add_report(
        session_factory, 5, wib(11, 12, 8), category="LAINNYA", kecamatan="61.71.05", status=S.DITUTUP,
        report_type="aspirasi",
        verification_due=due(11, 17), events=((S.DIKEMBALIKAN, wib(11, 14, 8)), (S.DITUTUP, wib(11, 24, 9))),
    )  # fmt: skip
    # R6: verified after 60 h, Proses 312 h later on the last evening of the due day: met.
    add_report(
        session_factory, 6, wib(11, 15, 8), opd="PUPR", status=S.PROSES,
        verification_due=due(11, 18), response_due=due(11, 30), completion_due=FAR,
        events=((S.TERVERIFIKASI, wib(11, 17, 20)), (S.PROSES, wib(11, 30, 20))),
        ratings=((3, wib(11, 30, 21)),),
    )  # fmt: skip
    # R7 (in the period: 00:30 WIB on 1 November is still 31 October in UTC).
    add_report(session_factory, 7, wib(11, 1, 0, 30), kecamatan="61.71.04", report_type="permintaan_informasi")
    # R8: finished after its completion deadline (624 h after receipt).
    add_report(
        session_factory, 8, wib(11, 3, 8), category="LAMPU_JALAN", kecamatan="61.71.06", opd="DISHUB",
        status=S.SELESAI, verification_due=due(11, 6), response_due=due(11, 17), completion_due=due(11, 27),
        events=((S.TERVERIFIKASI, wib(11, 4, 8)), (S.PROSES, wib(11, 10, 8)), (S.SELESAI, wib(11, 29, 8))),
        ratings=((None, wib(11, 20, 8)), (2, wib(11, 29, 8))),  # rejected without a rating, then accepted
    )  # fmt: skip
    # Outside: 23:30 WIB on 31 October, and 00:30 WIB on 1 December (still 30 November in UTC).
    # R9 came in October; its rating, given in November, counts in November's satisfaction.
    add_report(session_factory, 9, wib(10, 31, 23, 30), opd="DLH", ratings=((4, wib(11, 5, 9)),))
    add_report(session_factory, 10, wib(12, 1, 0, 30))
    return session_factory


def test_period_is_the_previous_month_in_pontianak() -> None:
    assert period_of(RECAP_RUN) == (date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    # 17:30 UTC on 30 November is already 1 December in Pontianak.
    assert period_of(datetime(2026, 11, 30, 17, 30, tzinfo=UTC))[2] == "2026-11"
    assert period_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))[2] == "2026-10"
    assert period_of(datetime(2027, 1, 1, 0, 0, tzinfo=PONTIANAK_TZ)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
        "2026-12",
    )
    assert period_of(datetime(2028, 3, 1, 1, tzinfo=PONTIANAK_TZ))[:2] == (
        date(2028, 2, 1),
        date(2028, 2, 29),
    )
    with pytest.raises(ValueError):
        period_of(datetime(2026, 12, 1))


def test_counts(november: SessionFactory) -> None:
    with november() as session:
        recap = compute_recap(session, *NOVEMBER)
    assert recap.period == "2026-11" and recap.period_label == "November 2026"
    assert recap.total == 8
    # Status at the end of November: R2 is still Terverifikasi there, whatever it is now.
    assert recap.per_status == {
        S.BELUM_TERVERIFIKASI.label: 3,
        S.DIKEMBALIKAN.label: 0,
        S.DIKEMBALIKAN_KE_PUSAT.label: 0,
        S.TERVERIFIKASI.label: 1,
        S.PROSES.label: 1,
        S.MENUNGGU_KONFIRMASI.label: 0,
        S.SELESAI.label: 2,
        S.DITUTUP.label: 1,
        S.DIGABUNGKAN.label: 0,  # every status has its row, a merged duplicate's too
    }
    assert list(recap.per_opd.items())[:4] == [
        (NOT_DISPATCHED, 4),
        ("Dinas Pekerjaan Umum dan Penataan Ruang", 2),
        ("Dinas Lingkungan Hidup", 1),
        ("Dinas Perhubungan", 1),
    ]
    assert sum(recap.per_opd.values()) == 8 and recap.per_opd["Dinas Sosial"] == 0
    assert recap.per_type == {"Pengaduan": 6, "Aspirasi": 1, "Permintaan informasi": 1}
    assert {k: v for k, v in recap.per_category.items() if v} == {
        "Jalan dan Jembatan": 4,
        "Sampah dan Kebersihan": 1,
        "Drainase dan Banjir": 1,
        "Lainnya": 1,
        "Penerangan Jalan Umum": 1,
    }
    assert recap.per_kecamatan == {
        "Pontianak Selatan": 3,
        "Pontianak Timur": 1,
        "Pontianak Barat": 1,
        "Pontianak Utara": 1,
        "Pontianak Kota": 1,
        "Pontianak Tenggara": 1,
    }


def test_sla_and_medians(november: SessionFactory) -> None:
    with november() as session:
        recap = compute_recap(session, *NOVEMBER)
    assert recap.verification == SlaCount(met=4, missed=2, pending=1)  # R1 R5 R6 R8 / R2 R4 / R3
    assert recap.response == SlaCount(met=3, missed=1, pending=0)  # R1 R6 R8 / R2
    assert recap.completion == SlaCount(met=1, missed=1, pending=2)  # R1 / R8 / R2 R6
    assert recap.disposition == SlaCount() and recap.documentation == SlaCount()  # no report here had them
    assert recap.sla_per_opd["Dinas Perhubungan"].compliance[Deadline.OPD_COMPLETION] == SlaCount(missed=1)  # R8
    assert recap.verification.met_ratio == pytest.approx(4 / 6)
    assert recap.median_hours_to_verification == 48  # 24 24 48 60 144
    assert recap.median_hours_verified_to_process == 144  # 48 144 312
    assert recap.median_hours_to_completion == 588  # (552 + 624) / 2


def test_satisfaction_per_opd_from_the_ratings_given_in_the_period(november: SessionFactory) -> None:
    with november() as session:
        recap = compute_recap(session, *NOVEMBER)
    assert recap.satisfaction == {
        "Dinas Pekerjaan Umum dan Penataan Ruang": Rating(count=2, average=4.0),  # R1 5, R6 3
        "Dinas Lingkungan Hidup": Rating(count=1, average=4.0),  # R9 (an October report), not R2 (December)
        "Dinas Perhubungan": Rating(count=1, average=2.0),  # R8; its answer without a rating is not counted
    }
    assert recap.satisfaction_overall == Rating(count=4, average=3.5)


def test_empty_period(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        recap = compute_recap(session, date(2026, 11, 1), date(2026, 11, 15))
    assert recap.total == 0 and recap.period_label == "1 November 2026 s.d. 15 November 2026"
    assert recap.verification == SlaCount() and recap.verification.met_ratio is None
    assert recap.median_hours_to_verification is None
    assert recap.satisfaction == {} and recap.satisfaction_overall is None
    assert recap.per_type == {"Pengaduan": 0, "Aspirasi": 0, "Permintaan informasi": 0}


def test_workbook(november: SessionFactory, tmp_path: Path) -> None:
    with november() as session:
        recap = compute_recap(session, *NOVEMBER)
    path = tmp_path / "rekap.xlsx"
    write_xlsx(recap, path)
    assert [p.name for p in tmp_path.iterdir()] == ["rekap.xlsx"]  # no temp file left behind
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Ringkasan",
        "Per Status",
        "Per Jenis",
        "Per OPD",
        "Per Kategori",
        "Per Kecamatan",
        "SLA per OPD",
        "Kepuasan",
    ]
    per_type = wb["Per Jenis"]
    assert [[c.value for c in row] for row in per_type.iter_rows(min_row=1, max_row=5, max_col=2)] == [
        ["Jenis laporan", "Jumlah laporan"],
        ["Pengaduan", 6],
        ["Aspirasi", 1],
        ["Permintaan informasi", 1],
        ["Jumlah", 8],
    ]
    satisfaction = wb["Kepuasan"]
    assert [[c.value for c in row] for row in satisfaction.iter_rows(min_row=3, max_row=7, max_col=3)] == [
        ["OPD", "Jumlah penilaian", "Rata-rata (1-5)"],
        ["Dinas Pekerjaan Umum dan Penataan Ruang", 2, 4.0],
        ["Dinas Lingkungan Hidup", 1, 4.0],
        ["Dinas Perhubungan", 1, 2.0],
        ["Semua OPD", 4, 3.5],
    ]
    summary = wb["Ringkasan"]
    assert summary["A1"].value == "Rekapitulasi Pengaduan Masyarakat SP4N-LAPOR! Kota Pontianak"
    assert (summary["A4"].value, summary["B4"].value) == ("Periode", "November 2026")
    assert (summary["A6"].value, summary["B6"].value) == ("Jumlah laporan masuk", 8)
    assert [c.value for c in summary[11]] == [
        "Verifikasi oleh Admin Pengaduan",
        4,
        2,
        1,
        pytest.approx(4 / 6),
    ]
    assert [c.value for c in summary[12]] == ["Disposisi ke OPD", 0, 0, 0, "-"]  # no disposition deadline here
    assert [c.value for c in summary[19]][:2] == ["Laporan masuk sampai diverifikasi", 48]
    per_opd_sla = wb["SLA per OPD"]
    assert [c.value for c in per_opd_sla[3]] == [
        "OPD", "Tahap", "Tepat waktu", "Terlambat", "Belum jatuh tempo", "Persentase tepat waktu"
    ]  # fmt: skip
    # PUPR first (master-data order): R1 and R6 both verified in time.
    assert [c.value for c in per_opd_sla[4]] == [
        "Dinas Pekerjaan Umum dan Penataan Ruang", "Verifikasi oleh Admin Pengaduan", 2, 0, 0, 1
    ]  # fmt: skip
    assert per_opd_sla.max_row == 3 + 5 * 4  # PUPR, DLH, DISHUB and the undispatched, five stages each
    per_opd = wb["Per OPD"]
    assert [per_opd["A1"].value, per_opd["B1"].value] == ["OPD", "Jumlah laporan"]
    assert [per_opd["A2"].value, per_opd["B2"].value] == [NOT_DISPATCHED, 4]
    for name in ("Per Status", "Per OPD"):
        assert wb[name]._charts, name
    assert wb["Per Status"]["B9"].value == 1  # Ditutup, the last status
    assert wb["Per Kecamatan"]["A8"].value == "Jumlah" and wb["Per Kecamatan"]["B8"].value == 8


def test_produce_recap_is_idempotent(november: SessionFactory, tmp_path: Path) -> None:
    first = produce_recap(session_factory=november, now=RECAP_RUN, directory=tmp_path / "rekap")
    assert first.period == "2026-11"
    assert first.path == str(tmp_path / "rekap" / "rekap-2026-11.xlsx")
    assert openpyxl.load_workbook(first.path)["Ringkasan"]["B6"].value == 8
    later = datetime(2026, 12, 1, 0, 20, tzinfo=PONTIANAK_TZ)
    second = produce_recap(session_factory=november, now=later, directory=tmp_path / "rekap")
    assert second.id == first.id and second.created_at == later
    with november() as session:
        assert session.scalar(select(func.count()).select_from(RecapDocument)) == 1
    assert sorted(p.name for p in (tmp_path / "rekap").iterdir()) == ["rekap-2026-11.xlsx"]
