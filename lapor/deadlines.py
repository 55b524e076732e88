"""SLA deadlines of the SOP, computed from the engine's clock with the lengths the process model sets.

Each deadline's length, unit and reminder are properties of its `lapor-deadline` task in bpmn/lapor-pengaduan.bpmn,
where a process designer edits them in the Modeler; this module only does the working-day arithmetic.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from pathlib import Path

import structlog

from lapor.bpmn_reader import PROCESS_MODEL, BpmnModel, properties
from lapor.models import ReportStatus
from lapor.settings import Settings
from lapor.vocabulary import (
    SLA_LENGTH_PROPERTY,
    SLA_PROPERTY,
    SLA_REMINDER_PROPERTY,
    SLA_UNIT_PROPERTY,
    Deadline,
    Topic,
)
from lapor.workdays import WorkingCalendar, holidays_coverage_warning, parse_days_off

# A reminder that would fall before now (very short SLAs) is sent this long after now instead.
REMINDER_FLOOR = timedelta(minutes=1)
# A same-day deadline (0 working days: documentation) reminds this long after it started, if still open.
SAME_DAY_REMINDER = timedelta(hours=2)

MAX_DAYS = 366  # a longer SLA is a typo (a year of working days is ~245)

_log = structlog.stdlib.get_logger(__name__)
_coverage_checked = False


def default_calendar(settings: Settings) -> WorkingCalendar:
    """Weekends, national holidays and cuti bersama, plus LAPOR_EXTRA_DAYS_OFF, minus LAPOR_EXTRA_WORKING_DAYS."""
    return WorkingCalendar(
        parse_days_off(settings.extra_days_off), extra_working_days=parse_days_off(settings.extra_working_days)
    )


def warn_if_holidays_outdated(today: date) -> str | None:
    """Log once per process when the pinned holidays release lacks next year's cuti bersama; the warning."""
    global _coverage_checked
    warning = holidays_coverage_warning(today)
    if warning is not None and not _coverage_checked:
        _log.warning("calendar.holidays_outdated", detail=warning)
    _coverage_checked = True
    return warning


class Unit(Enum):
    """How a deadline's length is counted: the `unit` property of its `lapor-deadline` task."""

    WORKING_DAYS = "working-days"  # Monday to Friday, without national holidays, cuti bersama and local days off
    DAYS = "days"  # calendar days


@dataclass(frozen=True)
class SlaRule:
    """A deadline's length as the process model sets it on its `lapor-deadline` task (properties `length`, `unit`
    and, where a reminder timer fires before the due date, `reminderWorkingDaysBefore`)."""

    deadline: Deadline
    days: int
    working_days: bool
    reminder_days_before: int | None  # None for deadlines without a reminder

    def describe(self) -> str:
        """The length in words, as people read it: "3 hari kerja", "10 hari kalender"."""
        return f"{self.days} hari {'kerja' if self.working_days else 'kalender'}"

    def start(self, now: datetime) -> "Sla":
        return Sla(self.deadline, now, self.days, self.working_days, self.reminder_days_before)


@dataclass(frozen=True)
class Sla:
    """What a deadline was computed from: its start on the engine's clock and the model's lengths at that moment."""

    deadline: Deadline
    started_at: datetime
    days: int
    working_days: bool  # counted in working days (else calendar days)
    reminder_days_before: int | None  # None for deadlines without a reminder


def _whole_days(element: str, name: str, value: str | None) -> int:
    if value is None or not value.strip():
        raise ValueError(f"{element}: properti {name!r} tidak ada; isi dengan bilangan bulat jumlah hari, mis. 3")
    try:
        days = int(value.strip())
    except ValueError:
        raise ValueError(
            f"{element}: properti {name!r} bernilai {value!r}; isi dengan bilangan bulat jumlah hari, mis. 3"
        ) from None
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"{element}: properti {name!r} bernilai {days}; isi antara 0 dan {MAX_DAYS} hari")
    return days


