"""The process designer's loop on the real engine (issue 21): a change made in the model only, planned, deployed and
migrated with `python -m lapor.designer`, and what it means for the reports already running.

The engine is this module's own (the session's engine keeps running the shipped models for every other test), with
its own workers on the session's database.
"""

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import LocalEngine
from lapor import designer
from lapor.db import session_scope
from lapor.deadlines import Sla, compute_sla
from lapor.deploy import BPMN_DIR, deploy_directory
from lapor.models import DeadlineStart
from lapor.process import EngineClient
from lapor.process import migration as engine_migration
from lapor.process.identity import provision
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT, identity_plan
from lapor.settings import get_settings
from lapor.vocabulary import PROCESS_ID, Deadline
from tests.conftest import ADMIN, free_port, login, started_engine
from tests.e2e.conftest import Submitted, complete_task, open_task, report_row, submit
from workers.deps import Deps
from workers.main import build_worker

pytestmark = pytest.mark.engine
# What the designer's command printed, kept for docs/designers.md (ignored by git, like the screenshots).
TRANSCRIPTS = Path(__file__).parent / "transcripts"


def keep(name: str, text: str) -> None:
    TRANSCRIPTS.mkdir(exist_ok=True)
    (TRANSCRIPTS / name).write_text(text, encoding="utf-8")


@dataclass
class Stack:
    engine: LocalEngine
    admin: EngineClient
    api: EngineClient
    deps: Deps


@pytest.fixture(scope="module")
def designer_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    local = started_engine(tmp_path_factory.mktemp("designer-engine"), port=free_port(), name="designer")
    yield local
    local.stop()


@pytest.fixture(scope="module")
async def stack(designer_engine: LocalEngine, worker_deps: Deps) -> AsyncIterator[Stack]:
    """The shipped models deployed (version 1), the roles provisioned, workers polling this engine."""
    settings = worker_deps.settings.model_copy(update={"engine_url": designer_engine.rest_url})
    admin = EngineClient(designer_engine.rest_url, user=ADMIN[0], password=ADMIN[1])
    provision(admin, identity_plan(settings), admin_password=ADMIN[1])
    deploy_directory(admin)
    deps = Deps(
        settings=settings,
        db=worker_deps.db,
        calendar=worker_deps.calendar,
        notifier=worker_deps.notifier,
        national=worker_deps.national,
        engine=login(designer_engine, WORKERS_ACCOUNT, settings.worker_engine_password),
    )
    worker_settings = settings.model_copy(
        update={
            "engine_user": WORKERS_ACCOUNT,
            "engine_password": settings.worker_engine_password,
            "worker_long_poll_seconds": 5,
        }
    )
    stop = asyncio.Event()
    work = asyncio.create_task(build_worker(worker_settings, deps).run(stop))
    api = login(designer_engine, API_ACCOUNT, settings.api_engine_password)
    yield Stack(designer_engine, admin, api, deps)
    stop.set()
    await work
    for client in (api, admin, deps.engine):
        if client is not None:
            client.close()


def edited_models(tmp_path: Path, old: str, new: str, *, after: str = "") -> Path:
    """A copy of bpmn/ with one edit to the process model, as a designer saves it from the Modeler."""
    copy = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, copy, dirs_exist_ok=True)
    model = copy / "lapor-pengaduan.bpmn"
    text = model.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    assert old in text[start:], f"{old!r} not in the model: the test edits nothing"
    model.write_text(text[:start] + text[start:].replace(old, new, 1 if after else -1), encoding="utf-8")
    return copy


