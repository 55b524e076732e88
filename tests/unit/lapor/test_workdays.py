"""Tests of the working-day calendar used for SLA deadlines and reminders."""

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from lapor.workdays import PONTIANAK_TZ, WorkingCalendar, holidays_coverage_warning, national_days_off, parse_days_off

CUTI_BERSAMA_NATAL_2026 = date(2026, 12, 24)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime in Pontianak local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PONTIANAK_TZ)


def end_of(year: int, month: int, day: int) -> datetime:
    """The deadline moment of a local date."""
    return local(year, month, day, 23, 59, 59)


@pytest.fixture
def calendar() -> WorkingCalendar:
    """The default calendar: weekends, hari libur nasional and cuti bersama."""
    return WorkingCalendar()


# SKB 3 Menteri on hari libur nasional and cuti bersama: the cuti bersama days of 2026 and 2027.
CUTI_BERSAMA = {
    2026: {
        date(2026, 2, 16),  # Tahun Baru Imlek
        date(2026, 3, 18),  # Nyepi
        date(2026, 3, 20),  # Idul Fitri
        date(2026, 3, 23),
        date(2026, 3, 24),
        date(2026, 5, 15),  # Kenaikan Yesus Kristus
        date(2026, 5, 28),  # Idul Adha
        date(2026, 12, 24),  # Natal
    },
    2027: {
        date(2027, 2, 5),  # Tahun Baru Imlek
        date(2027, 3, 9),  # Idul Fitri
        date(2027, 3, 12),
        date(2027, 3, 15),
        date(2027, 3, 25),  # Wafat Yesus Kristus
        date(2027, 5, 18),  # Idul Adha
        date(2027, 5, 19),  # Waisak
        date(2027, 12, 24),  # Natal
    },
}


@pytest.mark.parametrize("year", [2026, 2027])
def test_pinned_holidays_carry_the_skb_cuti_bersama(year: int) -> None:
    """The hand-computed dates below rely on the pinned holidays release listing each SKB's cuti bersama."""
    government = holidays.country_holidays("ID", years=year, categories=(holidays.GOVERNMENT,))
    assert set(government) == CUTI_BERSAMA[year]
    assert CUTI_BERSAMA[year] <= national_days_off(year)


def test_library_holidays_used_in_these_tests() -> None:
    id_holidays = holidays.country_holidays("ID", years=[2026, 2027])  # the public category alone
    assert date(2026, 12, 25) in id_holidays  # Natal, a Friday
    assert date(2026, 12, 25).weekday() == 4
    assert date(2027, 1, 1) in id_holidays  # Tahun Baru, a Friday
    assert date(2027, 1, 1).weekday() == 4
    assert CUTI_BERSAMA_NATAL_2026 not in id_holidays  # cuti bersama is the government category
    for day in (date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 28)):
        assert day not in national_days_off(2026)


def test_is_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2026, 11, 30))  # Monday
    assert not calendar.is_working_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_working_day(date(2026, 11, 29))  # Sunday
    assert not calendar.is_working_day(date(2026, 12, 25))  # Natal
    assert not calendar.is_working_day(date(2026, 8, 17))  # Hari Kemerdekaan, a Monday
    assert not calendar.is_working_day(CUTI_BERSAMA_NATAL_2026)  # cuti bersama, without any setting


