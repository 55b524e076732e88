"""Shared fixtures: the real engine (started once per session), its REST API, its clock and gRPC."""

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from pyzeebe import ZeebeClient, create_insecure_channel
from sqlalchemy import Engine, text

from engine import EngineError, EnginePorts, LocalEngine
from lapor.camunda import CamundaRest
from lapor.db import Base, make_engine
from lapor.logging import configure_logging
from lapor.migrate import upgrade

configure_logging(log_format="console", level=os.environ.get("LAPOR_LOG_LEVEL", "WARNING"))

T = TypeVar("T")


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """The real Camunda cluster in test mode; a start failure fails the tests, it never skips them."""
    local = LocalEngine(
        data_dir=tmp_path_factory.mktemp("engine"),
        ports=EnginePorts.for_tests(),
        test_mode=True,
        heap="1536m",
    )
    try:
        local.start()
    except EngineError as err:
        pytest.fail(f"The Camunda engine could not start, so the engine tests cannot run:\n{err}", pytrace=False)
    yield local
    local.stop()


@pytest.fixture(scope="session")
def camunda(engine: LocalEngine) -> Iterator[CamundaRest]:
    with CamundaRest(engine.rest_url, username="demo", password="demo") as rest:
        yield rest


@pytest.fixture(scope="session")
def db_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The schema from the Alembic migrations: PostgreSQL in CI (LAPOR_TEST_DATABASE_URL), SQLite otherwise."""
    url = os.environ.get("LAPOR_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the suite on PostgreSQL: LAPOR_TEST_DATABASE_URL is not set", pytrace=False)
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lapor.db'}"
    else:
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    upgrade(url)
    return make_engine(url)


class EngineClock:
    """Moves the engine clock forward only; the pinned time stays frozen until the next move."""

    def __init__(self, rest: CamundaRest) -> None:
        self._rest = rest
        self.now = datetime.now(UTC).replace(microsecond=0)

    def pin(self, at: datetime) -> None:
        if at < self.now:
            raise ValueError("the engine clock only moves forward in these tests")
        self._rest.pin_clock(at)
        self.now = at

    def advance(self, delta: timedelta) -> datetime:
        self.pin(self.now + delta)
        return self.now


@pytest.fixture(scope="session")
def clock(camunda: CamundaRest) -> EngineClock:
    clock = EngineClock(camunda)
    clock.pin(clock.now)  # freeze: FEEL now() and timers read this clock from here on
    return clock


@pytest.fixture(scope="session")
async def zeebe(engine: LocalEngine) -> AsyncIterator[ZeebeClient]:
    channel = create_insecure_channel(grpc_address=engine.grpc_address)
    yield ZeebeClient(channel)
    await channel.close()


async def eventually(probe: Callable[[], T | None], *, within: float = 60.0, interval: float = 0.5) -> T:
    """Poll until the probe returns something truthy (exported records become searchable after a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await asyncio.to_thread(probe)
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {getattr(probe, '__name__', probe)}")
        await asyncio.sleep(interval)
