"""A calendar change on the real engine: a new day off moves a running report's timers, Tasklist due date, process
variables and tracking deadline; a second run moves nothing; the operator's command does it with the administrator's
login, which the API never holds."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from engine import LocalEngine
from lapor import audit, recompute, reports
from lapor.db import session_scope
from lapor.deadlines import compute_sla, model_rules
from lapor.models import DeadlineStart
from lapor.notifications.templates import format_due_date
from lapor.process import EngineClient
from lapor.settings import ROOT, Settings
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar
from tests.conftest import ADMIN, eventually, login
from tests.e2e.conftest import Submitted, open_task, report_row, submit, timer_job
from workers.deps import Deps

pytestmark = pytest.mark.engine
STAFF_TOKEN = "staff-token-for-recompute"


def next_working_day(calendar: WorkingCalendar, after: date) -> date:
    day = after + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def where_deadlines_are(operaton: EngineClient, instance: Submitted, task_id: str) -> dict[str, Any]:
    """Every place a verification deadline lives on the engine."""
    reminder = timer_job(operaton, instance, "VerificationReminderTimer")
    escalation = timer_job(operaton, instance, "VerificationDeadlineTimer")
    variables = operaton.variables(instance.process_instance_id)
    return {
        "reminder_timer": reminder.due_date if reminder else None,
        "deadline_timer": escalation.due_date if escalation else None,
        "task_due": operaton.task(task_id).due,
        "verificationDueAt": variables["verificationDueAt"],
        "verificationReminderAt": variables["verificationReminderAt"],
    }


async def test_a_new_day_off_moves_a_running_reports_deadlines_once(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    instance = await submit(lapor_process, worker_deps)
    task = await open_task(operaton, instance, "VerifyReportTask")
    await eventually(lambda: timer_job(operaton, instance, "VerificationReminderTimer"))
    with session_scope(worker_deps.db) as session:
        report = report_row(worker_deps, instance)
        start = session.scalar(
            select(DeadlineStart).where(DeadlineStart.report_id == report.id, DeadlineStart.deadline == "verification")
        )
        assert start is not None and start.days == model_rules()[Deadline.VERIFICATION].days
        started_at = start.started_at
    usual = worker_deps.calendar
    before = where_deadlines_are(operaton, instance, task.id)
    assert before["deadline_timer"] == before["task_due"] == before["verificationDueAt"] == report.verification_due_at

    # The government announces a cuti bersama on the first working day of the report's verification.
    day_off = next_working_day(usual, started_at.astimezone(PONTIANAK_TZ).date())
    changed = WorkingCalendar(usual.extra_days_off | {day_off}, extra_working_days=usual.extra_working_days)
    sla = model_rules()[Deadline.VERIFICATION].start(started_at)
    wanted = compute_sla(sla, changed)
    assert wanted["verificationDueAt"] > before["verificationDueAt"]  # one working day later

    try:
        first = recompute.recompute(engine=operaton, db=worker_deps.db, calendar=changed)
        ours = {(m.target, m.name): m for m in first.moves if m.tracking_id == instance.tracking_id}
        assert set(ours) == {
            ("variable", "verificationDueAt"),
            ("variable", "verificationReminderAt"),
            ("timer", "VerificationReminderTimer"),
            ("timer", "VerificationDeadlineTimer"),
            ("task", "VerifyReportTask"),
            ("tracking", "verification_due_at"),
        }
        assert ours[("timer", "VerificationDeadlineTimer")].before == before["deadline_timer"]
        after = where_deadlines_are(operaton, instance, task.id)
        assert after == {
            "reminder_timer": wanted["verificationReminderAt"],
            "deadline_timer": wanted["verificationDueAt"],
            "task_due": wanted["verificationDueAt"],
            "verificationDueAt": wanted["verificationDueAt"],
            "verificationReminderAt": wanted["verificationReminderAt"],
        }
        assert report_row(worker_deps, instance).verification_due_at == wanted["verificationDueAt"]
        assert operaton.task(task.id).name == task.name  # the rest of the task is as it was

        second = recompute.recompute(engine=operaton, db=worker_deps.db, calendar=changed)
        assert [m for m in second.moves if m.tracking_id == instance.tracking_id] == []
        assert second.reports >= 1 and not second.failed
    finally:
        # Back to the usual calendar, for the reports of the other tests.
        recompute.recompute(engine=operaton, db=worker_deps.db, calendar=usual)
    assert where_deadlines_are(operaton, instance, task.id) == before


def audit_key() -> str:
    return audit._process_key().decode()


def recompute_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m lapor.recompute` as an operator runs it, with the administrator's engine login in its environment."""
    env = {
        f"LAPOR_{name.upper()}": str(value)
        for name, value in settings.model_dump().items()
        if isinstance(value, str | int | float | bool | Path)
    }
    # The audit trail's key of this test process, so the command's entries chain with the suite's.
    env.update({"PATH": os.environ.get("PATH", ""), "LAPOR_LOG_FORMAT": "json", "LAPOR_AUDIT_KEY": audit_key()})
    command = [sys.executable, "-m", "lapor.recompute", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)