def test_is_working_day_rejects_datetime(calendar: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        calendar.is_working_day(local(2026, 12, 25, 10))


def test_deadline_across_weekend(calendar: WorkingCalendar) -> None:
    # Thu 26 Nov: day 1 Fri 27, (Sat, Sun), day 2 Mon 30, day 3 Tue 1 Dec.
    due = calendar.add_working_days(local(2026, 11, 26, 10, 15), 3)
    assert due == end_of(2026, 12, 1)
    assert due.tzinfo is PONTIANAK_TZ
    assert due.utcoffset() == timedelta(hours=7)


def test_idul_fitri_2026_with_its_cuti_bersama(calendar: WorkingCalendar) -> None:
    # Tue 17 Mar: Wed 18 (cuti Nyepi), Thu 19 (Nyepi), Fri 20 (cuti), Sat 21 and Sun 22 (Idul Fitri), Mon 23 and
    # Tue 24 (cuti) are off, so the three working days are Wed 25, Thu 26, Fri 27.
    due = calendar.add_working_days(local(2026, 3, 17, 10), 3)
    assert due == end_of(2026, 3, 27)
    assert calendar.subtract_working_days(due, 1) == local(2026, 3, 26, 8)
    # With the public category alone the deadline would be Mon 23 Mar, four working days early.
    assert WorkingCalendar(extra_working_days=CUTI_BERSAMA[2026]).add_working_days(local(2026, 3, 17, 10), 3) == end_of(
        2026, 3, 23
    )
    # Received on Mon 16: Tue 17 is day 1, then Wed 25 and Thu 26.
    assert calendar.add_working_days(local(2026, 3, 16, 9), 3) == end_of(2026, 3, 26)


def test_idul_fitri_2027_with_its_cuti_bersama(calendar: WorkingCalendar) -> None:
    # Fri 5 Mar: the weekend, Mon 8 (Nyepi), Tue 9 (cuti), Wed 10 and Thu 11 (Idul Fitri), Fri 12 (cuti), the
    # weekend and Mon 15 (cuti) are off, so the three working days are Tue 16, Wed 17, Thu 18.
    due = calendar.add_working_days(local(2027, 3, 5, 14), 3)
    assert due == end_of(2027, 3, 18)
    # Reminder one working day before a deadline on Tue 16: back across the whole break to Fri 5 Mar.
    assert calendar.subtract_working_days(end_of(2027, 3, 16), 1) == local(2027, 3, 5, 8)
    # Ten working days from Mon 1 Mar reach past Wafat Yesus Kristus (Thu 25 cuti, Fri 26): Tue 2, Wed 3, Thu 4,
    # Fri 5, Tue 16, Wed 17, Thu 18, Fri 19, Mon 22, Tue 23.
    assert calendar.add_working_days(local(2027, 3, 1, 9), 10) == end_of(2027, 3, 23)
    assert calendar.add_working_days(local(2027, 3, 1, 9), 12) == end_of(2027, 3, 29)


def test_year_end_2026_into_2027(calendar: WorkingCalendar) -> None:
    # Wed 23 Dec 2026: Thu 24 (cuti), Fri 25 (Natal), weekend; Mon 28, Tue 29, Wed 30, Thu 31, (Fri 1 Jan Tahun
    # Baru, weekend) Mon 4 Jan 2027.
    assert calendar.add_working_days(local(2026, 12, 23, 9), 1) == end_of(2026, 12, 28)
    due = calendar.add_working_days(local(2026, 12, 23, 9), 5)
    assert due == end_of(2027, 1, 4)
    assert calendar.subtract_working_days(due, 1) == local(2026, 12, 31, 8)


def test_year_end_2027_into_2028(calendar: WorkingCalendar) -> None:
    # Thu 23 Dec 2027: Fri 24 (cuti), Sat 25 (Natal), Sun; Mon 27, Tue 28, Wed 29.
    assert calendar.add_working_days(local(2027, 12, 23, 9), 3) == end_of(2027, 12, 29)
    # Thu 30 Dec 2027: Fri 31, then (Sat 1 Jan 2028, Sun) Mon 3 Jan 2028.
    assert calendar.add_working_days(local(2027, 12, 30, 9), 2) == end_of(2028, 1, 3)


def test_a_start_after_office_hours_counts_from_the_next_day_like_any_other(calendar: WorkingCalendar) -> None:
    # Counting starts the day after receipt whatever the hour, so 21:30 on Tue 17 Mar gives the morning's deadline.
    assert calendar.add_working_days(local(2026, 3, 17, 21, 30), 3) == end_of(2026, 3, 27)
    assert calendar.add_working_days(local(2026, 3, 17, 23, 59, 59), 3) == end_of(2026, 3, 27)


def test_a_utc_start_that_is_already_the_next_day_in_wib(calendar: WorkingCalendar) -> None:
    # 24 Mar 2026 17:30 UTC is Wed 25 Mar 00:30 WIB: day 1 is Thu 26, so Thu 26, Fri 27, Mon 30 (not Fri 27, which
    # reading the UTC date, Tue 24, would give).
    start = datetime(2026, 3, 24, 17, 30, tzinfo=UTC)
    assert calendar.add_working_days(start, 3) == end_of(2026, 3, 30)
    assert calendar.add_working_days(datetime(2026, 3, 24, 16, 59, tzinfo=UTC), 3) == end_of(2026, 3, 27)


def test_extra_days_off_add_local_days() -> None:
    # Wed 29 Dec 2026 off locally: from Wed 23, Mon 28, Wed 30, Thu 31.
    local_off = WorkingCalendar(extra_days_off=frozenset({date(2026, 12, 29)}))
    assert local_off.add_working_days(local(2026, 12, 23, 9), 3) == end_of(2026, 12, 31)


def test_extra_working_days_lift_a_listed_day_off() -> None:
    # The city works on Thu 25 Mar 2027 although the SKB makes it cuti bersama.
    works = WorkingCalendar(extra_working_days=frozenset({date(2027, 3, 25)}))
    assert works.is_working_day(date(2027, 3, 25))
    assert not works.is_working_day(date(2027, 3, 26))  # Wafat Yesus Kristus stays off
    assert works.extra_working_days == frozenset({date(2027, 3, 25)})


def test_extra_working_days_must_be_weekdays_and_not_also_off() -> None:
    with pytest.raises(ValueError, match="weekend"):
        WorkingCalendar(extra_working_days=frozenset({date(2027, 3, 13)}))
    with pytest.raises(ValueError, match="both off and working"):
        WorkingCalendar(
            extra_days_off=frozenset({date(2027, 3, 25)}), extra_working_days=frozenset({date(2027, 3, 25)})
        )


def test_coverage_warning_when_next_years_skb_is_missing() -> None:
    assert holidays_coverage_warning(date(2026, 12, 2)) is None  # 2027's SKB is in the pinned release
    warning = holidays_coverage_warning(date(2027, 6, 1))
    assert warning is not None and "2028" in warning and "LAPOR_EXTRA_DAYS_OFF" in warning


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


def test_reminder_skips_holiday_and_cuti_bersama(calendar: WorkingCalendar) -> None:
    due = end_of(2026, 12, 28)
    # Sun 27, Sat 26, Fri 25 (Natal) and Thu 24 (cuti bersama) are off: Wed 23 Dec.
    assert calendar.subtract_working_days(due, 1) == local(2026, 12, 23, 8)
    # A city that works on the cuti bersama gets its reminder on Thu 24.
    works = WorkingCalendar(extra_working_days=frozenset({CUTI_BERSAMA_NATAL_2026}))
    assert works.subtract_working_days(due, 1) == local(2026, 12, 24, 8)


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


def test_configured_days_must_be_dates() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(extra_days_off=frozenset({local(2026, 12, 24)}))
    with pytest.raises(TypeError):
        WorkingCalendar(extra_working_days=frozenset({local(2026, 12, 24)}))


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
    cal = WorkingCalendar(extra_days_off=parse_days_off("2026-12-29"))
    assert cal.extra_days_off == frozenset({date(2026, 12, 29)})
    assert cal.add_working_days(local(2026, 12, 23, 9), 2) == end_of(2026, 12, 30)