async def to_opd(stack: Stack) -> Submitted:
    """A report verified complete and dispatched: it waits for the OPD's response."""
    report = await submit(stack.api, stack.deps)
    await complete_task(stack.admin, stack.engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(
        stack.admin, stack.engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": "-"}
    )
    await open_task(stack.admin, report, "OpdResponseTask")
    return report


def version_of(stack: Stack, report: Submitted) -> int:
    definition_id = stack.admin.instance(report.process_instance_id).definition_id
    return next(d.version for d in engine_migration.definitions(stack.admin, PROCESS_ID) if d.id == definition_id)


def response_start(stack: Stack, report: Submitted) -> DeadlineStart:
    with session_scope(stack.deps.db) as session:
        row = session.scalar(
            select(DeadlineStart).where(
                DeadlineStart.report_id == report_row(stack.deps, report).id, DeadlineStart.deadline == "opd-response"
            )
        )
        assert row is not None
        session.expunge(row)
        return row


def response_deadline(stack: Stack, report: Submitted) -> tuple[datetime, datetime | None, datetime | None]:
    """The OPD's deadline as each holder keeps it: the variable, the Tasklist due date, the timer."""
    variable = stack.admin.variables(report.process_instance_id)["responseDueAt"]
    (task,) = stack.admin.tasks(process_instance_id=report.process_instance_id, definition_key="OpdResponseTask")
    timers = [
        j.job.due_date
        for j in stack.admin.timer_jobs(PROCESS_ID)
        if j.process_instance_id == report.process_instance_id and j.element_id == "ResponseDeadlineTimer"
    ]
    assert isinstance(variable, datetime) and len(timers) == 1
    return variable, task.due, timers[0]


async def test_a_shorter_opd_sla_is_planned_deployed_and_migrated_and_running_reports_keep_their_deadline(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting_verification = await submit(stack.api, stack.deps)
    at_opd = [await to_opd(stack), await to_opd(stack)]
    await open_task(stack.admin, waiting_verification, "VerifyReportTask")
    before = {r.tracking_id: response_deadline(stack, r) for r in at_opd}
    assert {response_start(stack, r).days for r in at_opd} == {10}

    # The designer's edit: the OPD response SLA from 10 to 5 working days, in the model only.
    models = edited_models(
        tmp_path, 'name="length" value="10"', 'name="length" value="5"', after='name="sla" value="opd-response"'
    )

    # --plan, as the designer runs it: the change, and the running reports by activity; nothing deployed.
    monkeypatch.setenv("LAPOR_ENGINE_URL", stack.engine.rest_url)
    get_settings.cache_clear()
    try:
        assert designer.main(["--plan", "--bpmn-dir", str(models)]) == 0
    finally:
        get_settings.cache_clear()
    printed = capsys.readouterr().out
    keep("plan-opd-response-5.txt", printed)
    assert "diubah: Hitung tenggat tanggapan OPD (ComputeResponseDeadlineTask)" in printed
    assert "properti length: 10 → 5" in printed
    assert "Verifikasi laporan (VerifyReportTask): 1 laporan (dapat dipindah)" in printed
    assert "Tanggapan OPD (OpdResponseTask): 2 laporan (dapat dipindah)" in printed
    assert "Akan dipindah: 3 laporan" in printed
    assert "Tidak ada yang diubah (--plan)" in printed
    assert "Berkas " not in printed, "the decision and the forms are as deployed"
    assert [d.version for d in engine_migration.definitions(stack.admin, PROCESS_ID)] == [1]

    # --migrate: deployed as version 2, every running report moved.
    outcome = designer.migrate(stack.admin, models)
    assert designer.exit_code(outcome) == 0, designer.report(outcome, mode="migrate")
    keep("migrate-opd-response-5.txt", designer.report(outcome, mode="migrate"))
    (process,) = [p for p in outcome.processes if p.key == PROCESS_ID]
    assert process.target is not None and process.target.version == 2
    assert [(v.definition.version, v.moved, v.stuck, v.failed) for v in process.versions] == [(1, 3, [], [])]
    assert {version_of(stack, r) for r in [waiting_verification, *at_opd]} == {2}

    # The rule: a migrated report keeps the deadline it was told (variable, Tasklist due date, timer) and its start.
    for report in at_opd:
        assert response_deadline(stack, report) == before[report.tracking_id]
        assert response_start(stack, report).days == 10

    # A report that reaches the OPD after the deploy gets 5 working days.
    fresh = await to_opd(stack)
    start = response_start(stack, fresh)
    assert (start.days, start.working_days) == (5, True)
    due, task_due, timer_due = response_deadline(stack, fresh)
    sla = Sla(Deadline.OPD_RESPONSE, start.started_at, start.days, start.working_days, start.reminder_days_before)
    expected = compute_sla(sla, stack.deps.calendar)["responseDueAt"]
    assert due == expected and task_due == expected and timer_due == expected

    # The migrated report waiting for verification computes its next deadlines with the new version's lengths.
    await complete_task(
        stack.admin, stack.engine, waiting_verification, "VerifyReportTask", {"verificationResult": "lengkap"}
    )
    await complete_task(
        stack.admin, stack.engine, waiting_verification, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": "-"}
    )
    await open_task(stack.admin, waiting_verification, "OpdResponseTask")
    assert response_start(stack, waiting_verification).days == 5


async def test_a_removed_user_task_keeps_its_reports_on_their_version_and_the_rest_move(
    stack: Stack, tmp_path: Path
) -> None:
    waiting_verification = await submit(stack.api, stack.deps)
    at_opd = await to_opd(stack)
    await open_task(stack.admin, waiting_verification, "VerifyReportTask")
    current = version_of(stack, at_opd)

    # The verification task replaced by a new one (a new id: the engine cannot know it is the same work).
    models = edited_models(tmp_path, "VerifyReportTask", "CheckReportTask")
    # and a form's label reworded: forms are bound by `latest`, so the plan says every report sees it at once
    form = models / "tanggapan-opd.form"
    form.write_text(
        form.read_text(encoding="utf-8").replace('"Tanggapan untuk pelapor / alasan pengembalian"', '"Tanggapan"'),
        encoding="utf-8",
    )

    planned = designer.plan(stack.admin, models)
    assert not planned.findings, planned.findings
    versions = {v.definition.version: v for p in planned.processes if p.key == PROCESS_ID for v in p.versions}
    assert waiting_verification.tracking_id in {s.tracking_id for s in versions[current].stuck}
    text = designer.report(planned, mode="plan")
    keep("plan-removed-task.txt", text)
    assert [(r.file, [str(c) for c in r.changes]) for r in planned.resources] == [
        ("tanggapan-opd.form", ["diubah: isian (responseText)"])
    ]
    assert "Verifikasi laporan (VerifyReportTask): 1 laporan (TIDAK dapat dipindah)" in text
    assert f"{waiting_verification.tracking_id}: Verifikasi laporan (VerifyReportTask) tidak ada di versi baru" in text

    outcome = designer.migrate(stack.admin, models)
    assert designer.exit_code(outcome) == 0, designer.report(outcome, mode="migrate")
    assert version_of(stack, waiting_verification) == current, "a report waiting in the removed task stays"
    assert version_of(stack, at_opd) == current + 1, "the others move"
    moved = {v.definition.version: v for p in outcome.processes if p.key == PROCESS_ID for v in p.versions}
    assert waiting_verification.tracking_id in {s.tracking_id for s in moved[current].stuck}
    assert moved[current].moved >= 1 and not moved[current].failed
    printed = designer.report(outcome, mode="migrate")
    keep("migrate-removed-task.txt", printed)
    assert f"Tetap di versi {current}" in printed and waiting_verification.tracking_id in printed
    # The report left behind still works on its version: Admin Pengaduan verifies it as before.
    await complete_task(
        stack.admin, stack.engine, waiting_verification, "VerifyReportTask", {"verificationResult": "lengkap"}
    )
    await open_task(stack.admin, waiting_verification, "DispatchReportTask")
