"""The worker's stall guard (fake clock), its /health and /metrics over real HTTP, and the pyzeebe wiring."""

import asyncio
import os
import signal
import socket
from collections.abc import AsyncGenerator, Iterable, Iterator
from types import MappingProxyType
from typing import Any

import grpc
import httpx
import pytest
from pyzeebe import Job, ZeebeTaskRouter, ZeebeWorker, create_insecure_channel
from pyzeebe.errors import ZeebeGatewayUnavailableError
from pyzeebe.job.job_status import JobStatus
from pyzeebe.worker.job_poller import JobPoller
from pyzeebe.worker.task_state import TaskState

import workers.main
from workers.health import STALLED_EXIT_CODE, HealthConfig, HealthServer, PollWatch, StallGuard, WorkerMetrics, observe

TASK_TYPES = ("lapor-deadline", "lapor-notify")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def watch(clock: FakeClock) -> PollWatch:
    return PollWatch(TASK_TYPES, stall_seconds=60, clock=clock)


# -- the guard's decision ----------------------------------------------------------------------------------------
def test_a_fresh_process_gets_the_stall_time_to_connect(watch: PollWatch, clock: FakeClock) -> None:
    clock.advance(59)
    assert not watch.stalled()
    clock.advance(2)
    assert watch.stalled()


def test_one_task_type_polling_proves_the_shared_channel_works(watch: PollWatch, clock: FakeClock) -> None:
    clock.advance(50)
    watch.polled("lapor-notify")  # lapor-deadline may be busy with its maximum of running jobs
    clock.advance(50)
    assert not watch.stalled()
    assert watch.poll_ages() == {"lapor-deadline": 100, "lapor-notify": 50}
    clock.advance(11)
    assert watch.stalled()


def test_the_guard_fires_only_after_the_stall_time(watch: PollWatch, clock: FakeClock) -> None:
    guard = StallGuard(watch)
    clock.advance(60)
    assert guard.tick() is False
    clock.advance(0.5)
    assert guard.tick() is True


def test_the_guard_is_quiet_while_the_worker_stops_on_sigterm(watch: PollWatch, clock: FakeClock) -> None:
    guard = StallGuard(watch)
    guard.paused = True
    clock.advance(3600)
    assert guard.tick() is False


async def test_the_guard_loop_returns_once_polling_has_stalled(watch: PollWatch, clock: FakeClock) -> None:
    guard = StallGuard(watch)
    running = asyncio.create_task(guard.run(interval=0.01))
    await asyncio.sleep(0.05)
    assert not running.done()
    clock.advance(61)
    await asyncio.wait_for(running, timeout=2)


# -- /health and /metrics over HTTP ----------------------------------------------------------------------------
@pytest.fixture
def served(watch: PollWatch) -> Iterator[tuple[str, WorkerMetrics]]:
    metrics = WorkerMetrics(watch)
    server = HealthServer(watch, metrics, host="127.0.0.1", port=0)
    server.start()
    yield f"http://127.0.0.1:{server.port}", metrics
    server.stop()


def test_health_is_200_while_polling_and_503_once_stalled(
    served: tuple[str, WorkerMetrics], clock: FakeClock, watch: PollWatch
) -> None:
    base, _ = served
    clock.advance(30)
    ok = httpx.get(f"{base}/health")
    assert ok.status_code == 200
    assert ok.json() == {"status": "ok", "newestPollAgeSeconds": 30.0, "stallSeconds": 60}
    clock.advance(31)
    stalled = httpx.get(f"{base}/health")
    assert stalled.status_code == 503
    assert stalled.json()["status"] == "stalled"
    watch.polled("lapor-deadline")
    assert httpx.get(f"{base}/health").status_code == 200


def test_metrics_count_jobs_per_task_type_and_show_the_poll_age(
    served: tuple[str, WorkerMetrics], clock: FakeClock
) -> None:
    base, metrics = served
    metrics.job_finished("lapor-notify", "completed")
    metrics.job_finished("lapor-notify", "completed")
    metrics.job_finished("lapor-notify", "failed")
    clock.advance(12)
    response = httpx.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'lapor_worker_jobs_total{outcome="completed",task_type="lapor-notify"} 2.0' in text
    assert 'lapor_worker_jobs_total{outcome="failed",task_type="lapor-notify"} 1.0' in text
    assert 'lapor_worker_last_poll_age_seconds{task_type="lapor-deadline"} 12.0' in text
    assert "lapor_worker_stall_seconds 60.0" in text


def test_other_paths_are_404(served: tuple[str, WorkerMetrics]) -> None:
    base, _ = served
    assert httpx.get(f"{base}/").status_code == 404


# -- wiring into pyzeebe 4.7 -----------------------------------------------------------------------------------
def _job(task_type: str, **variables: Any) -> Job:
    return Job(
        key=1,
        type=task_type,
        process_instance_key=2,
        bpmn_process_id="lapor-pengaduan",
        process_definition_version=1,
        process_definition_key=3,
        element_id="NotifyReportReceivedTask",
        element_instance_key=4,
        custom_headers=MappingProxyType({}),
        worker="test",
        retries=3,
        deadline=0,
        variables=MappingProxyType(variables),
        tenant_id="<default>",
    )


def _unavailable() -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata())


