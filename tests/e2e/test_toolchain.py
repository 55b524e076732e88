"""The toolchain on the real engine: deploy, start by business key, a Python worker, a user task completed by a
member of its candidate group, a timer fired through the job API, a DMN; and every outcome of the worker loop."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from engine import LocalEngine
from lapor.process import BpmnError, EngineClient, ExternalTask, ExternalTaskWorker, Incident, WorkerConfig
from lapor.roles import WORKERS_ACCOUNT
from lapor.settings import Settings
from tests.conftest import eventually, login

pytestmark = pytest.mark.engine
RESOURCES = Path(__file__).parent.parent / "resources"


@pytest.fixture(scope="module")
def toolchain(operaton: EngineClient, provisioned: Settings) -> None:
    operaton.deploy_files("toolchain", [RESOURCES / "toolchain.bpmn", RESOURCES / "worker-outcomes.bpmn"])


Handlers = dict[str, Callable[[ExternalTask], dict[str, Any] | None]]


@asynccontextmanager
async def run_worker(engine: LocalEngine, provisioned: Settings, handlers: Handlers) -> AsyncIterator[list[str]]:
    outcomes: list[str] = []
    config = WorkerConfig(
        engine.rest_url, WORKERS_ACCOUNT, provisioned.worker_engine_password, long_poll_ms=2000, retries=3
    )
    worker = ExternalTaskWorker(config, handlers, on_outcome=lambda topic, outcome: outcomes.append(outcome))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    yield outcomes
    stop.set()
    await running


def state(operaton: EngineClient, instance_id: str) -> str:
    return str(operaton.historic_instance(instance_id).state)


@pytest.mark.usefixtures("toolchain")
async def test_worker_user_task_timer_and_decision(
    engine: LocalEngine, operaton: EngineClient, provisioned: Settings
) -> None:
    def echo(task: ExternalTask) -> dict[str, Any]:
        return {"echoed": str(task.var("word")).upper(), "sawBusinessKey": task.business_key}

    async with run_worker(engine, provisioned, {"toolchain-echo": echo}):
        instance_id = operaton.start(
            "toolchain-check",
            business_key="LPR-ALAT-1",
            variables={"word": "lapor", "category": "SAMPAH", "kecamatanCode": "61.71.02"},
        )
        assert operaton.find_instance("toolchain-check", business_key="LPR-ALAT-1") == instance_id
        task = await eventually(lambda: operaton.tasks(process_instance_id=instance_id))
        assert task[0].definition_key == "ApproveTask"
        assert operaton.candidate_groups(task[0].id) == ["admin-pengaduan"]
        with login(engine, "admin-pengaduan") as admin_pengaduan:
            admin_pengaduan.claim(task[0].id, "admin-pengaduan")
            admin_pengaduan.complete_task(task[0].id, {"approved": True})
        [timer] = operaton.jobs(process_instance_id=instance_id)  # waits an hour on the real clock
        assert state(operaton, instance_id) == "ACTIVE"
        operaton.execute_job(timer.id)
        assert state(operaton, instance_id) == "COMPLETED"
        variables = operaton.historic_variables(instance_id)
        assert variables["echoed"] == "LAPOR" and variables["sawBusinessKey"] == "LPR-ALAT-1"
        assert variables["approved"] is True
        assert variables["proposedOpdCode"] == "DLH"  # the DMN: SAMPAH goes to DLH


async def start_outcome(operaton: EngineClient, key: str, mode: str) -> str:
    return operaton.start("worker-outcomes", business_key=key, variables={"mode": mode})


@pytest.mark.usefixtures("toolchain")
async def test_each_worker_outcome_lands_where_cockpit_and_the_model_expect(
    engine: LocalEngine, operaton: EngineClient, provisioned: Settings
) -> None:
    attempts: dict[str, int] = {}

    def handler(task: ExternalTask) -> dict[str, Any] | None:
        mode = str(task.var("mode"))
        attempts[mode] = attempts.get(mode, 0) + 1
        if mode == "bpmn":
            raise BpmnError("TOOLCHAIN_REFUSED", "ditolak", {"refusedBy": "uji"})
        if mode == "model":
            task.prop("tidak-ada")  # a property the model lacks: ModelError
        if mode == "crash":
            raise ConnectionError("database down")
        if mode == "flaky" and attempts[mode] == 1:
            raise ConnectionError("once")
        return {"when": task.var("engineNow")}

    async with run_worker(engine, provisioned, {"toolchain-outcome": handler}) as outcomes:
        ok = await start_outcome(operaton, "LPR-HASIL-OK", "ok")
        bpmn = await start_outcome(operaton, "LPR-HASIL-BPMN", "bpmn")
        model = await start_outcome(operaton, "LPR-HASIL-MODEL", "model")
        await eventually(lambda: state(operaton, ok) == "COMPLETED" or None)
        assert "when" in operaton.historic_variables(ok)  # a Date from the engine, round-tripped
        await eventually(lambda: state(operaton, bpmn) == "COMPLETED" or None)
        assert [a.activity_id for a in operaton.activities(bpmn) if a.activity_id.endswith("EndEvent")] == [
            "OutcomeRefusedEndEvent"
        ]
        assert operaton.historic_variables(bpmn)["refusedBy"] == "uji"
        # A modelling error is an incident at once: retrying cannot fix a model.
        [incident] = await eventually(lambda: operaton.incidents(process_instance_id=model))
        assert incident.incident_type == "failedExternalTask" and "tidak-ada" in incident.message
        assert attempts["model"] == 1

        # A technical failure is retried with backoff; the retry that succeeds completes the instance.
        flaky = await start_outcome(operaton, "LPR-HASIL-FLAKY", "flaky")
        [external] = await eventually(
            lambda: [t for t in operaton.external_tasks(process_instance_id=flaky) if t.retries == 2]
        )
        assert external.error_message == "ConnectionError: once"
        operaton.unlock_external_task(external.id)  # skips the 5 s backoff
        await eventually(lambda: state(operaton, flaky) == "COMPLETED" or None)

        # Out of retries, a technical failure is an incident with the worker's message and stack trace.
        crash = await start_outcome(operaton, "LPR-HASIL-CRASH", "crash")

        def incident_or_skip_backoff() -> list[Incident] | None:
            found = operaton.incidents(process_instance_id=crash)
            for task in [] if found else operaton.external_tasks(process_instance_id=crash, locked=True):
                if task.error_message and task.retries:
                    operaton.unlock_external_task(task.id)
            return found

        [incident] = await eventually(incident_or_skip_backoff)
        assert incident.message == "ConnectionError: database down"
        assert attempts["crash"] == 3
        assert incident.configuration is not None
        assert "database down" in operaton.external_task_error_details(incident.configuration)
    assert outcomes.count("incident") == 2 and "bpmn_error" in outcomes
