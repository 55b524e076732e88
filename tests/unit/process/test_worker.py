"""Pieces of the external-task loop that need no engine: backoff, worker ids, and the REST shape of a task.
The loop itself is tested on the real engine (tests/e2e/test_toolchain.py)."""

# REST paths here are expectations, not calls: these tests check what lapor.process itself sends.
import asyncio

import httpx
import pytest

from lapor.process.tasks import ExternalTask, ModelError
from lapor.process.worker import ExternalTaskWorker, WorkerConfig, backoff_ms, to_task, unique_worker_id


def test_backoff_doubles_from_five_seconds_and_is_capped() -> None:
    assert [backoff_ms(left, total=5) for left in (4, 3, 2, 1)] == [5_000, 10_000, 20_000, 40_000]
    assert backoff_ms(0, total=20) == 300_000


def test_each_process_has_its_own_worker_id() -> None:
    assert unique_worker_id() != unique_worker_id()


def test_a_locked_task_becomes_what_a_handler_reads() -> None:
    task = to_task(
        {
            "id": "t-1",
            "topicName": "lapor-status",
            "processInstanceId": "p-1",
            "activityId": "RecordUnverifiedStatusTask",
            "businessKey": "LPR-1",
            "retries": None,
            "variables": {
                "trackingId": {"type": "String", "value": "LPR-1"},
                "engineNow": {"type": "Date", "value": "2026-12-02T10:00:00.000+0700"},
            },
            "extensionProperties": {"status": "BELUM_TERVERIFIKASI", "actor": "sistem"},
        }
    )
    assert task.var("trackingId") == "LPR-1" and task.var("engineNow").utcoffset().total_seconds() == 7 * 3600
    assert task.prop("status") == "BELUM_TERVERIFIKASI"
    with pytest.raises(ModelError, match="RecordUnverifiedStatusTask"):
        task.prop("template")
    with pytest.raises(ModelError):
        task.var("opdCode")


def test_an_empty_property_is_a_modelling_error() -> None:
    task = ExternalTask(id="t", topic="x", process_instance_id="p", activity_id="A", properties={"sla": ""})
    with pytest.raises(ModelError):
        task.prop("sla")


async def test_a_complete_that_lost_a_race_on_its_instance_is_sent_again() -> None:
    """Two nodes or a timer firing beside a worker: the engine refuses one commit with OptimisticLockingException;
    the worker sends it again instead of leaving the task locked until its lock expires (and running it twice)."""
    answers = [
        httpx.Response(500, json={"type": "OptimisticLockingException", "message": "ENGINE-03005 ... concurrently"}),
        httpx.Response(204),
    ]
    calls: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return answers.pop(0)

    worker = ExternalTaskWorker(WorkerConfig("http://engine/engine-rest", "w", "w"), {})
    task = ExternalTask(id="t-1", topic="lapor-status", process_instance_id="p", activity_id="A")
    async with httpx.AsyncClient(base_url="http://engine/engine-rest", transport=httpx.MockTransport(engine)) as http:
        assert await worker._report(http, task, "complete", {}, "completed") == "completed"
    assert calls == ["/engine-rest/external-task/t-1/complete"] * 2


async def test_any_other_refusal_is_not_retried() -> None:
    calls: list[str] = []

    def engine(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(404, json={"type": "NotFoundException", "message": "gone"})

    worker = ExternalTaskWorker(WorkerConfig("http://engine/engine-rest", "w", "w"), {})
    task = ExternalTask(id="t-1", topic="lapor-status", process_instance_id="p", activity_id="A")
    async with httpx.AsyncClient(base_url="http://engine/engine-rest", transport=httpx.MockTransport(engine)) as http:
        assert await worker._report(http, task, "complete", {}, "completed") == "lost"
    assert len(calls) == 1


async def test_a_stop_during_a_long_poll_hands_back_what_the_poll_locked() -> None:
    """Operaton answers a pending fetchAndLock after its client has gone, locking a task for a worker that will never
    run it: the stopping worker waits for the answer and unlocks the task, so no report waits out the lock."""
    stop = asyncio.Event()
    calls: list[str] = []
    locked = {"id": "t-9", "topicName": "lapor-status", "processInstanceId": "p", "activityId": "A", "variables": {}}

    async def engine(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/fetchAndLock"):
            stop.set()  # the worker is asked to stop while its poll is pending...
            await asyncio.sleep(0.2)  # ...and a task arrives before the engine answers it
            return httpx.Response(200, json=[locked])
        return httpx.Response(204)

    ran: list[ExternalTask] = []
    worker = ExternalTaskWorker(
        WorkerConfig("http://engine/engine-rest", "w", "w", long_poll_ms=1_000),
        {"lapor-status": ran.append},
        transport=httpx.MockTransport(engine),
    )
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert calls == ["/engine-rest/external-task/fetchAndLock", "/engine-rest/external-task/t-9/unlock"]
    assert ran == []  # handed back unstarted
