"""workers/retention.py: the workers' process applies the retention schedule at start and again every interval,
until it stops; a failing run is logged, not fatal."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from lapor.models import Reporter
from lapor.settings import Settings
from tests.support.builders import reporter_row
from tests.unit.conftest import SessionFactory
from workers import retention

NOW = datetime(2029, 1, 15, tzinfo=UTC)


async def test_the_workers_apply_the_schedule_every_interval(
    session_factory: SessionFactory, db_engine: Engine, tmp_path: Path
) -> None:
    with session_factory() as session:
        session.add(reporter_row("Siti Rahmawati", email="siti@example.id", created_at=NOW - timedelta(days=800)))
    settings = Settings(_env_file=None, data_dir=tmp_path, retention_interval_hours=0.0005)  # ~2 s
    moments = iter([NOW - timedelta(days=365), NOW])  # the first run: not yet 2 years; the second: past them
    stop = asyncio.Event()
    task = asyncio.create_task(retention.run_daily(settings, db_engine, stop, clock=lambda: next(moments)))

    def erased() -> bool:
        with session_factory() as session:
            return session.scalars(select(Reporter.erased_at)).one() is not None

    await asyncio.sleep(0.5)
    assert not erased()  # the first run found nothing past its date
    for _ in range(100):
        if erased():
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert erased()
