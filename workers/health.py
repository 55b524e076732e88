"""Health, metrics and the stall guard of the worker process.

The worker loop (lapor.process.worker) stamps every fetchAndLock round trip that ended without an error; a long poll
returns after at most its timeout even when there is nothing to do, so a healthy worker stamps every few seconds.
`/health` answers 200 while the newest stamp is younger than `stall_seconds`; when it is older (the engine refuses
the worker's login, the network is gone) the guard ends the process with `STALLED_EXIT_CODE`, so the container
restarts and the outage shows in its restart count.
"""

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

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
    """When each topic last had a fetchAndLock round trip without an error, read against an injected clock."""

    def __init__(self, task_types: Iterable[str], *, stall_seconds: float, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.stall_seconds = stall_seconds
        started = clock()
        # A fresh process counts as having polled at start: it gets stall_seconds to connect.
        self._last_poll = dict.fromkeys(task_types, started)

    def polled(self, task_type: str | None = None) -> None:
        """Stamp one topic, or every topic (one fetchAndLock asks for all of them)."""
        with self._lock:
            now = self._clock()
            for name in [task_type] if task_type else list(self._last_poll):
                self._last_poll[name] = now

    def poll_ages(self) -> dict[str, float]:
        now = self._clock()
        with self._lock:
            return {task_type: now - last for task_type, last in self._last_poll.items()}

    def newest_poll_age(self) -> float:
        # One recent round trip proves the engine answers the worker.
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
            "External tasks the worker handled, by topic and outcome (completed, bpmn_error, failed, incident, lost).",
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
            "Seconds since the topic's last successful fetchAndLock round trip.",
            labels=["task_type"],
        )
        for task_type, age in sorted(self._watch.poll_ages().items()):
            ages.add_metric([task_type], age)
        yield ages
        yield GaugeMetricFamily(
            "lapor_worker_stall_seconds", "Poll age after which the worker exits.", value=self._watch.stall_seconds
        )


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
