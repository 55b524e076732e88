"""SLA of reports against the SOP's deadlines: one computation for the supervisors' live view and the monthly recap.

A deadline is judged by its due date (the report's `<deadline>_due_at` column, the current round's) and the moment
the timeline says it was done: the first done-moment at or after the round's start (`deadline_starts`), so a
supplemented report or a re-dispatch is judged on its new round. Done-moments, from bpmn/lapor-pengaduan.bpmn:

- verification: Admin Pengaduan's decision, i.e. the first status other than Belum Terverifikasi, or the moment the
  disposition deadline started (a complete report goes straight to disposition and gets no status of its own);
- disposition: the Terverifikasi status (recorded once the report is dispatched to an OPD);
- OPD response: the Proses status;
- OPD completion: the moment the documentation deadline started (the OPD reported completion with its proof), or
  Menunggu Konfirmasi / Selesai (an aspirasi's answer is its result);
- documentation: the Menunggu Konfirmasi status (Admin Pengaduan documented the completion).

Rows are read as plain columns, not ORM objects: the live view must answer for 10,000 reports in well under a second.
"""

import statistics
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from lapor.masterdata import MasterDataError, get_opd, opd_list
from lapor.models import CLOSED_STATUSES, DeadlineStart, EventKind, Report, ReportEvent, ReportStatus
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar

__all__ = [
    "NOT_DISPATCHED",
    "SLA_DEADLINES",
    "STAGE_NAMES",
    "AtRisk",
    "Judgement",
    "Outcome",
    "SlaCount",
    "SlaFigures",
    "SlaView",
    "TimelineFacts",
    "compliance",
    "holder_of",
    "judge_created",
    "live_view",
    "local_midnight",
    "opd_name",
    "working_days_left",
]

NOT_DISPATCHED = "Belum didisposisi"
# The SOP deadlines staff are judged on, in the order a report meets them.
SLA_DEADLINES = (
    Deadline.VERIFICATION,
    Deadline.DISPOSITION,
    Deadline.OPD_RESPONSE,
    Deadline.OPD_COMPLETION,
    Deadline.DOCUMENTATION,
)
# The stages as the recap, the live view and its CSV name them.
STAGE_NAMES = {
    Deadline.VERIFICATION: "Verifikasi oleh Admin Pengaduan",
    Deadline.DISPOSITION: "Disposisi ke OPD",
    Deadline.OPD_RESPONSE: "Tanggapan OPD (status Proses)",
    Deadline.OPD_COMPLETION: "Penyelesaian tindak lanjut oleh OPD",
    Deadline.DOCUMENTATION: "Dokumentasi penyelesaian oleh Admin Pengaduan",
}
# Open, but the next move is the reporter's (supplement, confirmation): no staff deadline runs.
_WITH_REPORTER = frozenset({ReportStatus.DIKEMBALIKAN, ReportStatus.MENUNGGU_KONFIRMASI})
_DONE_STATUSES: dict[Deadline, frozenset[str]] = {
    Deadline.DISPOSITION: frozenset({ReportStatus.TERVERIFIKASI}),
    Deadline.OPD_RESPONSE: frozenset({ReportStatus.PROSES}),
    Deadline.OPD_COMPLETION: frozenset({ReportStatus.MENUNGGU_KONFIRMASI, ReportStatus.SELESAI}),
    Deadline.DOCUMENTATION: frozenset({ReportStatus.MENUNGGU_KONFIRMASI}),
}
# A later deadline whose start marks this one done (see the module docstring).
_DONE_WHEN_STARTED = {Deadline.VERIFICATION: Deadline.DISPOSITION, Deadline.OPD_COMPLETION: Deadline.DOCUMENTATION}
_ADMIN = ("admin-pengaduan", "Admin Pengaduan Daerah")
_DISPATCHERS = ("admin-pengaduan,analis,kepala-bidang", "Admin Pengaduan / Analis / Kepala Bidang")


