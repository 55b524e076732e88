"""What lapor.recompute knows about the model, checked against bpmn/ without an engine, and where a start is kept."""

import ast
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from lapor import recompute
from lapor.db import session_scope
from lapor.deadlines import Sla, default_calendar, model_rules, warn_if_holidays_outdated
from lapor.models import DeadlineStart
from lapor.settings import ROOT, Settings
from lapor.vocabulary import DUE_VARIABLES, Deadline
from lapor.workdays import PONTIANAK_TZ
from tests.support.builders import report_row

MODEL = Path(__file__).resolve().parents[3] / "bpmn" / "lapor-pengaduan.bpmn"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
EXPRESSION = re.compile(r"\$\{(\w+)\}")
DEADLINE_VARIABLES = set(DUE_VARIABLES) | {d.reminder_variable for d in Deadline if d.reminder_variable}


def _model() -> ET.Element:
    return ET.parse(MODEL).getroot()


def test_every_deadline_timer_of_the_model_is_known() -> None:
    timers: dict[str, str] = {}
    for element in _model().iter():
        definition = element.find(f"{BPMN}timerEventDefinition")
        moment = definition.find(f"{BPMN}timeDate") if definition is not None else None
        if moment is not None and (match := EXPRESSION.fullmatch((moment.text or "").strip())):
            timers[element.attrib["id"]] = match.group(1)
    assert {k: v for k, v in timers.items() if v in DEADLINE_VARIABLES} == recompute.TIMER_VARIABLES


def test_every_user_task_due_date_of_the_model_is_known() -> None:
    due_dates = {
        task.attrib["id"]: match.group(1)
        for task in _model().iter(f"{BPMN}userTask")
        if (match := EXPRESSION.fullmatch(task.attrib.get(f"{CAMUNDA}dueDate", "")))
    }
    assert due_dates == recompute.TASK_DUE_VARIABLES


def test_default_calendar_takes_cuti_bersama_and_both_settings() -> None:
    assert not default_calendar(Settings(extra_days_off="", extra_working_days="")).is_working_day(date(2026, 12, 24))
    settings = Settings(extra_days_off="2026-12-31", extra_working_days="2026-12-24")
    calendar = default_calendar(settings)
    assert calendar.is_working_day(date(2026, 12, 24))
    assert not calendar.is_working_day(date(2026, 12, 31))


def test_outdated_holidays_are_warned_about() -> None:
    assert warn_if_holidays_outdated(date(2026, 12, 2)) is None
    assert "2028" in (warn_if_holidays_outdated(date(2027, 12, 2)) or "")


def test_a_new_round_replaces_the_recorded_start(db_engine: Engine) -> None:
    first = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    with session_scope(db_engine) as session:
        report = report_row("LPR-RECOMPUTE1", created_at=first)
        session.add(report)
        session.flush()
        recompute.record_start(session, report=report, sla=model_rules()[Deadline.VERIFICATION].start(first))
        later = Sla(Deadline.VERIFICATION, datetime(2026, 12, 8, 3, 0, tzinfo=PONTIANAK_TZ), 5, False, 1)
        recompute.record_start(session, report=report, sla=later)
        session.flush()
        rows = session.scalars(
            select(DeadlineStart).where(DeadlineStart.report_id == report.id, DeadlineStart.deadline == "verification")
        ).all()
        assert [(r.started_at, r.days, r.working_days, r.reminder_days_before) for r in rows] == [
            (later.started_at, 5, False, 1)
        ]


def test_the_api_never_reads_the_engine_administrators_login() -> None:
    """Recompute is an operator's command (docs/operations.md): no module of the internet-facing API may reach for
    the administrator's credentials, whatever route it would serve."""
    readers = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Attribute) and node.attr in ("engine_admin_user", "engine_admin_password")
    ]
    assert readers == []
