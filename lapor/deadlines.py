"""SLA deadlines of the SOP, computed in working days from the engine's clock."""

from datetime import datetime, timedelta

from lapor.settings import Settings
from lapor.vocabulary import Deadline
from lapor.workdays import WorkingCalendar, parse_days_off

# A reminder that would fall before now (very short SLAs) is sent this long after now instead.
REMINDER_FLOOR = timedelta(minutes=1)


def calendar_from(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(parse_days_off(settings.extra_days_off))


def length_in_days(deadline: Deadline, settings: Settings) -> int:
    """How many days the SOP gives for a deadline (working or calendar days, as `deadline.working_days` says)."""
    match deadline:
        case Deadline.VERIFICATION:
            return settings.verification_working_days
        case Deadline.SUPPLEMENT:
            return settings.supplement_days
        case Deadline.OPD_RESPONSE:
            return settings.opd_response_working_days
        case Deadline.OPD_COMPLETION:
            return settings.opd_completion_working_days
        case Deadline.CITIZEN_CONFIRMATION:
            return settings.citizen_confirmation_days


def compute(deadline: Deadline, now: datetime, settings: Settings, calendar: WorkingCalendar) -> dict[str, datetime]:
    """The due date under `deadline.due_variable` and, where the SOP has one, the reminder under its variable."""
    days = length_in_days(deadline, settings)
    due = calendar.add_working_days(now, days) if deadline.working_days else calendar.add_calendar_days(now, days)
    result = {deadline.due_variable: due}
    if deadline.reminder_variable is not None:
        reminder = calendar.subtract_working_days(due, settings.reminder_working_days_before)
        result[deadline.reminder_variable] = max(reminder, now + REMINDER_FLOOR)
    return result
