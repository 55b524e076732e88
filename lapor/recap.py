"""Monthly recap of complaints: counts, SLA compliance and medians from the timeline, as an Excel workbook."""

import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lapor.masterdata import (
    MasterDataError,
    category_list,
    get_category,
    get_kecamatan,
    get_opd,
    kecamatan_list,
    opd_list,
)
from lapor.models import EventKind, MessageKind, RecapDocument, Report, ReportEvent, ReportMessage, ReportStatus
from lapor.notifications.templates import MONTH_NAMES, format_date
from lapor.vocabulary import ReportType
from lapor.workdays import PONTIANAK_TZ

__all__ = [
    "NOT_DISPATCHED",
    "Rating",
    "Recap",
    "SlaCount",
    "compute_recap",
    "period_of",
    "produce_recap",
    "write_xlsx",
]

NOT_DISPATCHED = "Belum didisposisi"
_BOLD = Font(bold=True)


@dataclass(frozen=True, slots=True)
class SlaCount:
    """Reports that met or missed one deadline; pending ones have neither done it nor passed it yet."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def met_ratio(self) -> float | None:
        """Share of decided cases that met the deadline, None when nothing was decided."""
        decided = self.met + self.missed
        return self.met / decided if decided else None


@dataclass(frozen=True, slots=True)
class Rating:
    """Satisfaction ratings (1-5) the reporters gave with their confirmations: how many, and their mean."""

    count: int
    average: float


@dataclass(frozen=True, slots=True)
class Recap:
    """Figures of the reports created in one period, as they stood at the end of that period."""

    period: str  # "YYYY-MM" for a calendar month
    start: date
    end: date
    total: int
    per_status: dict[str, int]  # status label -> reports
    per_type: dict[str, int]  # report type label -> reports, in ReportType order
    per_opd: dict[str, int]  # OPD name -> reports
    per_category: dict[str, int]
    per_kecamatan: dict[str, int]
    verification: SlaCount
    response: SlaCount
    completion: SlaCount
    median_hours_to_verification: float | None
    median_hours_verified_to_process: float | None
    median_hours_to_completion: float | None
    # Ratings given in the period (whenever their report came in), per OPD name, and over all OPDs.
    satisfaction: dict[str, Rating]
    satisfaction_overall: Rating | None

    @property
    def period_label(self) -> str:
        """The period as people read it, e.g. "November 2026"."""
        if self.start.day == 1 and self.end == _last_day(self.start):
            return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        return f"{format_date(self.start)} s.d. {format_date(self.end)}"


def _last_day(day: date) -> date:
    """The last day of day's month."""
    first_of_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_of_next - timedelta(days=1)


