"""Working-day calendar of the Pemerintah Kota Pontianak for SLA deadlines and reminders."""

import functools
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "BUSINESS_START",
    "END_OF_DAY",
    "PONTIANAK_TZ",
    "WorkingCalendar",
    "parse_days_off",
]

# Asia/Pontianak is WIB (UTC+7) without daylight saving, so combining a date with it is unambiguous.
PONTIANAK_TZ = ZoneInfo("Asia/Pontianak")
# Reminders go out at the start of office hours so the Pejabat Penghubung sees them on arrival.
BUSINESS_START = time(8, 0)
# Whole-second end of day keeps deadlines readable in Tasklist and in the citizen's notification.
END_OF_DAY = time(23, 59, 59)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@functools.cache
def _public_holidays(year: int) -> frozenset[date]:
    """National public holidays (hari libur nasional) of one year according to the holidays library."""
    # Only the default "public" category: cuti bersama is decided yearly by SKB and is passed in explicitly.
    calendar = holidays.country_holidays("ID", years=year)
    days: frozenset[date] = frozenset(calendar.keys())
    return days


def _local_date(moment: datetime, argument: str) -> date:
    """The Pontianak calendar date of an aware datetime."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{argument} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{argument} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(PONTIANAK_TZ).date()


def _check_days(days: int) -> None:
    """Reject negative day counts, which have no meaning for an SLA."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")


class WorkingCalendar:
    """Working days in Pontianak: Monday-Friday minus national holidays and configured extra days off."""

    def __init__(self, extra_days_off: frozenset[date] = frozenset()) -> None:
        """Create a calendar; extra_days_off holds cuti bersama and local days off."""
        for day in extra_days_off:
            # A datetime never equals a date, so it would silently fail to block the day.
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"extra_days_off must contain datetime.date values, got {day!r}")
        self._extra_days_off = frozenset(extra_days_off)

    @property
    def extra_days_off(self) -> frozenset[date]:
        """The configured days off on top of weekends and national holidays."""
        return self._extra_days_off

    def is_working_day(self, d: date) -> bool:
        """Whether government offices are open on this Pontianak calendar date."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; convert the datetime to the Pontianak date first")
        if d.weekday() >= 5:
            return False
        return d not in self._extra_days_off and d not in _public_holidays(d.year)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """SLA deadline: end (23:59:59 local) of the Nth working day after the Pontianak date of start."""
        _check_days(days)
        day = _local_date(start, "start")
        remaining = days
        # Counting starts the day after receipt, whatever kind of day the receipt fell on.
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, END_OF_DAY, tzinfo=PONTIANAK_TZ)

    def subtract_working_days(self, due: datetime, days: int) -> datetime:
        """Reminder moment: 08:00 local on the working day that is N working days before due's date."""
        _check_days(days)
        day = _local_date(due, "due")
        remaining = days
        while remaining > 0:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, BUSINESS_START, tzinfo=PONTIANAK_TZ)

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """End (23:59:59 local) of the Pontianak date that is N calendar days after start's date."""
        _check_days(days)
        day = _local_date(start, "start") + timedelta(days=days)
        return datetime.combine(day, END_OF_DAY, tzinfo=PONTIANAK_TZ)


def parse_days_off(text: str) -> frozenset[date]:
    """Parse a comma-separated list of ISO dates such as "2026-12-24,2026-12-26"; blank means none."""
    result: set[date] = set()
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            # Tolerate a trailing comma or an empty setting.
            continue
        if not _ISO_DATE.fullmatch(item):
            raise ValueError(f"Invalid day off {item!r}: expected YYYY-MM-DD")
        try:
            result.add(date.fromisoformat(item))
        except ValueError as exc:
            raise ValueError(f"Invalid day off {item!r}: {exc}") from None
    return frozenset(result)