class Outcome(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"


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
class Judgement:
    due_at: datetime
    done_at: datetime | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class TimelineFacts:
    """One report as its timeline stands at a moment: last status, milestones and each deadline judged."""

    report_id: int
    tracking_id: str
    title: str
    opd_code: str | None
    created_at: datetime
    process_instance_id: str | None
    status: str
    verified_at: datetime | None  # Admin Pengaduan's first decision, any round
    dispatched_at: datetime | None  # first Terverifikasi
    processing_after_dispatch_at: datetime | None  # first Proses after it
    processing_at: datetime | None  # first Proses
    finished_at: datetime | None  # first Selesai
    judgements: dict[Deadline, Judgement]


def local_midnight(day: date) -> datetime:
    """00:00 WIB of a Pontianak date."""
    return datetime.combine(day, time.min, tzinfo=PONTIANAK_TZ)


def opd_name(code: str | None) -> str:
    """The OPD's name, "Belum didisposisi" for none, the code itself for an OPD master data no longer lists."""
    if not code:
        return NOT_DISPATCHED
    try:
        return get_opd(code).name
    except MasterDataError:
        return code


def _judge(due: datetime, done_at: datetime | None, as_of: datetime) -> Judgement:
    if done_at is not None:
        return Judgement(due, done_at, Outcome.MET if done_at <= due else Outcome.MISSED)
    return Judgement(due, None, Outcome.MISSED if due < as_of else Outcome.PENDING)


_COLUMNS = (
    Report.id,
    Report.tracking_id,
    Report.title,
    Report.opd_code,
    Report.created_at,
    Report.process_instance_id,
    *(getattr(Report, d.column or "") for d in SLA_DEADLINES),
)


def _facts(
    session: Session, condition: ColumnElement[bool], as_of: datetime, *, order: Sequence[ColumnElement[object]] = ()
) -> list[TimelineFacts]:
    """The timeline facts of every report matching condition, as of as_of (later events are not seen)."""
    ids = select(Report.id).where(condition).scalar_subquery()
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    event_rows = (
        select(ReportEvent.report_id, ReportEvent.occurred_at, ReportEvent.status)
        .where(
            ReportEvent.report_id.in_(ids), ReportEvent.kind == EventKind.STATUS.value, ReportEvent.occurred_at < as_of
        )
        .order_by(ReportEvent.report_id, ReportEvent.occurred_at, ReportEvent.id)
    )
    for report_id, occurred_at, status in session.execute(event_rows):
        if status:
            events[report_id].append((occurred_at, status))
    starts: dict[int, dict[Deadline | None, datetime]] = defaultdict(dict)
    start_rows = select(DeadlineStart.report_id, DeadlineStart.deadline, DeadlineStart.started_at).where(
        DeadlineStart.report_id.in_(ids), DeadlineStart.started_at < as_of
    )
    for start_row in session.execute(start_rows):
        starts[start_row.report_id][_BY_CODE.get(start_row.deadline)] = start_row.started_at
    rows = session.execute(select(*_COLUMNS).where(condition).order_by(*order, Report.id))
    return [_one(row, events.get(row[0], []), starts.get(row[0], {}), as_of) for row in rows]


# Where each deadline's current round started (deadline_starts), by Deadline: enum values are slow to read in a loop.
_Starts = dict[Deadline | None, datetime]
_BY_CODE = {deadline.code: deadline for deadline in Deadline}
# A report's status events: status -> its moments, in time order (the query sorts them).
_ByStatus = dict[str, list[datetime]]


def _first(by_status: _ByStatus, wanted: Iterable[str], after: datetime | None = None) -> datetime | None:
    """The earliest moment (at or after `after`) of any wanted status."""
    found: datetime | None = None
    for status in wanted:
        moments = by_status.get(status)
        if not moments:
            continue
        index = bisect_left(moments, after) if after is not None else 0
        if index < len(moments) and (found is None or moments[index] < found):
            found = moments[index]
    return found


def _decided(by_status: _ByStatus) -> list[str]:
    return [status for status in by_status if status != ReportStatus.BELUM_TERVERIFIKASI]


def _done_at(deadline: Deadline, by_status: _ByStatus, starts: _Starts) -> datetime | None:
    """The first moment the timeline shows deadline done in its current round."""
    round_start = starts.get(deadline)
    wanted = _decided(by_status) if deadline is Deadline.VERIFICATION else _DONE_STATUSES[deadline]
    candidates = [found] if (found := _first(by_status, wanted, round_start)) is not None else []
    later = _DONE_WHEN_STARTED.get(deadline)
    if later is not None and (started := starts.get(later)) is not None:
        if round_start is None or started >= round_start:
            candidates.append(started)
    return min(candidates, default=None)


def _one(row: Sequence[object], events: list[tuple[datetime, str]], starts: _Starts, as_of: datetime) -> TimelineFacts:
    report_id, tracking_id, title, opd_code, created_at, process_instance_id, *dues = row
    by_status: _ByStatus = {}
    for at, status in events:
        by_status.setdefault(status, []).append(at)
    judgements = {
        deadline: _judge(due, _done_at(deadline, by_status, starts), as_of)
        for deadline, due in zip(SLA_DEADLINES, dues, strict=True)
        if isinstance(due, datetime)
    }
    decided = [at for at in [_first(by_status, _decided(by_status)), starts.get(Deadline.DISPOSITION)] if at]
    dispatched = _first(by_status, (ReportStatus.TERVERIFIKASI,))
    assert isinstance(created_at, datetime) and isinstance(tracking_id, str) and isinstance(title, str)
    return TimelineFacts(
        report_id=int(str(report_id)),
        tracking_id=tracking_id,
        title=title,
        opd_code=opd_code if isinstance(opd_code, str) else None,
        created_at=created_at,
        process_instance_id=process_instance_id if isinstance(process_instance_id, str) else None,
        status=events[-1][1] if events else ReportStatus.BELUM_TERVERIFIKASI.value,
        verified_at=min(decided, default=None),
        dispatched_at=dispatched,
        processing_after_dispatch_at=_first(by_status, (ReportStatus.PROSES,), dispatched) if dispatched else None,
        processing_at=_first(by_status, (ReportStatus.PROSES,)),
        finished_at=_first(by_status, (ReportStatus.SELESAI,)),
        judgements=judgements,
    )


def judge_created(session: Session, start: date, end: date, as_of: datetime) -> list[TimelineFacts]:
    """The reports created from start to end (Pontianak dates, inclusive), judged as of as_of."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return _facts(session, _created_in(start, end), as_of)


def _created_in(start: date, end: date) -> ColumnElement[bool]:
    return (Report.created_at >= local_midnight(start)) & (Report.created_at < local_midnight(end + timedelta(days=1)))


def _period_and_open(
    session: Session, start: date, end: date, as_of: datetime, now: datetime
) -> tuple[list[TimelineFacts], list[TimelineFacts]]:
    """The period's reports as of as_of, and the open reports as of now; read once when both are judged now (a
    running period), so an open report of the period is not judged twice."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if as_of != now:
        return judge_created(session, start, end, as_of), _facts(session, _open_condition(), now)
    first, after = local_midnight(start), local_midnight(end + timedelta(days=1))
    facts = _facts(session, _created_in(start, end) | _open_condition(), now)
    return [f for f in facts if first <= f.created_at < after], [f for f in facts if f.status not in CLOSED_STATUSES]


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 3600 if start is not None and end is not None else None


