"""SLA deadlines of the SOP, computed in working days from the engine's clock."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog

from lapor.models import ReportStatus
from lapor.settings import Settings
from lapor.vocabulary import Deadline
from lapor.workdays import WorkingCalendar, holidays_coverage_warning, parse_days_off

# A reminder that would fall before now (very short SLAs) is sent this long after now instead.
REMINDER_FLOOR = timedelta(minutes=1)
# A same-day deadline (0 working days: documentation) reminds this long after it started, if still open.
SAME_DAY_REMINDER = timedelta(hours=2)

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


@dataclass(frozen=True)
class Sla:
    """What a deadline was computed from: its start on the engine's clock and the SOP lengths at that moment."""

    deadline: Deadline
    started_at: datetime
    days: int
    reminder_days_before: int | None  # None for deadlines without a reminder


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


def length_in_days(deadline: Deadline, settings: Settings) -> int:
    """How many days the SOP gives for a deadline (working or calendar days, as `deadline.working_days` says)."""
    length = getattr(settings, deadline.setting)
    if not isinstance(length, int):
        raise TypeError(f"settings.{deadline.setting} must be a number of days")
    return length


def sla_from(deadline: Deadline, now: datetime, settings: Settings) -> Sla:
    """The SLA a deadline starting now gets under the current settings."""
    reminder = settings.reminder_working_days_before if deadline.reminder_variable is not None else None
    return Sla(deadline, now, length_in_days(deadline, settings), reminder)


def compute_sla(sla: Sla, calendar: WorkingCalendar) -> dict[str, datetime]:
    """The due date under `deadline.due_variable` and, where the SOP has one, the reminder under its variable."""
    deadline, start = sla.deadline, sla.started_at
    if deadline.working_days:
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


def compute(deadline: Deadline, now: datetime, settings: Settings, calendar: WorkingCalendar) -> dict[str, datetime]:
    """The due date (and reminder) of a deadline starting now, under the current settings."""
    return compute_sla(sla_from(deadline, now, settings), calendar)
