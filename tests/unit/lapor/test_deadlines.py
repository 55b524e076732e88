"""The SOP's deadlines from the engine's clock: due at 23:59:59 WIB of the right day, reminders at 08:00 WIB."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lapor.deadlines import PROCESS_MODEL, SlaRule, compute, default_calendar, model_rules, rule_from_properties
from lapor.settings import RETIRED_SLA_SETTINGS, RetiredSettingError, Settings, refuse_retired_settings
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ

SETTINGS = Settings(extra_days_off="")
CALENDAR = default_calendar(SETTINGS)
RULES = model_rules()  # the lengths bpmn/lapor-pengaduan.bpmn sets
# Thursday 26 November 2026, 10:00 WIB, as the engine's clock hands it over (in UTC).
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def wib(month: int, day: int, hour: int, minute: int = 0, second: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PONTIANAK_TZ)


def test_verification_is_due_at_the_end_of_the_third_working_day_with_a_reminder_the_day_before() -> None:
    # Fri 27, Mon 30 November, Tue 1 December: the weekend does not count.
    assert compute(RULES[Deadline.VERIFICATION], NOW, CALENDAR) == {
        "verificationDueAt": wib(12, 1, 23, 59, 59),
        "verificationReminderAt": wib(11, 30, 8),
    }


def test_opd_response_takes_ten_working_days() -> None:
    assert compute(RULES[Deadline.OPD_RESPONSE], NOW, CALENDAR) == {
        "responseDueAt": wib(12, 10, 23, 59, 59),
        "responseReminderAt": wib(12, 9, 8),
    }


def test_opd_completion_ends_on_a_working_day_with_a_reminder_one_working_day_earlier() -> None:
    result = compute(RULES[Deadline.OPD_COMPLETION], NOW, CALENDAR)
    due, reminder = result["completionDueAt"], result["completionReminderAt"]
    assert set(result) == {"completionDueAt", "completionReminderAt"}
    local_due = due.astimezone(PONTIANAK_TZ)
    assert local_due.time().isoformat() == "23:59:59" and CALENDAR.is_working_day(local_due.date())
    assert due - NOW > timedelta(days=60 * 7 // 5)  # 60 working days are at least twelve weeks
    assert reminder == CALENDAR.subtract_working_days(due, 1)


@pytest.mark.parametrize("deadline", [Deadline.SUPPLEMENT, Deadline.CITIZEN_CONFIRMATION])
def test_reporter_deadlines_count_calendar_days_and_have_no_reminder(deadline: Deadline) -> None:
    # Ten calendar days: Sunday 6 December counts.
    assert compute(RULES[deadline], NOW, CALENDAR) == {deadline.due_variable: wib(12, 6, 23, 59, 59)}


def test_every_deadline_names_its_variables_as_the_vocabulary_does() -> None:
    for deadline in Deadline:
        result = compute(RULES[deadline], NOW, CALENDAR)
        expected = {deadline.due_variable} | ({deadline.reminder_variable} - {None})
        assert set(result) == expected
        assert all(value.utcoffset() is not None for value in result.values())


def test_cuti_bersama_and_christmas_are_skipped() -> None:
    settings = Settings(extra_days_off="2026-12-24")
    # Wed 23 December: Thu 24 (cuti bersama), Fri 25 (Natal) and the weekend do not count.
    result = compute(RULES[Deadline.VERIFICATION], wib(12, 23, 9), default_calendar(settings))
    assert result == {"verificationDueAt": wib(12, 30, 23, 59, 59), "verificationReminderAt": wib(12, 29, 8)}


def test_counting_starts_from_the_pontianak_date_of_the_engine_clock() -> None:
    # 17:30 UTC on Thursday is 00:30 WIB on Friday: Mon 30, Tue 1, Wed 2.
    late = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    assert compute(RULES[Deadline.VERIFICATION], late, CALENDAR)["verificationDueAt"] == wib(12, 2, 23, 59, 59)


def test_a_reminder_that_would_be_in_the_past_comes_a_minute_from_now() -> None:
    # Due at the end of Friday 27; one working day before is Thursday 08:00, before the 10:00 start.
    result = compute(SlaRule(Deadline.VERIFICATION, 1, True, 1), NOW, CALENDAR)
    assert result == {"verificationDueAt": wib(11, 27, 23, 59, 59), "verificationReminderAt": wib(11, 26, 10, 1)}


def test_documentation_is_due_the_same_working_day_with_a_reminder_two_hours_on() -> None:
    result = compute(RULES[Deadline.DOCUMENTATION], NOW, CALENDAR)  # SOP step 5: 5 minutes
    assert result == {"documentationDueAt": wib(11, 26, 23, 59, 59), "documentationReminderAt": wib(11, 26, 12)}


def test_documentation_that_arrives_on_a_day_off_is_due_the_next_working_day() -> None:
    saturday = wib(11, 28, 9)
    result = compute(RULES[Deadline.DOCUMENTATION], saturday, CALENDAR)
    assert result["documentationDueAt"] == wib(11, 30, 23, 59, 59)


def test_disposition_is_due_three_working_days_after_verification() -> None:
    result = compute(RULES[Deadline.DISPOSITION], NOW, CALENDAR)  # Thu 26: Fri 27, Mon 30, Tue 1
    assert result == {"dispositionDueAt": wib(12, 1, 23, 59, 59), "dispositionReminderAt": wib(11, 30, 8)}


def test_the_model_sets_the_sops_lengths() -> None:
    """The SOP's table, as the deadline tasks' properties in the shipped model say it."""
    described = {deadline.code: rule.describe() for deadline, rule in RULES.items()}
    assert described == {
        "verification": "3 hari kerja",
        "supplement": "10 hari kalender",
        "disposition": "3 hari kerja",
        "opd-response": "10 hari kerja",
        "opd-completion": "60 hari kerja",
        "documentation": "0 hari kerja",
        "citizen-confirmation": "10 hari kalender",
    }
    assert {d for d, r in RULES.items() if r.reminder_days_before is not None} == {
        d for d in Deadline if d.reminder_variable is not None
    }


def test_a_shorter_length_in_the_model_moves_only_that_deadline(tmp_path: Path) -> None:
    """A designer's edit: the OPD response from 10 to 5 working days (the national LAPOR! rule)."""
    model = tmp_path / "lapor-pengaduan.bpmn"
    text = PROCESS_MODEL.read_text(encoding="utf-8")
    marker = '<camunda:property name="sla" value="opd-response" />\n'
    start = text.index(marker)
    edited = text[:start] + text[start:].replace('name="length" value="10"', 'name="length" value="5"', 1)
    model.write_text(edited, encoding="utf-8")
    changed = model_rules(model)
    assert changed == {**RULES, Deadline.OPD_RESPONSE: SlaRule(Deadline.OPD_RESPONSE, 5, True, 1)}
    assert compute(changed[Deadline.OPD_RESPONSE], NOW, CALENDAR)["responseDueAt"] == wib(12, 3, 23, 59, 59)


