"""SLA deadlines of the SOP, computed in working days from the engine's clock."""

import re
from datetime import datetime, timedelta

from lapor.settings import Settings
from lapor.workdays import WorkingCalendar, parse_days_off

# sla header -> (variable prefix, how long, counted in working days?)
SLAS = ("verification", "supplement", "opd-response", "opd-completion", "citizen-confirmation")
_PREFIX = {
    "verification": "verification",
    "supplement": "supplement",
    "opd-response": "response",
    "opd-completion": "completion",
    "citizen-confirmation": "confirmation",
}
_WITH_REMINDER = {"verification", "opd-response", "opd-completion"}
_FRACTION = re.compile(r"(\.\d{6})\d+")


class UnknownSla(ValueError):
    """The BPMN asked for an SLA this module does not know."""


def parse_engine_time(value: str) -> datetime:
    """FEEL date and time as Zeebe serialises it, e.g. 2026-11-26T13:20:18.123456789+07:00[Asia/Pontianak]."""
    text = _FRACTION.sub(r"\1", value.split("[", 1)[0])
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"engine time without offset: {value!r}")
    return parsed


def calendar_from(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(parse_days_off(settings.extra_days_off))


def compute(sla: str, now: datetime, settings: Settings, calendar: WorkingCalendar) -> dict[str, str]:
    """Variables for the BPMN: `<prefix>DueAt` and, where the SOP has one, `<prefix>ReminderAt`."""
    if sla not in _PREFIX:
        raise UnknownSla(f"unknown sla {sla!r}; known: {', '.join(SLAS)}")
    lengths = {
        "verification": (settings.verification_working_days, True),
        "supplement": (settings.supplement_days, False),
        "opd-response": (settings.opd_response_working_days, True),
        "opd-completion": (settings.opd_completion_working_days, True),
        "citizen-confirmation": (settings.citizen_confirmation_days, False),
    }
    days, working = lengths[sla]
    due = calendar.add_working_days(now, days) if working else calendar.add_calendar_days(now, days)
    prefix = _PREFIX[sla]
    result = {f"{prefix}DueAt": due.isoformat()}
    if sla in _WITH_REMINDER:
        reminder = calendar.subtract_working_days(due, settings.reminder_working_days_before)
        # A reminder that would come before now (very short SLAs) is sent a minute from now instead.
        result[f"{prefix}ReminderAt"] = max(reminder, now + timedelta(minutes=1)).isoformat()
    return result