def _median(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True, slots=True)
class SlaFigures:
    """Compliance per SOP deadline and median times of a set of reports (one OPD's, or all)."""

    reports: int
    compliance: dict[Deadline, SlaCount]
    median_hours_to_verification: float | None
    median_hours_dispatched_to_process: float | None
    median_hours_to_completion: float | None


def compliance(facts: Sequence[TimelineFacts]) -> SlaFigures:
    """Met / missed / pending per deadline over the reports that had it, and the medians of the timeline."""
    outcomes: dict[Deadline, Counter[Outcome]] = {deadline: Counter() for deadline in SLA_DEADLINES}
    for fact in facts:
        for deadline, judgement in fact.judgements.items():
            outcomes[deadline][judgement.outcome] += 1
    return SlaFigures(
        reports=len(facts),
        compliance={
            d: SlaCount(met=c[Outcome.MET], missed=c[Outcome.MISSED], pending=c[Outcome.PENDING])
            for d, c in outcomes.items()
        },
        median_hours_to_verification=_median(_hours(f.created_at, f.verified_at) for f in facts),
        median_hours_dispatched_to_process=_median(
            _hours(f.dispatched_at, f.processing_after_dispatch_at) for f in facts
        ),
        median_hours_to_completion=_median(_hours(f.created_at, f.finished_at) for f in facts),
    )


# -- the live view -----------------------------------------------------------------------------------------------


def holder_of(deadline: Deadline, opd_code: str | None) -> tuple[str, str]:
    """(candidate group, name) of who holds a report while deadline runs: the stage's candidate group in the BPMN."""
    if deadline is Deadline.DISPOSITION:
        return _DISPATCHERS
    if deadline in (Deadline.OPD_RESPONSE, Deadline.OPD_COMPLETION) and opd_code:
        return f"opd-{opd_code.lower()}", opd_name(opd_code)
    return _ADMIN


def working_days_left(due: datetime, now: datetime, calendar: WorkingCalendar) -> int:
    """Working days from now's Pontianak date to due's: 0 on the due day itself, negative (at least -1) once late."""
    return _Countdown(calendar, now).left(due)