def test_a_unit_in_calendar_days_counts_the_weekend() -> None:
    rule = rule_from_properties(
        Deadline.OPD_RESPONSE, {"length": "10", "unit": "days", "reminderWorkingDaysBefore": "1"}, "X"
    )
    assert compute(rule, NOW, CALENDAR)["responseDueAt"] == wib(12, 6, 23, 59, 59)


@pytest.mark.parametrize(
    ("deadline", "properties", "complaint"),
    [
        (Deadline.VERIFICATION, {"unit": "working-days", "reminderWorkingDaysBefore": "1"}, "'length' tidak ada"),
        (
            Deadline.VERIFICATION,
            {"length": "tiga", "unit": "working-days"},
            "'length' bernilai 'tiga'; isi dengan bilangan",
        ),
        (Deadline.VERIFICATION, {"length": "-1", "unit": "working-days"}, "isi antara 0 dan 366 hari"),
        (Deadline.VERIFICATION, {"length": "3", "unit": "hari kerja"}, "isi dengan 'working-days' atau 'days'"),
        (Deadline.VERIFICATION, {"length": "3", "unit": "working-days"}, "'reminderWorkingDaysBefore' tidak ada"),
        (Deadline.SUPPLEMENT, {"length": "10", "unit": "days", "reminderWorkingDaysBefore": "1"}, "hapus properti itu"),
    ],
)
def test_a_wrong_sla_property_names_the_element_and_the_fix(
    deadline: Deadline, properties: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=r"^Hitung tenggat \(Task_1\): ") as caught:
        rule_from_properties(deadline, properties, "Hitung tenggat (Task_1)")
    assert complaint in str(caught.value)


def test_an_operator_who_still_sets_an_sla_length_is_told_where_it_lives() -> None:
    """The lengths left the settings: a service refuses the old variable instead of silently ignoring it."""
    refuse_retired_settings({"LAPOR_EXTRA_DAYS_OFF": "2026-12-24", "LAPOR_SUPPLEMENT_DAYS": ""})
    for name in RETIRED_SLA_SETTINGS:
        with pytest.raises(RetiredSettingError, match=f"{name} no longer set SLA lengths.*bpmn/lapor-pengaduan.bpmn"):
            refuse_retired_settings({name: "5"})
