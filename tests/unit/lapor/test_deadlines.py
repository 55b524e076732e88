"""The SOP's deadlines from the engine's clock: due at 23:59:59 WIB of the right day, reminders at 08:00 WIB."""

from datetime import UTC, datetime, timedelta

import pytest

from lapor.deadlines import compute, default_calendar, length_in_days
from lapor.settings import Settings
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ

SETTINGS = Settings(extra_days_off="")
CALENDAR = default_calendar(SETTINGS)
# Thursday 26 November 2026, 10:00 WIB, as the engine's clock hands it over (in UTC).
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def wib(month: int, day: int, hour: int, minute: int = 0, second: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PONTIANAK_TZ)


def test_verification_is_due_at_the_end_of_the_third_working_day_with_a_reminder_the_day_before() -> None:
    # Fri 27, Mon 30 November, Tue 1 December: the weekend does not count.
    assert compute(Deadline.VERIFICATION, NOW, SETTINGS, CALENDAR) == {
        "verificationDueAt": wib(12, 1, 23, 59, 59),
        "verificationReminderAt": wib(11, 30, 8),
    }


def test_opd_response_takes_ten_working_days() -> None:
    assert compute(Deadline.OPD_RESPONSE, NOW, SETTINGS, CALENDAR) == {
        "responseDueAt": wib(12, 10, 23, 59, 59),
        "responseReminderAt": wib(12, 9, 8),
    }


def test_opd_completion_ends_on_a_working_day_with_a_reminder_one_working_day_earlier() -> None:
    result = compute(Deadline.OPD_COMPLETION, NOW, SETTINGS, CALENDAR)
    due, reminder = result["completionDueAt"], result["completionReminderAt"]
    assert set(result) == {"completionDueAt", "completionReminderAt"}
    local_due = due.astimezone(PONTIANAK_TZ)
    assert local_due.time().isoformat() == "23:59:59" and CALENDAR.is_working_day(local_due.date())
    assert due - NOW > timedelta(days=60 * 7 // 5)  # 60 working days are at least twelve weeks
    assert reminder == CALENDAR.subtract_working_days(due, 1)


@pytest.mark.parametrize("deadline", [Deadline.SUPPLEMENT, Deadline.CITIZEN_CONFIRMATION])
def test_reporter_deadlines_count_calendar_days_and_have_no_reminder(deadline: Deadline) -> None:
    # Ten calendar days: Sunday 6 December counts.
    assert compute(deadline, NOW, SETTINGS, CALENDAR) == {deadline.due_variable: wib(12, 6, 23, 59, 59)}


def test_every_deadline_names_its_variables_as_the_vocabulary_does() -> None:
    for deadline in Deadline:
        result = compute(deadline, NOW, SETTINGS, CALENDAR)
        expected = {deadline.due_variable} | ({deadline.reminder_variable} - {None})
        assert set(result) == expected
        assert all(value.utcoffset() is not None for value in result.values())


def test_cuti_bersama_and_christmas_are_skipped() -> None:
    settings = Settings(extra_days_off="2026-12-24")
    # Wed 23 December: Thu 24 (cuti bersama), Fri 25 (Natal) and the weekend do not count.
    result = compute(Deadline.VERIFICATION, wib(12, 23, 9), settings, default_calendar(settings))
    assert result == {"verificationDueAt": wib(12, 30, 23, 59, 59), "verificationReminderAt": wib(12, 29, 8)}


def test_counting_starts_from_the_pontianak_date_of_the_engine_clock() -> None:
    # 17:30 UTC on Thursday is 00:30 WIB on Friday: Mon 30, Tue 1, Wed 2.
    late = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    assert compute(Deadline.VERIFICATION, late, SETTINGS, CALENDAR)["verificationDueAt"] == wib(12, 2, 23, 59, 59)


def test_a_reminder_that_would_be_in_the_past_comes_a_minute_from_now() -> None:
    # Due at the end of Friday 27; one working day before is Thursday 08:00, before the 10:00 start.
    settings = Settings(verification_working_days=1, extra_days_off="")
    result = compute(Deadline.VERIFICATION, NOW, settings, CALENDAR)
    assert result == {"verificationDueAt": wib(11, 27, 23, 59, 59), "verificationReminderAt": wib(11, 26, 10, 1)}


def test_documentation_is_due_the_same_working_day_with_a_reminder_two_hours_on() -> None:
    result = compute(Deadline.DOCUMENTATION, NOW, SETTINGS, CALENDAR)  # SOP step 5: 5 minutes
    assert result == {"documentationDueAt": wib(11, 26, 23, 59, 59), "documentationReminderAt": wib(11, 26, 12)}


def test_documentation_that_arrives_on_a_day_off_is_due_the_next_working_day() -> None:
    saturday = wib(11, 28, 9)
    result = compute(Deadline.DOCUMENTATION, saturday, SETTINGS, CALENDAR)
    assert result["documentationDueAt"] == wib(11, 30, 23, 59, 59)


def test_disposition_is_due_three_working_days_after_verification() -> None:
    result = compute(Deadline.DISPOSITION, NOW, SETTINGS, CALENDAR)  # Thu 26: Fri 27, Mon 30, Tue 1
    assert result == {"dispositionDueAt": wib(12, 1, 23, 59, 59), "dispositionReminderAt": wib(11, 30, 8)}


def test_lengths_come_from_the_settings() -> None:
    settings = Settings(opd_response_working_days=5, extra_days_off="")  # the national LAPOR! rule
    assert compute(Deadline.OPD_RESPONSE, NOW, settings, CALENDAR)["responseDueAt"] == wib(12, 3, 23, 59, 59)


def test_every_deadline_reads_its_length_from_its_own_setting() -> None:
    """One place names a deadline's setting (Deadline.setting); changing one length moves only that deadline."""
    lengths = {deadline: length_in_days(deadline, Settings()) for deadline in Deadline}
    assert lengths[Deadline.OPD_RESPONSE] == 10 and lengths[Deadline.CITIZEN_CONFIRMATION] == 10
    for deadline in Deadline:
        changed = Settings(**{deadline.setting: 17})
        assert {d: length_in_days(d, changed) for d in Deadline} == {**lengths, deadline: 17}
