"""Health, metrics and the stall guard of the worker process.

pyzeebe 4.7 counts every failed ActivateJobs call against `max_connection_retries` (10 by default) and never resets
the count; past it, the adapter closes the gRPC channel, the pollers leave their loops, and `worker.work()` keeps
waiting on its executors forever. The process looks alive but does no work. So progress is observed directly:
`observe()` wraps the adapter's `activate_jobs` and stamps each ActivateJobs round trip that ended without an error
(a long poll returns after the gateway's timeout even when there are no jobs, so a healthy worker stamps every few
seconds). `/health` answers 200 while the newest stamp is younger than `stall_seconds`, and the guard ends the
process with `STALLED_EXIT_CODE` when it is older, so the container restarts with a fresh channel.
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from pyzeebe import Job, JobController, ZeebeWorker
from pyzeebe.task.types import JobHandler

from lapor.settings import Settings

log = structlog.get_logger(__name__)

STALLED_EXIT_CODE = 3  # distinct from a crash (1), so the logs of a restart say why
Clock = Callable[[], float]


@dataclass(frozen=True)
class HealthConfig:
    host: str = "127.0.0.1"
    port: int = 9101
    stall_seconds: float = 60.0
    check_interval: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "HealthConfig":
        # Settings.worker_health_host/port and worker_stall_seconds; the defaults apply until those fields exist.
        return cls(
            host=settings.worker_health_host,
            port=settings.worker_health_port,
            stall_seconds=settings.worker_stall_seconds,
        )


class PollWatch:
    """When each task type last finished an ActivateJobs round trip, read against an injected clock."""

    def __init__(self, task_types: Iterable[str], *, stall_seconds: float, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.stall_seconds = stall_seconds
        started = clock()
        # A fresh process counts as having polled at start: it gets stall_seconds to connect.
        self._last_poll = dict.fromkeys(task_types, started)

    def polled(self, task_type: str) -> None:
        with self._lock:
            self._last_poll[task_type] = self._clock()

    def poll_ages(self) -> dict[str, float]:
        now = self._clock()
        with self._lock:
            return {task_type: now - last for task_type, last in self._last_poll.items()}

    def newest_poll_age(self) -> float:
        # Every poller shares one channel: one recent round trip proves the channel works. A single task type can
        # legitimately skip polls while it runs its maximum number of jobs.
        ages = self.poll_ages()
        return min(ages.values()) if ages else 0.0

    def stalled(self) -> bool:
        return self.newest_poll_age() > self.stall_seconds


class WorkerMetrics:
    """Prometheus metrics of one worker process, in their own registry."""

    def __init__(self, watch: PollWatch) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "lapor_worker_jobs",
            "Jobs the worker handled, by task type and outcome (completed, failed, error_thrown, crashed).",
            ["task_type", "outcome"],
            registry=self.registry,
        )
        self.registry.register(_PollAgeCollector(watch))

    def job_finished(self, task_type: str, outcome: str) -> None:
        self.jobs.labels(task_type=task_type, outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _PollAgeCollector(Collector):
    def __init__(self, watch: PollWatch) -> None:
        self._watch = watch

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ages = GaugeMetricFamily(
            "lapor_worker_last_poll_age_seconds",
            "Seconds since the task type's last successful ActivateJobs round trip.",
            labels=["task_type"],
        )
        for task_type, age in sorted(self._watch.poll_ages().items()):
            ages.add_metric([task_type], age)
        yield ages
        yield GaugeMetricFamily(
            "lapor_worker_stall_seconds", "Poll age after which the worker exits.", value=self._watch.stall_seconds
        )


# -- wiring into pyzeebe ---------------------------------------------------------------------------------------
def observe(worker: ZeebeWorker, watch: PollWatch, metrics: WorkerMetrics) -> None:
    """Stamp successful polls and count finished jobs; call after the routers are included, before work()."""
    adapter = worker.zeebe_adapter
    activate_jobs = adapter.activate_jobs

    async def observed_activate_jobs(
        task_type: str,
        worker: str,
        timeout: int,  # noqa: ASYNC109 - pyzeebe's keyword: how long the job stays locked to this worker
        max_jobs_to_activate: int,
        variables_to_fetch: Iterable[str],
        request_timeout: int,
        tenant_ids: Iterable[str] | None = None,
    ) -> AsyncGenerator[Job]:
        jobs = activate_jobs(
            task_type=task_type,
            worker=worker,
            timeout=timeout,
            max_jobs_to_activate=max_jobs_to_activate,
            variables_to_fetch=variables_to_fetch,
            request_timeout=request_timeout,
            tenant_ids=tenant_ids,
        )
        async for job in jobs:
            yield job
        watch.polled(task_type)  # reached only when the round trip ended without an error

    # The pollers call `self.zeebe_adapter.activate_jobs(...)`, so an instance attribute takes precedence.
    adapter.activate_jobs = observed_activate_jobs  # type: ignore[method-assign]
    for task in worker.tasks:
        task.job_handler = _counted(task.type, task.job_handler, metrics)


def _counted(task_type: str, handler: JobHandler, metrics: WorkerMetrics) -> JobHandler:
    async def counted(job: Job, controller: JobController) -> Job:
        outcome = _OutcomeOf(controller)
        try:
            finished = await handler(job, outcome)  # type: ignore[arg-type]
        except Exception:
            metrics.job_finished(task_type, "crashed")
            raise
        metrics.job_finished(task_type, outcome.outcome)
        return finished

    return counted


class _OutcomeOf:
    """Passes a job's outcome on to pyzeebe's JobController and remembers it.

    The job's own status is no witness: pyzeebe sets it to RunningAfterDecorators after a failure too.
    """

    def __init__(self, controller: JobController) -> None:
        self._controller = controller
        self.outcome = "unfinished"

    async def set_running_after_decorators_status(self) -> None:
        await self._controller.set_running_after_decorators_status()

    async def set_success_status(self, *args: Any, **kwargs: Any) -> None:
        await self._controller.set_success_status(*args, **kwargs)
        self.outcome = "completed"

    async def set_failure_status(self, *args: Any, **kwargs: Any) -> None:
        await self._controller.set_failure_status(*args, **kwargs)
        self.outcome = "failed"

    async def set_error_status(self, *args: Any, **kwargs: Any) -> None:
        await self._controller.set_error_status(*args, **kwargs)
        self.outcome = "error_thrown"


# -- the guard -----------------------------------------------------------------------------------------------------
class StallGuard:
    """Decides, on each tick, whether polling has stopped for longer than the watch allows."""

    def __init__(self, watch: PollWatch) -> None:
        self._watch = watch
        self.paused = False  # set while stopping on SIGTERM: pollers stop on purpose then

    def tick(self) -> bool:
        """True when the guard fired."""
        if self.paused or not self._watch.stalled():
            return False
        log.error(
            "workers.polling_stalled",
            newest_poll_age=round(self._watch.newest_poll_age(), 1),
            stall_seconds=self._watch.stall_seconds,
            exit_code=STALLED_EXIT_CODE,
        )
        return True

    async def run(self, interval: float) -> None:
        """Return once the guard fires; the caller ends the process."""
        while True:
            if self.tick():
                return
            await asyncio.sleep(interval)


# -- the HTTP endpoints ----------------------------------------------------------------------------------------
class HealthServer:
    """`/health` and `/metrics` on a stdlib HTTP server in a daemon thread (the event loop never serves them)."""

    def __init__(self, watch: PollWatch, metrics: WorkerMetrics, *, host: str, port: int) -> None:
        handler = _handler_for(watch, metrics)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="worker-health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(watch: PollWatch, metrics: WorkerMetrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                stalled = watch.stalled()
                body = json.dumps(
                    {
                        "status": "stalled" if stalled else "ok",
                        "newestPollAgeSeconds": round(watch.newest_poll_age(), 3),
                        "stallSeconds": watch.stall_seconds,
                    }
                ).encode()
                self._send(503 if stalled else 200, "application/json", body)
            elif self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics.render())
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # health probes every few seconds would drown the useful lines

    return Handler
