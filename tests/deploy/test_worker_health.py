"""The worker's stall guard (fake clock), its /health and /metrics over real HTTP, and the process around them."""

import asyncio
import os
import signal
import socket
from collections.abc import Iterator

import httpx
import pytest

import workers.main
from lapor.settings import Settings
from workers.deps import Deps
from workers.health import STALLED_EXIT_CODE, HealthConfig, HealthServer, PollWatch, StallGuard, WorkerMetrics

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


def test_one_fetch_stamps_every_topic(watch: PollWatch, clock: FakeClock) -> None:
    clock.advance(50)
    watch.polled()  # one fetchAndLock asks for every topic
    clock.advance(50)
    assert not watch.stalled()
    assert watch.poll_ages() == {"lapor-deadline": 50, "lapor-notify": 50}
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


# -- the process: an engine that never answers -------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_engine(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(
        workers.main.HealthConfig,
        "from_settings",
        classmethod(lambda cls, settings: HealthConfig(port=0, stall_seconds=2, check_interval=0.1)),
    )
    return Settings(engine_url=f"http://127.0.0.1:{_free_port()}/engine-rest", worker_long_poll_seconds=1)


async def test_the_worker_process_exits_with_the_stall_code_when_polling_never_succeeds(
    unreachable_engine: Settings,
) -> None:
    code = await asyncio.wait_for(
        workers.main.run(unreachable_engine, Deps.from_settings(unreachable_engine)), timeout=30
    )
    assert code == STALLED_EXIT_CODE


async def test_sigterm_stops_the_worker_process_cleanly(unreachable_engine: Settings) -> None:
    running = asyncio.create_task(workers.main.run(unreachable_engine, Deps.from_settings(unreachable_engine)))
    await asyncio.sleep(0.3)  # run() registers its signal handlers before its first await
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(running, timeout=30) == 0
