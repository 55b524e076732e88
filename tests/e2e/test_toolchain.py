"""The toolchain on the real engine: pyzeebe gRPC, a job worker, REST user tasks, the engine clock."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pyzeebe import ZeebeClient, ZeebeTaskRouter, ZeebeWorker, create_insecure_channel

from engine import LocalEngine
from lapor.camunda import CamundaRest
from tests.conftest import EngineClock, eventually

pytestmark = pytest.mark.engine
RESOURCE = Path(__file__).parent.parent / "resources" / "toolchain.bpmn"


async def test_job_user_task_and_timer_on_the_real_engine(
    engine: LocalEngine, zeebe: ZeebeClient, camunda: CamundaRest, clock: EngineClock
) -> None:
    await zeebe.deploy_resource(str(RESOURCE))
    router = ZeebeTaskRouter()

    @router.task(task_type="toolchain-echo")
    async def echo(word: str) -> dict[str, Any]:
        return {"echoed": word.upper()}

    worker = ZeebeWorker(create_insecure_channel(grpc_address=engine.grpc_address))
    worker.include_router(router)
    work = asyncio.create_task(worker.work())
    try:
        instance = await zeebe.run_process("toolchain-check", variables={"word": "lapor"})
        key = instance.process_instance_key

        def open_task() -> dict[str, Any] | None:
            tasks = camunda.user_tasks(state="CREATED", processInstanceKey=key)
            return tasks[0] if tasks else None

        task = await eventually(open_task)
        assert task["taskDefinitionId"] == "ApproveTask"
        assert task["implementation"] == "ZEEBE_USER_TASK"
        assert task["candidateGroups"] == ["admin-pengaduan"]
        camunda.complete_user_task(task["id"], {"approved": True})

        def instance_state() -> str:
            found = camunda.process_instance(key)
            return str(found["state"]) if found else ""

        # The instance waits on its two-day timer until the engine clock passes it.
        assert await eventually(lambda: instance_state() == "ACTIVE" or None)
        await asyncio.sleep(3)
        assert await asyncio.to_thread(instance_state) == "ACTIVE"
        clock.advance(timedelta(days=2, minutes=1))
        assert await eventually(lambda: instance_state() == "COMPLETED" or None)
        variables = await eventually(lambda: ((v := camunda.variables(key)).get("approved") is not None and v) or None)
        assert variables["echoed"] == "LAPOR"
        assert variables["approved"] is True
    finally:
        await worker.stop()
        await work
