"""A seeded set of reports with known SLA deadlines, for the SLA view's unit, API and browser tests.

"Now" is Monday 21 December 2026, 10:00 WIB. Working days around it: Mon 21, Tue 22, Wed 23; Thursday 24 December
is cuti bersama (Natal) and Friday 25 December Christmas; then Mon 28 ... Thu 31. The tests write their expected
figures by hand from the comments here; nothing in this module computes an expectation.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from lapor.models import DeadlineStart, Report, Reporter, ReportEvent, ReportStatus
from lapor.workdays import PONTIANAK_TZ

S = ReportStatus
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=PONTIANAK_TZ)
REPORTER_NAME = "Sutarmi Wulandari"
REPORTER_EMAIL = "sutarmi.sla@example.id"


def wib(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PONTIANAK_TZ)


def due(month: int, day: int, year: int = 2026) -> datetime:
    """End of a due day, as the deadline worker writes it."""
    return datetime(year, month, day, 23, 59, 59, tzinfo=PONTIANAK_TZ)


@dataclass(frozen=True)
class Seed:
    tracking_id: str
    title: str
    created_at: datetime
    opd: str | None = None
    status: ReportStatus = S.BELUM_TERVERIFIKASI
    dues: dict[str, datetime] = field(default_factory=dict)  # column prefix -> due
    events: tuple[tuple[ReportStatus, datetime], ...] = ()
    starts: dict[str, datetime] = field(default_factory=dict)  # Deadline.code -> started_at
    report_type: str = "pengaduan"


SEEDS = (
    # A (PUPR, November): every deadline met; verified (disposition started) 3 Nov 10:00; closed.
    Seed("SLA-A", "Jalan berlubang di Jl. Tanjungpura", wib(11, 2, 9), "PUPR", S.SELESAI,
         {"verification": due(11, 5), "disposition": due(11, 6), "response": due(11, 18), "completion": due(11, 30),
          "documentation": due(11, 24)},
         ((S.BELUM_TERVERIFIKASI, wib(11, 2, 9, 1)), (S.TERVERIFIKASI, wib(11, 4, 9)), (S.PROSES, wib(11, 10, 9)),
          (S.MENUNGGU_KONFIRMASI, wib(11, 23, 9)), (S.SELESAI, wib(11, 26, 9))),
         {"disposition": wib(11, 3, 10), "documentation": wib(11, 20, 9)}),
    # B (DLH, November): verified 12 Nov (met), dispatched 19 Nov after its 17 Nov disposition deadline (missed);
    # no response by its 3 Dec deadline: pending at November's end, late now (-12 working days), held by DLH.
    Seed("SLA-B", "Sampah menumpuk di Pasar Flamboyan", wib(11, 10, 10), "DLH", S.TERVERIFIKASI,
         {"verification": due(11, 13), "disposition": due(11, 17), "response": due(12, 3),
          "completion": due(2, 26, 2027)},
         ((S.BELUM_TERVERIFIKASI, wib(11, 10, 10, 1)), (S.TERVERIFIKASI, wib(11, 19, 10))),
         {"disposition": wib(11, 12, 8)}),
    # C (November, not verified): due 2 Dec, pending at November's end, late now (-13), held by Admin Pengaduan.
    Seed("SLA-C", "Lampu jalan padam di Gang Sepakat", wib(11, 27, 14), None, S.BELUM_TERVERIFIKASI,
         {"verification": due(12, 2)}, ((S.BELUM_TERVERIFIKASI, wib(11, 27, 14, 1)),)),
    # L (November, supplemented): returned 24 Nov (round 1), supplemented 30 Nov, the new round due 3 Dec and not
    # verified: pending at November's end (the return belongs to round 1), late now (-12).
    Seed("SLA-L", "Drainase tersumbat di Jl. Purnama", wib(11, 20, 8), None, S.BELUM_TERVERIFIKASI,
         {"verification": due(12, 3), "supplement": due(12, 1)},
         ((S.BELUM_TERVERIFIKASI, wib(11, 20, 8, 1)), (S.DIKEMBALIKAN, wib(11, 24, 8)),
          (S.BELUM_TERVERIFIKASI, wib(11, 30, 10))),
         {"verification": wib(11, 30, 10)}),
    # M (PUPR, November): verified 12 Nov after its 10 Nov deadline (missed), disposition met, response met,
    # completion (due 30 Nov) reported only 2 Dec: missed; documented 3 Dec, closed 5 Dec.
    Seed("SLA-M", "Trotoar rusak di Jl. Gajah Mada", wib(11, 5, 8), "PUPR", S.SELESAI,
         {"verification": due(11, 10), "disposition": due(11, 13), "response": due(11, 26), "completion": due(11, 30),
          "documentation": due(12, 4)},
         ((S.BELUM_TERVERIFIKASI, wib(11, 5, 8, 1)), (S.TERVERIFIKASI, wib(11, 12, 8)), (S.PROSES, wib(11, 20, 8)),
          (S.MENUNGGU_KONFIRMASI, wib(12, 3, 9)), (S.SELESAI, wib(12, 5, 9))),
         {"documentation": wib(12, 2, 9)}),
    # D (December): verified 17 Dec (disposition started), not yet dispatched: due 23 Dec, 2 working days left,
    # held by the dispatchers.
    Seed("SLA-D", "Pohon tumbang di Jl. Ahmad Yani", wib(12, 16, 9), None, S.BELUM_TERVERIFIKASI,
         {"verification": due(12, 21), "disposition": due(12, 23)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 16, 9, 1)),), {"disposition": wib(12, 17, 11)}),
    # E (DISHUB, December): in Proses, completion due Monday 28 Dec: 3 working days left (22, 23, 28: 24 Dec is
    # cuti bersama, 25 Dec Christmas).
    Seed("SLA-E", "Rambu lalu lintas roboh di Jl. Sultan Abdurrahman", wib(12, 1, 8), "DISHUB", S.PROSES,
         {"verification": due(12, 4), "disposition": due(12, 4), "response": due(12, 9), "completion": due(12, 28)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 1, 8, 1)), (S.TERVERIFIKASI, wib(12, 2, 8)), (S.PROSES, wib(12, 8, 8)))),
    # F (PUPR, December): in Proses, completion due 31 Dec: 6 working days left.
    Seed("SLA-F", "Jembatan kayu lapuk di Gang Mendawai", wib(12, 3, 8), "PUPR", S.PROSES,
         {"verification": due(12, 8), "disposition": due(12, 7), "response": due(12, 10), "completion": due(12, 31)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 3, 8, 1)), (S.TERVERIFIKASI, wib(12, 4, 8)), (S.PROSES, wib(12, 7, 8)))),
    # G (PUPR, December): the OPD reported completion 16 Dec (met); documentation due today: 0 working days left,
    # held by Admin Pengaduan.
    Seed("SLA-G", "Saluran air meluap di Jl. Karya Baru", wib(12, 2, 8), "PUPR", S.PROSES,
         {"verification": due(12, 7), "disposition": due(12, 7), "response": due(12, 9), "completion": due(12, 18),
          "documentation": due(12, 21)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 2, 8, 1)), (S.TERVERIFIKASI, wib(12, 3, 8)), (S.PROSES, wib(12, 4, 8))),
         {"documentation": wib(12, 16, 15)}),
    # H (DLH, December): waiting for the reporter's confirmation: open, every deadline met, not at risk.
    Seed("SLA-H", "Bau limbah di Sungai Jawi", wib(12, 1, 9), "DLH", S.MENUNGGU_KONFIRMASI,
         {"verification": due(12, 4), "disposition": due(12, 7), "response": due(12, 9), "completion": due(12, 11),
          "documentation": due(12, 14)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 1, 9, 1)), (S.TERVERIFIKASI, wib(12, 2, 9)), (S.PROSES, wib(12, 3, 9)),
          (S.MENUNGGU_KONFIRMASI, wib(12, 10, 9))),
         {"documentation": wib(12, 9, 9)}),
    # I (December): returned 9 Dec (verification met), closed 18 Dec.
    Seed("SLA-I", "Laporan tanpa lokasi", wib(12, 7, 9), None, S.DITUTUP, {"verification": due(12, 10)},
         ((S.BELUM_TERVERIFIKASI, wib(12, 7, 9, 1)), (S.DIKEMBALIKAN, wib(12, 9, 9)), (S.DITUTUP, wib(12, 18, 9)))),
    # J (December, aspirasi): not verified by 18 Dec: missed, late now by 1 working day (21 Dec).
    Seed("SLA-J", "Usul taman bermain di Kelurahan Benua Melayu Darat", wib(12, 15, 13), None,
         S.BELUM_TERVERIFIKASI, {"verification": due(12, 18)}, ((S.BELUM_TERVERIFIKASI, wib(12, 15, 13, 1)),),
         report_type="aspirasi"),
)  # fmt: skip


def seed_reports(session: Session) -> None:
    """Insert SEEDS, every report by one named reporter (whose name and e-mail must never reach the SLA view)."""
    reporter = Reporter(name=REPORTER_NAME, email=REPORTER_EMAIL, created_at=wib(11, 1))
    session.add(reporter)
    session.flush()
    for seed in SEEDS:
        report = Report(
            tracking_id=seed.tracking_id,
            reporter_id=reporter.id,
            channel="web",
            report_type=seed.report_type,
            title=seed.title,
            description="Uji SLA",
            category="JALAN",
            kecamatan_code="61.71.01",
            kelurahan_code="61.71.01.1001",
            address="Jl. Uji",
            status=seed.status.value,
            opd_code=seed.opd,
            created_at=seed.created_at,
            **{f"{prefix}_due_at": moment for prefix, moment in seed.dues.items()},
        )
        session.add(report)
        session.flush()
        for status, occurred_at in seed.events:
            session.add(
                ReportEvent(
                    report_id=report.id, kind="status", status=status.value, actor="sistem", occurred_at=occurred_at
                )
            )
        for code, started_at in seed.starts.items():
            session.add(DeadlineStart(report_id=report.id, deadline=code, started_at=started_at, days=3))
