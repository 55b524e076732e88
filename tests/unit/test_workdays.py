"""Tests of the working-day calendar used for SLA deadlines and reminders."""

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from lapor.workdays import PONTIANAK_TZ, WorkingCalendar, parse_days_off

CUTI_BERSAMA_NATAL_2026 = date(2026, 12, 24)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime in Pontianak local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PONTIANAK_TZ)


def end_of(year: int, month: int, day: int) -> datetime:
    """The deadline moment of a local date."""
    return local(year, month, day, 23, 59, 59)


@pytest.fixture
def calendar() -> WorkingCalendar:
    """A calendar with national holidays only."""
    return WorkingCalendar()


def test_library_holidays_used_in_these_tests() -> None:
    """The hand-computed dates below rely on these facts of holidays 0.109."""
    id_holidays = holidays.country_holidays("ID", years=[2026, 2027])
    assert date(2026, 12, 25) in id_holidays  # Natal, a Friday
    assert date(2026, 12, 25).weekday() == 4
    assert date(2027, 1, 1) in id_holidays  # Tahun Baru, a Friday
    assert date(2027, 1, 1).weekday() == 4
    # Cuti bersama is not a national holiday, so the calendar only skips it when configured.
    assert CUTI_BERSAMA_NATAL_2026 not in id_holidays
    for day in (date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 28)):
        assert day not in id_holidays


def test_is_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2026, 11, 30))  # Monday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # Sunday
    assert not calendar.is_working_day(date(2026, 12, 25))  # Natal
    assert not calendar.is_working_day(date(2026, 8, 17))  # Hari Kemerdekaan, a Monday
    assert calendar.is_working_day(CUTI_BERSAMA_NATAL_2026)


def test_is_working_day_rejects_datetime(calendar: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        calendar.is_working_day(local(2026, 12, 25, 10))


def test_deadline_across_weekend(calendar: WorkingCalendar) -> None:
    # Thu 26 Nov: day 1 Fri 27, (Sat, Sun), day 2 Mon 30, day 3 Tue 1 Dec.
    due = calendar.add_working_days(local(2026, 11, 26, 10, 15), 3)
    assert due == end_of(2026, 12, 1)
    assert due.tzinfo is PONTIANAK_TZ
    assert due.utcoffset() == timedelta(hours=7)


def test_deadline_across_public_holiday_and_weekend(calendar: WorkingCalendar) -> None:
    # Thu 24 Dec: Fri 25 Natal, Sat 26, Sun 27 are off, so day 1 is Mon 28 Dec.
    assert calendar.add_working_days(local(2026, 12, 24, 9), 1) == end_of(2026, 12, 28)
    # Wed 23 Dec, 5 days: Thu 24, Mon 28, Tue 29, Wed 30, Thu 31.
    assert calendar.add_working_days(local(2026, 12, 23, 9), 5) == end_of(2026, 12, 31)


def test_cuti_bersama_is_skipped() -> None:
    with_cuti = WorkingCalendar(extra_days_off=frozenset({CUTI_BERSAMA_NATAL_2026}))
    assert not with_cuti.is_working_day(CUTI_BERSAMA_NATAL_2026)
    # Wed 23 Dec: Thu 24 cuti bersama, Fri 25 Natal, weekend, so day 1 is Mon 28.
    assert with_cuti.add_working_days(local(2026, 12, 23, 9), 1) == end_of(2026, 12, 28)
    assert WorkingCalendar().add_working_days(local(2026, 12, 23, 9), 1) == end_of(2026, 12, 24)
    # 5 days: Mon 28, Tue 29, Wed 30, Thu 31, (Fri 1 Jan Tahun Baru, weekend) Mon 4 Jan 2027.
    assert with_cuti.add_working_days(local(2026, 12, 23, 9), 5) == end_of(2027, 1, 4)


def test_start_in_utc_uses_pontianak_date(calendar: WorkingCalendar) -> None:
    # 26 Nov 20:00 UTC is Fri 27 Nov 03:00 in Pontianak, so day 1 is Mon 30 Nov, not Fri 27.
    start = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    due = calendar.add_working_days(start, 1)
    assert due == end_of(2026, 11, 30)
    assert due == datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)


