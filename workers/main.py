"""The worker process: every handler of workers/topics.py on one external-task loop, stopped cleanly on
SIGTERM/SIGINT, and ended with STALLED_EXIT_CODE when the engine stops answering (see workers/health.py); beside it
the daily retention schedule (workers/retention.py)."""

import asyncio
import signal
import sys
from datetime import UTC, datetime

import structlog

from lapor.logging import configure_logging
from lapor.process import ExternalTaskWorker, WorkerConfig
from lapor.settings import Settings, get_settings
from workers import retention
from workers.deps import Deps
from workers.health import STALLED_EXIT_CODE, HealthConfig, HealthServer, PollWatch, StallGuard, WorkerMetrics
from workers.topics import HANDLERS, bind

log = structlog.get_logger(__name__)


def build_worker(
    settings: Settings, deps: Deps, *, watch: PollWatch | None = None, metrics: WorkerMetrics | None = None
) -> ExternalTaskWorker:
    """The loop over every topic, each handler bound to `deps` (the worker process builds them from settings)."""
    config = WorkerConfig(
        base_url=settings.engine_url,
        user=settings.engine_user,
        password=settings.engine_password,
        max_tasks=settings.worker_max_tasks,
        lock_ms=settings.worker_lock_seconds * 1000,
        long_poll_ms=settings.worker_long_poll_seconds * 1000,
    )
    return ExternalTaskWorker(
        config,
        bind(deps),
        on_poll=watch.polled if watch else None,
        on_outcome=metrics.job_finished if metrics else None,
    )


async def run(settings: Settings, deps: Deps) -> int:
    """Work until SIGTERM/SIGINT (exit code 0) or until polling stalls (STALLED_EXIT_CODE)."""
    health = HealthConfig.from_settings(settings)
    watch = PollWatch([str(topic) for topic in HANDLERS], stall_seconds=health.stall_seconds)
    metrics = WorkerMetrics(watch)
    worker = build_worker(settings, deps, watch=watch, metrics=metrics)
    guard = StallGuard(watch)
    server = HealthServer(watch, metrics, host=health.host, port=health.port)
    server.start()
    stop = asyncio.Event()

    def on_signal() -> None:
        guard.paused = True  # polling stops on purpose now; running handlers get to finish
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    log.info(
        "workers.started",
        engine=settings.engine_url,
        user=settings.engine_user,
        topics=worker.topics,
        health=f"http://{health.host}:{server.port}/health",
    )
    working = asyncio.create_task(worker.run(stop))
    guarding = asyncio.create_task(guard.run(health.check_interval))
    # The retention schedule, daily (workers/retention.py); it ends with the loop.
    retaining = asyncio.create_task(retention.run_daily(settings, deps.db, stop, clock=lambda: datetime.now(UTC)))
    try:
        await asyncio.wait({working, guarding}, return_when=asyncio.FIRST_COMPLETED)
        if working.done():
            working.result()  # a crash of the loop ends the process with its exception
            log.info("workers.stopped")
            return 0
        stop.set()  # the guard fired: finish what runs, then exit so the container restarts
        await asyncio.wait({working}, timeout=30)
        return STALLED_EXIT_CODE
    finally:
        guarding.cancel()
        retaining.cancel()
        server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main() -> None:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    deps = Deps.from_settings(settings)  # what the handlers need: database, calendar, notifier, national adapter
    sys.exit(asyncio.run(run(settings, deps)))