async def test_the_recompute_command_moves_deadlines_and_the_api_offers_no_way_to(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    instance = await submit(lapor_process, worker_deps)
    await open_task(operaton, instance, "VerifyReportTask")
    await eventually(lambda: timer_job(operaton, instance, "VerificationDeadlineTimer"))
    due = report_row(worker_deps, instance).verification_due_at
    assert due is not None
    day_off = next_working_day(worker_deps.calendar, datetime.now(UTC).astimezone(PONTIANAK_TZ).date())
    settings = worker_deps.settings.model_copy(
        update={
            "engine_url": operaton.base_url,
            "engine_admin_user": ADMIN[0],
            "engine_admin_password": ADMIN[1],
            "staff_api_tokens": STAFF_TOKEN,
            "extra_days_off": ",".join(sorted({*worker_deps.settings.extra_days_off.split(","), day_off.isoformat()})),
        }
    )
    # The API holds no engine administrator's login, so it has no recompute to offer, even to staff.
    app = create_app(settings, db=worker_deps.db, run_dispatcher=False)
    with TestClient(app) as client:
        refused = client.post("/staff/deadlines/recompute", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
        assert refused.status_code in (404, 405), refused.text
    try:
        dry = recompute_command(settings, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert instance.tracking_id in dry.stdout and "would move (dry run)" in dry.stdout
        assert report_row(worker_deps, instance).verification_due_at == due  # a dry run moves nothing

        done = recompute_command(settings)
        assert done.returncode == 0, done.stderr
        ours = [line.split()[2] for line in done.stdout.splitlines() if line.startswith(instance.tracking_id)]
        assert sorted(set(ours)) == ["task", "timer", "tracking", "variable"]
        assert report_row(worker_deps, instance).verification_due_at > due
        with session_scope(worker_deps.db) as session:  # the move is in the report's audit trail, chained
            report = reports.get_by_tracking_id(session, instance.tracking_id)
            moved = [line for line in audit.trail(session, report) if line.action == "deadline_recomputed"]
            assert [line.actor for line in moved] == ["python -m lapor.recompute"]
            assert audit.verify(session, tracking_id=instance.tracking_id).ok
    finally:
        recompute.recompute(engine=operaton, db=worker_deps.db, calendar=worker_deps.calendar)
    assert report_row(worker_deps, instance).verification_due_at == due


async def test_the_disposition_deadline_moves_with_the_calendar_like_the_others(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    instance = await submit(lapor_process, worker_deps)
    verify = await open_task(operaton, instance, "VerifyReportTask")
    user = "admin-pengaduan"
    with login(engine, user) as admin:
        admin.claim(verify.id, user)
        admin.complete_task(verify.id, {"verificationResult": "lengkap", "verificationNote": ""})
    task = await open_task(operaton, instance, "DispatchReportTask")
    await eventually(lambda: timer_job(operaton, instance, "DispositionReminderTimer"))
    before = task.due
    assert before is not None
    with session_scope(worker_deps.db) as session:
        report = report_row(worker_deps, instance)
        start = session.scalar(
            select(DeadlineStart).where(DeadlineStart.report_id == report.id, DeadlineStart.deadline == "disposition")
        )
        assert start is not None and start.days == model_rules()[Deadline.DISPOSITION].days
        started_at = start.started_at
    usual = worker_deps.calendar
    day_off = next_working_day(usual, started_at.astimezone(PONTIANAK_TZ).date())
    changed = WorkingCalendar(usual.extra_days_off | {day_off}, extra_working_days=usual.extra_working_days)
    wanted = compute_sla(model_rules()[Deadline.DISPOSITION].start(started_at), changed)
    assert wanted["dispositionDueAt"] > before
    try:
        moved = recompute.recompute(engine=operaton, db=worker_deps.db, calendar=changed)
        ours = {(m.target, m.name) for m in moved.moves if m.tracking_id == instance.tracking_id}
        assert ours == {
            ("variable", "dispositionDueAt"),
            ("variable", "dispositionReminderAt"),
            ("timer", "DispositionReminderTimer"),
            ("timer", "DispositionDeadlineTimer"),
            ("task", "DispatchReportTask"),
            ("tracking", "disposition_due_at"),
        }
        assert operaton.task(task.id).due == wanted["dispositionDueAt"]
        shown = operaton.variables(instance.process_instance_id)["dispositionDueText"]
        assert shown == format_due_date(wanted["dispositionDueAt"])  # the form's words moved too
        assert report_row(worker_deps, instance).disposition_due_at == wanted["dispositionDueAt"]
    finally:
        recompute.recompute(engine=operaton, db=worker_deps.db, calendar=usual)
    assert operaton.task(task.id).due == before