class RecordingController:
    """Stands in for pyzeebe's JobController: records the outcome instead of sending it to the gateway."""

    def __init__(self, job: Job) -> None:
        self.job = job

    async def set_running_after_decorators_status(self) -> None:
        self.job._set_status(JobStatus.RunningAfterDecorators)

    async def set_success_status(self, variables: Any = None) -> None:
        self.job._set_status(JobStatus.Completed)

    async def set_failure_status(self, message: str, **kwargs: Any) -> None:
        self.job._set_status(JobStatus.Failed)

    async def set_error_status(self, message: str, **kwargs: Any) -> None:
        self.job._set_status(JobStatus.ErrorThrown)


class RejectedCompletion(RecordingController):
    async def set_success_status(self, variables: Any = None) -> None:
        raise ConnectionError("the gateway went away before CompleteJob")


async def _worker_with(router: ZeebeTaskRouter) -> ZeebeWorker:
    worker = ZeebeWorker(create_insecure_channel(grpc_address=f"127.0.0.1:{_free_port()}"))
    worker.include_router(router)
    return worker


async def test_polls_that_end_without_error_are_stamped_through_pyzeebes_own_poller(clock: FakeClock) -> None:
    router = ZeebeTaskRouter()

    @router.task(task_type="lapor-notify")
    async def notify() -> None:
        return None

    worker = await _worker_with(router)
    outcomes = iter(["jobs", "unavailable"])

    async def gateway(task_type: str, **kwargs: Any) -> AsyncGenerator[Job]:
        if next(outcomes) == "unavailable":
            raise ZeebeGatewayUnavailableError(_unavailable())
        yield _job(task_type)

    worker.zeebe_adapter.activate_jobs = gateway  # type: ignore[method-assign]
    watch = PollWatch(["lapor-notify"], stall_seconds=60, clock=clock)
    observe(worker, watch, WorkerMetrics(watch))
    task = worker.tasks[0]
    poller = JobPoller(worker.zeebe_adapter, task, asyncio.Queue(), "test", 0, TaskState(), 0, None)

    clock.advance(40)
    await poller.poll_once()  # pyzeebe's own call shape reaches the wrapper
    assert poller.queue.qsize() == 1
    assert watch.poll_ages() == {"lapor-notify": 0}

    clock.advance(40)
    poll_once = asyncio.create_task(poller.poll_once())  # fails, then pyzeebe sleeps 5 s before polling again
    await asyncio.sleep(0.05)
    poll_once.cancel()
    assert watch.poll_ages() == {"lapor-notify": 40}


async def test_finished_jobs_are_counted_by_outcome(clock: FakeClock) -> None:
    router = ZeebeTaskRouter()

    @router.task(task_type="lapor-status")
    async def record_status(fail: bool = False) -> dict[str, Any]:
        if fail:
            raise RuntimeError("database down")
        return {}

    worker = await _worker_with(router)
    watch = PollWatch(["lapor-status"], stall_seconds=60, clock=clock)
    metrics = WorkerMetrics(watch)
    observe(worker, watch, metrics)
    handler = worker.tasks[0].job_handler

    ok = _job("lapor-status")
    await handler(ok, RecordingController(ok))  # type: ignore[arg-type]
    failing = _job("lapor-status", fail=True)
    await handler(failing, RecordingController(failing))  # type: ignore[arg-type]

    lost = _job("lapor-status")
    with pytest.raises(ConnectionError):
        await handler(lost, RejectedCompletion(lost))  # type: ignore[arg-type]

    text = metrics.render().decode()
    assert 'lapor_worker_jobs_total{outcome="completed",task_type="lapor-status"} 1.0' in text
    assert 'lapor_worker_jobs_total{outcome="failed",task_type="lapor-status"} 1.0' in text
    assert 'lapor_worker_jobs_total{outcome="crashed",task_type="lapor-status"} 1.0' in text


# -- the process: a gateway that never answers ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterable[None]:
    monkeypatch.setenv("LAPOR_ZEEBE_ADDRESS", f"127.0.0.1:{_free_port()}")
    monkeypatch.setattr(
        workers.main.HealthConfig,
        "from_settings",
        classmethod(lambda cls, settings: HealthConfig(port=0, stall_seconds=2, check_interval=0.1)),
    )
    workers.main.get_settings.cache_clear()
    yield
    workers.main.get_settings.cache_clear()


@pytest.mark.usefixtures("unreachable_gateway")
async def test_the_worker_process_exits_with_the_stall_code_when_polling_never_succeeds() -> None:
    code = await asyncio.wait_for(workers.main.run(), timeout=30)
    assert code == STALLED_EXIT_CODE


@pytest.mark.usefixtures("unreachable_gateway")
async def test_sigterm_stops_the_worker_process_cleanly() -> None:
    running = asyncio.create_task(workers.main.run())
    await asyncio.sleep(0.3)  # run() registers its signal handlers before its first await
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(running, timeout=30) == 0


async def test_pyzeebe_47_stops_polling_without_returning_which_is_why_the_guard_exists() -> None:
    """The premise of the guard, on pyzeebe itself: past max_connection_retries, work() neither polls nor returns."""
    router = ZeebeTaskRouter()
    for index in range(10):  # ten pollers fail at once: pyzeebe's ten retries are used up in the first round

        @router.task(task_type=f"lapor-probe-{index}")
        async def probe() -> None:
            return None

    worker = await _worker_with(router)
    working = asyncio.create_task(worker.work())
    try:
        await asyncio.sleep(6)  # each failed poll waits 5 s before the poller checks whether to go on
        assert not worker.zeebe_adapter.connected
        assert not any(poller.should_poll() for poller in worker._job_pollers)
        assert not working.done()
    finally:
        working.cancel()
        await asyncio.wait({working}, timeout=5)