class _Countdown:
    """Working days left from one moment: the working days between two dates, counted once per date (the at-risk
    list of a backlog asks for thousands of due dates, most of them shared)."""

    def __init__(self, calendar: WorkingCalendar, now: datetime) -> None:
        self.calendar = calendar
        self.now = now
        self.today = now.astimezone(PONTIANAK_TZ).date()
        self._between: dict[date, int] = {}

    def _count(self, day: date) -> int:
        """Working days after the earlier of today and day, up to and including the later one."""
        if day not in self._between:
            first, last = sorted((self.today, day))
            days = ((first + timedelta(days=n)) for n in range(1, (last - first).days + 1))
            self._between[day] = sum(1 for d in days if self.calendar.is_working_day(d))
        return self._between[day]

    def left(self, due: datetime) -> int:
        due_day = due.astimezone(PONTIANAK_TZ).date()
        count = self._count(due_day)
        if due < self.now:
            return -max(count, 1)
        return count if due_day >= self.today else -count


@dataclass(frozen=True, slots=True)
class AtRisk:
    """An open report whose current deadline has passed or falls within the warning window."""

    tracking_id: str
    title: str
    opd_code: str | None
    status: str
    deadline: Deadline
    due_at: datetime
    working_days_left: int
    late: bool
    holder_group: str
    holder: str
    process_instance_id: str | None


@dataclass(frozen=True, slots=True)
class OpdFigures:
    """One OPD's row of the live view: open reports now, and compliance of the reports created in the period."""

    opd_code: str | None
    open: int
    late: int
    due_soon: int
    figures: SlaFigures


@dataclass(frozen=True, slots=True)
class SlaView:
    start: date
    end: date
    as_of: datetime
    within: int
    open: int
    late: int
    due_soon: int
    overall: SlaFigures
    per_opd: list[OpdFigures]
    at_risk: list[AtRisk] = field(default_factory=list)


def _current(fact: TimelineFacts) -> tuple[Deadline, Judgement] | None:
    """The staff deadline an open report is running on: the first of the SOP's it has and has not done."""
    if fact.status in _WITH_REPORTER:
        return None
    return next(((d, j) for d, j in fact.judgements.items() if j.done_at is None), None)


def _open_condition() -> ColumnElement[bool]:
    return Report.status.not_in([s.value for s in CLOSED_STATUSES])


def live_view(
    session: Session, *, start: date, end: date, now: datetime, within: int, calendar: WorkingCalendar
) -> SlaView:
    """Open / late / due-within-N now, per OPD and overall, the at-risk list, and compliance of the period."""
    as_of = min(local_midnight(end + timedelta(days=1)), now)
    period, open_facts = _period_and_open(session, start, end, as_of, now)
    at_risk: list[AtRisk] = []
    open_per_opd: Counter[str | None] = Counter()
    countdown = _Countdown(calendar, now)
    for fact in open_facts:
        if fact.status in CLOSED_STATUSES:
            continue  # closed by an event the status column has not caught up with
        open_per_opd[fact.opd_code] += 1
        current = _current(fact)
        if current is None:
            continue
        deadline, judgement = current
        left = countdown.left(judgement.due_at)
        late = judgement.due_at < now
        if late or left <= within:
            group, holder = holder_of(deadline, fact.opd_code)
            at_risk.append(
                AtRisk(fact.tracking_id, fact.title, fact.opd_code, fact.status, deadline, judgement.due_at, left,
                       late, group, holder, fact.process_instance_id)
            )  # fmt: skip
    at_risk.sort(key=lambda row: (row.due_at, row.tracking_id))
    late_per_opd = Counter(row.opd_code for row in at_risk if row.late)
    soon_per_opd = Counter(row.opd_code for row in at_risk if not row.late)
    period_per_opd: dict[str | None, list[TimelineFacts]] = defaultdict(list)
    for fact in period:
        period_per_opd[fact.opd_code].append(fact)
    codes: list[str | None] = [opd.code for opd in opd_list()]
    codes += [*sorted({c for c in (*open_per_opd, *period_per_opd) if c is not None and c not in codes}), None]
    per_opd = [
        OpdFigures(code, open_per_opd[code], late_per_opd[code], soon_per_opd[code], compliance(period_per_opd[code]))
        for code in codes
        if open_per_opd[code] or period_per_opd[code]
    ]
    return SlaView(
        start=start,
        end=end,
        as_of=as_of,
        within=within,
        open=sum(open_per_opd.values()),
        late=sum(late_per_opd.values()),
        due_soon=sum(soon_per_opd.values()),
        overall=compliance(period),
        per_opd=per_opd,
        at_risk=at_risk,
    )
