"""Working-day calendar of the Pemerintah Kota Pontianak for SLA deadlines and reminders."""

import functools
import re
from datetime import date, datetime, time, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "BUSINESS_START",
    "END_OF_DAY",
    "NATIONAL_CATEGORIES",
    "PONTIANAK_TZ",
    "WorkingCalendar",
    "holidays_coverage_warning",
    "national_days_off",
    "parse_days_off",
]

# Asia/Pontianak is WIB (UTC+7) without daylight saving, so combining a date with it is unambiguous.
PONTIANAK_TZ = ZoneInfo("Asia/Pontianak")
# Reminders go out at the start of office hours so the Pejabat Penghubung sees them on arrival.
BUSINESS_START = time(8, 0)
# Whole-second end of day keeps deadlines readable in Tasklist and in the citizen's notification.
END_OF_DAY = time(23, 59, 59)
# Hari libur nasional (public) and cuti bersama (government: the yearly SKB 3 Menteri), both days off for ASN.
NATIONAL_CATEGORIES = (holidays.PUBLIC, holidays.GOVERNMENT)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@functools.cache
def national_days_off(year: int) -> frozenset[date]:
    """Hari libur nasional and cuti bersama of one year, as the pinned holidays release lists them."""
    calendar = holidays.country_holidays("ID", years=year, categories=NATIONAL_CATEGORIES)
    days: frozenset[date] = frozenset(calendar.keys())
    return days


@functools.cache
def _has_cuti_bersama(year: int) -> bool:
    return bool(holidays.country_holidays("ID", years=year, categories=(holidays.GOVERNMENT,)))


def holidays_coverage_warning(today: date) -> str | None:
    """A warning when the pinned holidays release has no cuti bersama (SKB) for the year after `today`'s."""
    # Every year since 2017 has had cuti bersama; none listed means the release predates that year's SKB.
    next_year = today.year + 1
    if _has_cuti_bersama(next_year):
        return None
    return (
        f"holidays {version('holidays')} has no cuti bersama for {next_year}: deadlines that reach into "
        f"{next_year} count those days as working days. Upgrade the holidays package once the SKB is out, or "
        "list the days in LAPOR_EXTRA_DAYS_OFF, then run `python -m lapor.recompute`."
    )


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
    """Working days in Pontianak: Monday-Friday minus national holidays, cuti bersama and local days off."""

    def __init__(
        self, extra_days_off: frozenset[date] = frozenset(), *, extra_working_days: frozenset[date] = frozenset()
    ) -> None:
        """Create a calendar; extra_days_off adds local days off, extra_working_days lifts listed national ones."""
        for name, days in (("extra_days_off", extra_days_off), ("extra_working_days", extra_working_days)):
            for day in days:
                # A datetime never equals a date, so it would silently fail to block the day.
                if isinstance(day, datetime) or not isinstance(day, date):
                    raise TypeError(f"{name} must contain datetime.date values, got {day!r}")
        for day in sorted(extra_working_days):
            if day.weekday() >= 5:
                raise ValueError(
                    f"extra working day {day.isoformat()} is a weekend day; only a listed holiday can be lifted"
                )
        both = sorted(extra_days_off & extra_working_days)
        if both:
            raise ValueError(f"days both off and working: {', '.join(d.isoformat() for d in both)}")
        self._extra_days_off = frozenset(extra_days_off)
        self._extra_working_days = frozenset(extra_working_days)

    @property
    def extra_days_off(self) -> frozenset[date]:
        """The configured days off on top of weekends, national holidays and cuti bersama."""
        return self._extra_days_off

    @property
    def extra_working_days(self) -> frozenset[date]:
        """National holidays or cuti bersama on which the city's offices work all the same."""
        return self._extra_working_days

    def is_working_day(self, d: date) -> bool:
        """Whether government offices are open on this Pontianak calendar date."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; convert the datetime to the Pontianak date first")
        if d.weekday() >= 5 or d in self._extra_days_off:
            return False
        return d in self._extra_working_days or d not in national_days_off(d.year)

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
