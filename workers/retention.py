"""The retention schedule, applied by the workers' process once at start and then every `retention_interval_hours`
(daily by default): lapor.retention's plan and removal, in a thread so the external-task loop keeps polling. Both
worker replicas may run it: a run is idempotent and an erasure locks the reporter's row, so a second run at the same
time removes nothing twice."""

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine

from lapor import retention
from lapor.db import session_scope
from lapor.process import EngineClient
from lapor.settings import Settings

log = structlog.get_logger(__name__)


async def run_daily(settings: Settings, db: Engine, stop: asyncio.Event, *, clock: Callable[[], datetime]) -> None:
    """Apply the schedule until `stop` is set; a failed run is logged and tried again at the next interval."""
    schedule = retention.Schedule(settings.retention_identity_years, settings.retention_photo_years)
    while not stop.is_set():
        try:
            # The workers' own login (svc-workers): an erasure reads the reports' variables (lapor.erasure).
            with EngineClient(
                settings.engine_url, user=settings.engine_user, password=settings.engine_password
            ) as engine:
                await asyncio.to_thread(
                    retention.run,
                    lambda: session_scope(db),
                    schedule,
                    now=clock(),
                    data_dir=Path(settings.data_dir),
                    dry_run=False,
                    engine=engine,
                )
        except Exception:
            log.exception("retention.failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.retention_interval_hours * 3600)
        except TimeoutError:
            pass
