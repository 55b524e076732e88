"""The worker process: every router on one pyzeebe worker, stopped cleanly on SIGTERM/SIGINT, exits when it stalls."""

import asyncio
import signal
import sys

import structlog
from pyzeebe import ZeebeTaskRouter, ZeebeWorker, create_insecure_channel

from lapor.logging import configure_logging
from lapor.settings import get_settings
from workers import deadlines, national, notifications, recap, status
from workers.health import (
    STALLED_EXIT_CODE,
    HealthConfig,
    HealthServer,
    PollWatch,
    StallGuard,
    WorkerMetrics,
    observe,
)

log = structlog.get_logger(__name__)
ROUTERS: tuple[ZeebeTaskRouter, ...] = (
    deadlines.router,
    status.router,
    notifications.router,
    national.router,
    recap.router,
)


def build_worker(grpc_address: str) -> ZeebeWorker:
    """Must be called inside the running event loop (grpc.aio channels bind to it)."""
    worker = ZeebeWorker(create_insecure_channel(grpc_address=grpc_address), name="lapor-workers")
    for router in ROUTERS:
        worker.include_router(router)
    return worker


async def run() -> int:
    """Work until SIGTERM/SIGINT (exit code 0) or until polling stalls (STALLED_EXIT_CODE, see workers/health.py)."""
    settings = get_settings()
    health = HealthConfig.from_settings(settings)
    worker = build_worker(settings.zeebe_address)
    watch = PollWatch([task.type for task in worker.tasks], stall_seconds=health.stall_seconds)
    metrics = WorkerMetrics(watch)
    observe(worker, watch, metrics)
    guard = StallGuard(watch)
    server = HealthServer(watch, metrics, host=health.host, port=health.port)
    server.start()

    stopping: list[asyncio.Task[None]] = []

    def stop() -> None:
        guard.paused = True  # pollers stop on purpose now; running jobs get to finish
        stopping.append(asyncio.ensure_future(worker.stop()))

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    log.info(
        "workers.started",
        zeebe=settings.zeebe_address,
        task_types=[t.type for r in ROUTERS for t in r.tasks],
        health=f"http://{health.host}:{server.port}/health",
    )
    working = asyncio.create_task(worker.work())
    guarding = asyncio.create_task(guard.run(health.check_interval))
    try:
        await asyncio.wait({working, guarding}, return_when=asyncio.FIRST_COMPLETED)
        if working.done():
            working.result()  # a crash of the worker ends the process with its exception
            log.info("workers.stopped")
            return 0
        # The guard fired: pyzeebe gave up polling without returning. Exit so the container restarts.
        working.cancel()
        await asyncio.wait({working}, timeout=10)
        return STALLED_EXIT_CODE
    finally:
        guarding.cancel()
        server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main() -> None:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    sys.exit(asyncio.run(run()))
