"""Shared fixtures: the real Operaton engine (started once per session), its REST API as administrator, the
database from the migrations, and `eventually` for what happens asynchronously (workers, dispatchers)."""

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text

from engine import EngineError, LocalEngine, port_for_tests
from lapor.db import Base, make_engine
from lapor.deploy import deploy_directory
from lapor.logging import configure_logging
from lapor.migrate import upgrade
from lapor.process import EngineClient
from lapor.process.identity import provision
from lapor.roles import identity_plan
from lapor.settings import Settings

configure_logging(log_format="console", level=os.environ.get("LAPOR_LOG_LEVEL", "WARNING"))

T = TypeVar("T")
ADMIN = ("admin", "admin")


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """The real engine on in-memory H2; a start failure fails the tests, it never skips them."""
    local = LocalEngine(
        data_dir=tmp_path_factory.mktemp("engine"),
        port=port_for_tests(),
        database_url=f"jdbc:h2:mem:lapor-test-{os.getpid()};DB_CLOSE_DELAY=-1",
        job_max_wait_ms=500,
    )
    try:
        local.start()
    except EngineError as err:
        pytest.fail(f"The Operaton engine could not start, so the engine tests cannot run:\n{err}", pytrace=False)
    yield local
    local.stop()


@pytest.fixture(scope="session")
def operaton(engine: LocalEngine) -> Iterator[EngineClient]:
    """The engine's REST API as its administrator (what a supervisor or a test needs to look at everything)."""
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
        yield client


@pytest.fixture(scope="session")
def provisioned(operaton: EngineClient) -> Settings:
    """bpmn/ deployed and the roles provisioned, as `python -m lapor.deploy` does; the settings it used."""
    settings = Settings(engine_url=operaton.base_url)
    provision(operaton, identity_plan(settings), admin_password=ADMIN[1])
    deploy_directory(operaton)
    return settings


def login(engine: LocalEngine, user: str, password: str | None = None) -> EngineClient:
    """A client logged in as someone (the local role logins have their user id as password)."""
    return EngineClient(engine.rest_url, user=user, password=password or user)


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


async def eventually(probe: Callable[[], T | None], *, within: float = 30.0, interval: float = 0.2) -> T:
    """Poll until the probe returns something truthy (workers and dispatchers run beside the test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await asyncio.to_thread(probe)
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {getattr(probe, '__name__', probe)}")
        await asyncio.sleep(interval)