def period_of(now: datetime) -> tuple[date, date, str]:
    """The calendar month before now's month in Pontianak: (first day, last day, "YYYY-MM")."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    last = now.astimezone(PONTIANAK_TZ).date().replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    return first, last, f"{first:%Y-%m}"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PONTIANAK_TZ)


def _judge(done_at: datetime | None, due: datetime | None, cutoff: datetime) -> str | None:
    """'met', 'missed' or 'pending' for one deadline; None when the report never had that deadline."""
    if due is None:
        return None
    if done_at is not None:
        return "met" if done_at <= due else "missed"
    return "missed" if due < cutoff else "pending"


def _sla(outcomes: Iterable[str | None]) -> SlaCount:
    counts = Counter(outcome for outcome in outcomes if outcome is not None)
    return SlaCount(met=counts["met"], missed=counts["missed"], pending=counts["pending"])


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 3600 if start is not None and end is not None else None


def _median(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _first(events: Sequence[ReportEvent], status: str, after: datetime | None = None) -> ReportEvent | None:
    return next((e for e in events if e.status == status and (after is None or e.occurred_at >= after)), None)


def _status_label(code: str) -> str:
    try:
        return ReportStatus(code).label
    except ValueError:
        return code  # a status this version does not know still gets counted under its code


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def _name(lookup: Callable[[str], _Named], code: str) -> str:
    try:
        return lookup(code).name
    except MasterDataError:
        return code  # retired master data must not break the recap of old reports


def _ranked(counts: Counter[str], known: Iterable[str]) -> dict[str, int]:
    """Every known name (zeros too) plus any other counted name, most reports first, ties in file order."""
    names = list(dict.fromkeys([*known, *counts]))
    return {name: counts[name] for name in sorted(names, key=lambda name: -counts[name])}


@dataclass(frozen=True, slots=True)
class _Milestones:
    created: datetime
    status: str
    verified: datetime | None
    terverifikasi: datetime | None
    proses_after_verified: datetime | None
    proses: datetime | None
    selesai: datetime | None


def _milestones(report: Report, cutoff: datetime) -> _Milestones:
    """What the timeline says about one report up to the end of the period."""
    timeline = sorted(
        (e for e in report.events if e.kind == EventKind.STATUS and e.status and e.occurred_at < cutoff),
        key=lambda e: (e.occurred_at, e.id),
    )
    # The first decision of the admin, whatever it was, ends the verification stage.
    verified = next((e for e in timeline if e.status != ReportStatus.BELUM_TERVERIFIKASI), None)
    terverifikasi = _first(timeline, ReportStatus.TERVERIFIKASI)
    proses_after = _first(timeline, ReportStatus.PROSES, terverifikasi.occurred_at) if terverifikasi else None
    proses = _first(timeline, ReportStatus.PROSES)
    selesai = _first(timeline, ReportStatus.SELESAI)
    last_status = timeline[-1].status if timeline else None
    return _Milestones(
        created=report.created_at,
        status=last_status or ReportStatus.BELUM_TERVERIFIKASI.value,
        verified=verified.occurred_at if verified else None,
        terverifikasi=terverifikasi.occurred_at if terverifikasi else None,
        proses_after_verified=proses_after.occurred_at if proses_after else None,
        proses=proses.occurred_at if proses else None,
        selesai=selesai.occurred_at if selesai else None,
    )


def _type_label(code: str) -> str:
    try:
        return ReportType(code).label
    except ValueError:
        return code


def _rating(values: Sequence[int]) -> Rating:
    return Rating(count=len(values), average=round(statistics.fmean(values), 2))


def _satisfaction(session: Session, since: datetime, cutoff: datetime) -> tuple[dict[str, Rating], Rating | None]:
    """Ratings given from since to cutoff, per OPD that handled the report (by name), best rated first."""
    rows = session.execute(
        select(Report.opd_code, ReportMessage.rating)
        .join(Report, Report.id == ReportMessage.report_id)
        .where(
            ReportMessage.kind == MessageKind.CONFIRMATION.value,
            ReportMessage.rating.is_not(None),
            ReportMessage.created_at >= since,
            ReportMessage.created_at < cutoff,
        )
    ).all()
    given = [(opd_code, rating) for opd_code, rating in rows if rating is not None]
    per_opd: dict[str, list[int]] = {}
    for opd_code, rating in given:
        per_opd.setdefault(_name(get_opd, opd_code) if opd_code else NOT_DISPATCHED, []).append(rating)
    ratings = {name: _rating(values) for name, values in per_opd.items()}
    ranked = dict(sorted(ratings.items(), key=lambda item: (-item[1].average, -item[1].count, item[0])))
    return ranked, _rating([rating for _, rating in given]) if given else None


def compute_recap(session: Session, start: date, end: date) -> Recap:
    """Recap of the reports created from start to end (Pontianak dates, inclusive), as of the end of end."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    cutoff = _local_midnight(end + timedelta(days=1))
    reports = session.scalars(
        select(Report)
        .where(Report.created_at >= _local_midnight(start), Report.created_at < cutoff)
        .options(selectinload(Report.events))
        .order_by(Report.id)
    ).all()
    milestones = [_milestones(report, cutoff) for report in reports]

    status_counts = Counter(_status_label(m.status) for m in milestones)
    # Statuses keep the order of the process, zeros included, so months line up side by side.
    per_status = {status.label: status_counts[status.label] for status in ReportStatus}
    per_status |= {label: count for label, count in status_counts.items() if label not in per_status}
    per_opd = Counter(_name(get_opd, r.opd_code) if r.opd_code else NOT_DISPATCHED for r in reports)
    type_counts = Counter(_type_label(r.report_type) for r in reports)
    per_type = {kind.label: type_counts[kind.label] for kind in ReportType}
    per_type |= {label: count for label, count in type_counts.items() if label not in per_type}
    per_category = Counter(_name(get_category, r.category) for r in reports)
    per_kecamatan = Counter(_name(get_kecamatan, r.kecamatan_code) for r in reports)
    period = f"{start:%Y-%m}" if start.day == 1 and end == _last_day(start) else f"{start}_{end}"
    pairs = list(zip(reports, milestones, strict=True))
    satisfaction, satisfaction_overall = _satisfaction(session, _local_midnight(start), cutoff)
    return Recap(
        period=period,
        start=start,
        end=end,
        total=len(reports),
        per_status=per_status,
        per_type=per_type,
        per_opd=_ranked(per_opd, [o.name for o in opd_list()] + [NOT_DISPATCHED]),
        per_category=_ranked(per_category, [c.name for c in category_list()]),
        per_kecamatan=_ranked(per_kecamatan, [k.name for k in kecamatan_list()]),
        verification=_sla(_judge(m.verified, r.verification_due_at, cutoff) for r, m in pairs),
        response=_sla(_judge(m.proses, r.response_due_at, cutoff) for r, m in pairs),
        completion=_sla(_judge(m.selesai, r.completion_due_at, cutoff) for r, m in pairs),
        median_hours_to_verification=_median(_hours(m.created, m.verified) for m in milestones),
        median_hours_verified_to_process=_median(_hours(m.terverifikasi, m.proses_after_verified) for m in milestones),
        median_hours_to_completion=_median(_hours(m.created, m.selesai) for m in milestones),
        satisfaction=satisfaction,
        satisfaction_overall=satisfaction_overall,
    )