def rule_from_properties(deadline: Deadline, properties: Mapping[str, str], element: str) -> SlaRule:
    """The SLA a deadline task's properties set; a missing or wrong property is a ValueError naming the element and
    saying how to fix it (the worker turns it into an incident, `python -m lapor.designer --check` into a finding)."""
    unit_text = properties.get(SLA_UNIT_PROPERTY)
    units = " atau ".join(repr(u.value) for u in Unit)
    try:
        unit = Unit((unit_text or "").strip())
    except ValueError:
        raise ValueError(
            f"{element}: properti {SLA_UNIT_PROPERTY!r} bernilai {unit_text!r}; isi dengan {units}"
        ) from None
    days = _whole_days(element, SLA_LENGTH_PROPERTY, properties.get(SLA_LENGTH_PROPERTY))
    reminder_text = properties.get(SLA_REMINDER_PROPERTY)
    reminder: int | None = None
    if deadline.reminder_variable is not None:
        reminder = _whole_days(element, SLA_REMINDER_PROPERTY, reminder_text)
    elif reminder_text is not None:
        raise ValueError(
            f"{element}: properti {SLA_REMINDER_PROPERTY!r} diisi, padahal proses tidak punya pengingat untuk "
            f"tenggat {deadline.label}; hapus properti itu"
        )
    return SlaRule(deadline, days, unit is Unit.WORKING_DAYS, reminder)


def rules_by_element(model: BpmnModel) -> dict[str, SlaRule]:
    """The SLA each `lapor-deadline` task of a process model sets, by the task's element id (the shipped model, or
    a version the engine has deployed: lapor.restore)."""
    rules: dict[str, SlaRule] = {}
    for task in model.service_tasks(Topic.DEADLINE.value):
        props = properties(task)
        element = f"{task.get('name')} ({task.get('id')})"
        deadline = Deadline.from_code(props.get(SLA_PROPERTY, ""))
        rules[str(task.get("id"))] = rule_from_properties(deadline, props, element)
    return rules


@cache
def model_rules(path: Path = PROCESS_MODEL) -> dict[Deadline, SlaRule]:
    """The SLA of each deadline in the process model shipped with the code (the one `python -m lapor.designer`
    deploys), for texts that state a length before any deadline is computed (Open311's notice, the front desk)."""
    return {rule.deadline: rule for rule in rules_by_element(BpmnModel(path)).values()}


# The deadline a report waits on in each status, as its reporter's tracking page shows it.
WAITING_ON: dict[str, Deadline] = {
    ReportStatus.BELUM_TERVERIFIKASI.value: Deadline.VERIFICATION,
    ReportStatus.DIKEMBALIKAN.value: Deadline.SUPPLEMENT,
    ReportStatus.TERVERIFIKASI.value: Deadline.OPD_RESPONSE,
    ReportStatus.PROSES.value: Deadline.OPD_COMPLETION,
    ReportStatus.MENUNGGU_KONFIRMASI.value: Deadline.CITIZEN_CONFIRMATION,
}
# The deadlines that may still matter in each status, as the staff page lists them (it drops those whose step the
# report has left).
STILL_OPEN: dict[str, tuple[Deadline, ...]] = {
    ReportStatus.BELUM_TERVERIFIKASI.value: (Deadline.VERIFICATION, Deadline.DISPOSITION),
    ReportStatus.DIKEMBALIKAN.value: (Deadline.SUPPLEMENT,),
    ReportStatus.TERVERIFIKASI.value: (Deadline.DISPOSITION, Deadline.OPD_RESPONSE, Deadline.OPD_COMPLETION),
    ReportStatus.PROSES.value: (Deadline.OPD_COMPLETION, Deadline.DOCUMENTATION),
    ReportStatus.MENUNGGU_KONFIRMASI.value: (Deadline.CITIZEN_CONFIRMATION,),
}


def compute_sla(sla: Sla, calendar: WorkingCalendar) -> dict[str, datetime]:
    """The due date under `deadline.due_variable` and, where the SOP has one, the reminder under its variable."""
    deadline, start = sla.deadline, sla.started_at
    if sla.working_days:
        due = calendar.add_working_days(start, sla.days)
        if sla.days == 0:  # the same working day: a step that arrives on a day off is due the next working day
            while not calendar.is_working_day(due.date()):
                due = calendar.add_working_days(due, 1)
    else:
        due = calendar.add_calendar_days(start, sla.days)
    result = {deadline.due_variable: due}
    if deadline.reminder_variable is not None and sla.reminder_days_before is not None:
        if sla.days == 0:
            reminder = min(start + SAME_DAY_REMINDER, due - REMINDER_FLOOR)
        else:
            reminder = calendar.subtract_working_days(due, sla.reminder_days_before)
        result[deadline.reminder_variable] = max(reminder, start + REMINDER_FLOOR)
    return result


def compute(rule: SlaRule, now: datetime, calendar: WorkingCalendar) -> dict[str, datetime]:
    """The due date (and reminder) of a deadline starting now."""
    return compute_sla(rule.start(now), calendar)
