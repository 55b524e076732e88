"""Monthly recap of complaints: counts, SLA compliance and medians from the timeline, as an Excel workbook."""

import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lapor import sla
from lapor.masterdata import (
    MasterDataError,
    category_list,
    get_category,
    get_kecamatan,
    get_opd,
    kecamatan_list,
    opd_list,
)
from lapor.models import MessageKind, RecapDocument, Report, ReportMessage, ReportStatus
from lapor.notifications.templates import MONTH_NAMES, format_date
from lapor.sla import NOT_DISPATCHED, SLA_DEADLINES, STAGE_NAMES, SlaCount, SlaFigures, local_midnight
from lapor.vocabulary import Deadline, ReportType
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

_BOLD = Font(bold=True)


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
    disposition: SlaCount
    response: SlaCount
    completion: SlaCount
    documentation: SlaCount
    median_hours_to_verification: float | None
    median_hours_verified_to_process: float | None
    median_hours_to_completion: float | None
    # Compliance per SOP deadline of each OPD's reports (by name, "Belum didisposisi" last): lapor.sla's figures.
    sla_per_opd: dict[str, SlaFigures]
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
    """Recap of the reports created from start to end (Pontianak dates, inclusive), as of the end of end.

    The SLA figures are lapor.sla's, the same computation the supervisors' live view shows for a past period."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    cutoff = local_midnight(end + timedelta(days=1))
    reports = session.scalars(
        select(Report).where(Report.created_at >= local_midnight(start), Report.created_at < cutoff).order_by(Report.id)
    ).all()
    facts = sla.judge_created(session, start, end, cutoff)
    status_counts = Counter(_status_label(f.status) for f in facts)
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
    satisfaction, satisfaction_overall = _satisfaction(session, local_midnight(start), cutoff)
    overall = sla.compliance(facts)
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
        verification=overall.compliance[Deadline.VERIFICATION],
        disposition=overall.compliance[Deadline.DISPOSITION],
        response=overall.compliance[Deadline.OPD_RESPONSE],
        completion=overall.compliance[Deadline.OPD_COMPLETION],
        documentation=overall.compliance[Deadline.DOCUMENTATION],
        median_hours_to_verification=overall.median_hours_to_verification,
        median_hours_verified_to_process=overall.median_hours_dispatched_to_process,
        median_hours_to_completion=overall.median_hours_to_completion,
        sla_per_opd=_sla_per_opd(facts),
        satisfaction=satisfaction,
        satisfaction_overall=satisfaction_overall,
    )


def _sla_per_opd(facts: Sequence[sla.TimelineFacts]) -> dict[str, SlaFigures]:
    """Each OPD's compliance (OPDs with reports in the period, in master-data order, "Belum didisposisi" last)."""
    grouped: dict[str | None, list[sla.TimelineFacts]] = {}
    for fact in facts:
        grouped.setdefault(fact.opd_code, []).append(fact)
    order = {opd.code: index for index, opd in enumerate(opd_list())}
    codes = sorted(grouped, key=lambda code: (code is None, order.get(code or "", len(order)), code or ""))
    return {sla.opd_name(code): sla.compliance(grouped[code]) for code in codes}


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
        (STAGE_NAMES[Deadline.VERIFICATION], recap.verification),
        (STAGE_NAMES[Deadline.DISPOSITION], recap.disposition),
        (STAGE_NAMES[Deadline.OPD_RESPONSE], recap.response),
        (STAGE_NAMES[Deadline.OPD_COMPLETION], recap.completion),
        (STAGE_NAMES[Deadline.DOCUMENTATION], recap.documentation),
    ]
    last = _table(ws, _SLA_HEADERS, [(stage, *_sla_cells(count)) for stage, count in stages], first_row=10)
    for row in range(11, last + 1):
        ws.cell(row=row, column=5).number_format = "0.0%"
    ws["A17"] = "Median waktu"
    ws["A17"].font = _BOLD
    medians = [
        ("Laporan masuk sampai diverifikasi", recap.median_hours_to_verification),
        ("Terverifikasi sampai Proses", recap.median_hours_verified_to_process),
        ("Laporan masuk sampai Selesai", recap.median_hours_to_completion),
    ]
    last = _table(
        ws,
        ["Tahap", "Median (jam)"],
        [(stage, round(hours, 1) if hours is not None else "Tidak ada data") for stage, hours in medians],
        first_row=18,
    )
    for row in range(19, last + 1):
        ws.cell(row=row, column=2).number_format = "0.0"
    ws.column_dimensions["A"].width = 36
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 22


_SLA_HEADERS = ["Tahap", "Tepat waktu", "Terlambat", "Belum jatuh tempo", "Persentase tepat waktu"]


def _sla_cells(count: SlaCount) -> tuple[int, int, int, float | str]:
    return count.met, count.missed, count.pending, count.met_ratio if count.met_ratio is not None else "-"


def _sla_per_opd_sheet(wb: Workbook, recap: Recap) -> None:
    """Each OPD's compliance per SOP deadline: the table the supervisors' SLA view shows for the same period."""
    ws = wb.create_sheet("SLA per OPD")
    ws["A1"] = "Ketepatan waktu per OPD (laporan yang masuk dalam periode, per akhir periode)"
    ws["A1"].font = _BOLD
    rows = [
        (name, STAGE_NAMES[deadline], *_sla_cells(figures.compliance[deadline]))
        for name, figures in recap.sla_per_opd.items()
        for deadline in SLA_DEADLINES
    ]
    last = _table(ws, ["OPD", *_SLA_HEADERS], rows, first_row=3)
    for row in range(4, last + 1):
        ws.cell(row=row, column=6).number_format = "0.0%"
    _fit_columns(ws)


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
    _sla_per_opd_sheet(wb, recap)
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