def test_local_midnight_boundary(calendar: WorkingCalendar) -> None:
    # 16:59 UTC is still Thu 26 Nov 23:59 locally; 17:00 UTC is already Fri 27 Nov.
    assert calendar.add_working_days(datetime(2026, 11, 26, 16, 59, tzinfo=UTC), 1) == end_of(2026, 11, 27)
    assert calendar.add_working_days(datetime(2026, 11, 26, 17, 0, tzinfo=UTC), 1) == end_of(2026, 11, 30)


def test_start_on_non_working_day(calendar: WorkingCalendar) -> None:
    # Received on Saturday: counting still starts the next day, so day 1 is Mon 30 Nov.
    assert calendar.add_working_days(local(2026, 11, 28, 11), 1) == end_of(2026, 11, 30)


def test_zero_days_is_end_of_start_day(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(local(2026, 11, 26, 10), 0) == end_of(2026, 11, 26)


def test_reminder_one_working_day_before(calendar: WorkingCalendar) -> None:
    due = calendar.add_working_days(local(2026, 11, 26, 10), 3)  # end of Tue 1 Dec
    assert calendar.subtract_working_days(due, 1) == local(2026, 11, 30, 8)
    # Due Mon 30 Nov: the working day before is Fri 27 Nov.
    assert calendar.subtract_working_days(end_of(2026, 11, 30), 1) == local(2026, 11, 27, 8)


def test_reminder_skips_holiday_and_cuti_bersama() -> None:
    due = end_of(2026, 12, 28)
    # Sun 27, Sat 26 and Fri 25 (Natal) are off: Thu 24 Dec.
    assert WorkingCalendar().subtract_working_days(due, 1) == local(2026, 12, 24, 8)
    with_cuti = WorkingCalendar(extra_days_off=frozenset({CUTI_BERSAMA_NATAL_2026}))
    assert with_cuti.subtract_working_days(due, 1) == local(2026, 12, 23, 8)


def test_reminder_uses_pontianak_date_of_due(calendar: WorkingCalendar) -> None:
    # Tue 1 Dec 23:59:59 local is 16:59:59 UTC the same day; the reminder is Mon 30 Nov 08:00 local.
    due_utc = datetime(2026, 12, 1, 16, 59, 59, tzinfo=UTC)
    assert calendar.subtract_working_days(due_utc, 1) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_add_calendar_days(calendar: WorkingCalendar) -> None:
    # The Pontianak date of 26 Nov 20:00 UTC is 27 Nov; 14 days later is Fri 11 Dec.
    assert calendar.add_calendar_days(datetime(2026, 11, 26, 20, 0, tzinfo=UTC), 14) == end_of(2026, 12, 11)
    # Calendar days ignore holidays: Natal is simply counted.
    assert calendar.add_calendar_days(local(2026, 12, 24, 9), 1) == end_of(2026, 12, 25)


def test_naive_datetime_rejected(calendar: WorkingCalendar) -> None:
    naive = datetime(2026, 11, 26, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.subtract_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_calendar_days(naive, 1)


def test_negative_days_rejected(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="days"):
        calendar.add_working_days(local(2026, 11, 26), -1)
    with pytest.raises(ValueError, match="days"):
        calendar.subtract_working_days(local(2026, 11, 26), -1)


def test_extra_days_off_must_be_dates() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(extra_days_off=frozenset({local(2026, 12, 24)}))


def test_parse_days_off() -> None:
    assert parse_days_off("2026-12-24,2026-12-26") == frozenset({date(2026, 12, 24), date(2026, 12, 26)})
    assert parse_days_off(" 2026-12-24 , 2026-12-24, ") == frozenset({date(2026, 12, 24)})
    assert parse_days_off("") == frozenset()
    assert parse_days_off("   ") == frozenset()


@pytest.mark.parametrize("text", ["2026-13-01", "24/12/2026", "20261224", "2026-12-24;2026-12-26", "besok"])
def test_parse_days_off_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid day off"):
        parse_days_off(text)


def test_parsed_days_off_feed_the_calendar() -> None:
    cal = WorkingCalendar(extra_days_off=parse_days_off("2026-12-24"))
    assert cal.extra_days_off == frozenset({CUTI_BERSAMA_NATAL_2026})
    assert cal.add_working_days(local(2026, 12, 23, 9), 1) == end_of(2026, 12, 28)