def _table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[object]], first_row: int = 1) -> int:
    """Write a header row and data rows from first_row on; returns the last row written."""
    for column, header in enumerate(headers, start=1):
        ws.cell(row=first_row, column=column, value=header).font = _BOLD
    row = first_row
    for row, values in enumerate(rows, start=first_row + 1):
        for column, value in enumerate(values, start=1):
            ws.cell(row=row, column=column, value=value)
    return row


def _fit_columns(ws: Worksheet) -> None:
    for column in ws.columns:
        width = max((len(str(cell.value)) for cell in column if cell.value is not None), default=8)
        ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)


def _count_sheet(wb: Workbook, title: str, heading: str, counts: dict[str, int], *, horizontal: bool) -> None:
    """One breakdown: a table of counts and a native bar chart of it."""
    ws = wb.create_sheet(title)
    last = _table(ws, [heading, "Jumlah laporan"], counts.items())
    total_row = last + 1
    ws.cell(row=total_row, column=1, value="Jumlah").font = _BOLD
    ws.cell(row=total_row, column=2, value=sum(counts.values())).font = _BOLD
    _fit_columns(ws)
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"  # long OPD names read better on a horizontal bar
    chart.title = f"Jumlah laporan per {heading.lower()}"
    chart.legend = None
    chart.y_axis.title = "Jumlah laporan"
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=max(last, 2)), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=max(last, 2)))
    chart.width = 22
    chart.height = max(8.0, 0.6 * len(counts)) if horizontal else 10
    ws.add_chart(chart, "D2")


