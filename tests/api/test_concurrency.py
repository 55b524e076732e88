"""One database connection per request at most: concurrent submissions never wait on a pool they hold."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from api.main import create_app
from tests.api.conftest import REPORT_FIELDS, ApiTestSettings, Clock, Mailbox, Person, photo_files, register


@pytest.fixture
def tiny_pool(db_engine: Engine) -> Iterator[Engine]:
    """The test database behind a pool of two connections that gives up after two seconds."""
    engine = create_engine(
        db_engine.url, poolclass=QueuePool, pool_size=2, max_overflow=0, pool_timeout=2, pool_pre_ping=True
    )
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]
            dbapi_connection.execute("PRAGMA busy_timeout=30000")  # type: ignore[attr-defined]

    yield engine
    engine.dispose()


def test_submissions_on_a_two_connection_pool(
    settings: ApiTestSettings, tiny_pool: Engine, api_clock: Clock, mailbox: Mailbox
) -> None:
    app = create_app(settings, db=tiny_pool, run_dispatcher=False, limits={}, clock=api_clock)
    with TestClient(app) as client:
        person = register(client, mailbox, Person("Siti Rahmawati", "siti@example.id", ""))
        only = create_app(settings, db=tiny_pool, run_dispatcher=False, clock=api_clock)
        with TestClient(only) as limited:  # rate limits on: the limiter shares the request's connection
            response = limited.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=person.auth)
            assert response.status_code == 201, response.text

        def submit(_: int) -> int:
            answer = client.post("/reports", data=REPORT_FIELDS, files=photo_files(2), headers=person.auth)
            return answer.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(submit, range(32)))
        assert statuses == [201] * 32
        assert client.get("/public/reports").status_code == 200


def test_pool_size_is_a_setting(settings: ApiTestSettings, tmp_path: object) -> None:
    app = create_app(
        settings.model_copy(update={"database_url": "sqlite:///" + str(tmp_path) + "/pool.db", "db_pool_size": 7}),
        run_dispatcher=False,
    )
    assert app.state.context.db.pool.size() == 7
