"""The worker process: every router on one pyzeebe worker, stopped cleanly on SIGTERM/SIGINT."""

import asyncio
import signal

import structlog
from pyzeebe import ZeebeTaskRouter, ZeebeWorker, create_insecure_channel

from lapor.logging import configure_logging
from lapor.settings import get_settings
from workers import deadlines, national, notifications, recap, status

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


async def run() -> None:
    settings = get_settings()
    worker = build_worker(settings.zeebe_address)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.stop()))
    log.info("workers.started", zeebe=settings.zeebe_address, task_types=[t.type for r in ROUTERS for t in r.tasks])
    await worker.work()
    log.info("workers.stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    asyncio.run(run())