def _summary_sheet(ws: Worksheet, recap: Recap) -> None:
    ws.title = "Ringkasan"
    ws["A1"] = "Rekapitulasi Pengaduan Masyarakat SP4N-LAPOR! Kota Pontianak"
    ws["A1"].font = Font(bold=True, size=14)
    _table(
        ws,
        ["Keterangan", "Nilai"],
        [
            ("Periode", recap.period_label),
            ("Rentang tanggal", f"{format_date(recap.start)} s.d. {format_date(recap.end)}"),
            ("Jumlah laporan masuk", recap.total),
            ("Dasar perhitungan", "Laporan yang masuk dalam periode; status dan SLA per akhir periode (WIB)"),
        ],
        first_row=3,
    )
    ws["A9"] = "Ketepatan waktu (SLA)"
    ws["A9"].font = _BOLD
    stages = [
        ("Verifikasi oleh Admin Pengaduan", recap.verification),
        ("Tanggapan OPD (status Proses)", recap.response),
        ("Penyelesaian (status Selesai)", recap.completion),
    ]
    last = _table(
        ws,
        ["Tahap", "Tepat waktu", "Terlambat", "Belum jatuh tempo", "Persentase tepat waktu"],
        [
            (stage, sla.met, sla.missed, sla.pending, sla.met_ratio if sla.met_ratio is not None else "-")
            for stage, sla in stages
        ],
        first_row=10,
    )
    for row in range(11, last + 1):
        ws.cell(row=row, column=5).number_format = "0.0%"
    ws["A15"] = "Median waktu"
    ws["A15"].font = _BOLD
    medians = [
        ("Laporan masuk sampai diverifikasi", recap.median_hours_to_verification),
        ("Terverifikasi sampai Proses", recap.median_hours_verified_to_process),
        ("Laporan masuk sampai Selesai", recap.median_hours_to_completion),
    ]
    last = _table(
        ws,
        ["Tahap", "Median (jam)"],
        [(stage, round(hours, 1) if hours is not None else "Tidak ada data") for stage, hours in medians],
        first_row=16,
    )
    for row in range(17, last + 1):
        ws.cell(row=row, column=2).number_format = "0.0"
    ws.column_dimensions["A"].width = 36
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 22


def _satisfaction_sheet(wb: Workbook, recap: Recap) -> None:
    ws = wb.create_sheet("Kepuasan")
    ws["A1"] = "Kepuasan pelapor per OPD (penilaian 1-5 yang diberikan dalam periode)"
    ws["A1"].font = _BOLD
    rows: list[tuple[str, int, float | str]] = [(n, r.count, r.average) for n, r in recap.satisfaction.items()]
    overall = recap.satisfaction_overall
    rows.append(("Semua OPD", overall.count if overall else 0, overall.average if overall else "-"))
    last = _table(ws, ["OPD", "Jumlah penilaian", "Rata-rata (1-5)"], rows, first_row=3)
    for row in range(4, last + 1):
        ws.cell(row=row, column=3).number_format = "0.00"
    ws.cell(row=last, column=1).font = _BOLD
    _fit_columns(ws)


def write_xlsx(recap: Recap, path: Path) -> None:
    """Write the recap workbook; readers never see a half-written file (temp file, then rename)."""
    wb = Workbook()
    _summary_sheet(wb.active, recap)
    _count_sheet(wb, "Per Status", "Status", recap.per_status, horizontal=False)
    _count_sheet(wb, "Per Jenis", "Jenis laporan", recap.per_type, horizontal=False)
    _count_sheet(wb, "Per OPD", "OPD", recap.per_opd, horizontal=True)
    _count_sheet(wb, "Per Kategori", "Kategori", recap.per_category, horizontal=True)
    _count_sheet(wb, "Per Kecamatan", "Kecamatan", recap.per_kecamatan, horizontal=False)
    _satisfaction_sheet(wb, recap)
    # Same directory, so the rename stays on one file system and is atomic.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            wb.save(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _save_document(
    session_factory: Callable[[], AbstractContextManager[Session]], period: str, path: Path, now: datetime
) -> RecapDocument:
    """Insert or update the one row of a period; a concurrent insert makes the second try an update."""
    for attempt in range(2):
        try:
            with session_factory() as session:
                document = session.scalars(select(RecapDocument).where(RecapDocument.period == period)).one_or_none()
                if document is None:
                    document = RecapDocument(period=period, path=str(path), created_at=now)
                    session.add(document)
                else:
                    document.path = str(path)
                    document.created_at = now
                session.flush()
                # Detached with its loaded values, so the caller can read it after the session closes.
                session.expunge(document)
                return document
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def produce_recap(
    *, session_factory: Callable[[], AbstractContextManager[Session]], now: datetime, directory: Path
) -> RecapDocument:
    """Recap the month before now into directory/rekap-YYYY-MM.xlsx and record it; safe to run twice."""
    start, end, period = period_of(now)
    with session_factory() as session:
        recap = compute_recap(session, start, end)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"rekap-{period}.xlsx"
    write_xlsx(recap, path)
    return _save_document(session_factory, period, path, now)
