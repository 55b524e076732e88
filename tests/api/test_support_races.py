"""Support under real concurrency on PostgreSQL: the same citizen pressing "Saya juga mengalami" twice at once gets
two 200 answers and one row (the unique constraint decides, never a 500)."""

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.main import create_app
from faults.topology import PostgresServer
from lapor.db import make_engine, session_scope
from lapor.migrate import upgrade
from lapor.models import Base, ReportFollower, ReportStatus, ReportSupport
from tests.api.conftest import ApiTestSettings, Clock, Person, register, set_status, submit
from tests.conftest import Mailbox, free_port


@pytest.fixture(scope="module")
def postgres() -> Iterator[Engine]:
    root = Path(tempfile.mkdtemp(prefix="lapor-support-races-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its cluster below (as faults.topology does)
    server = PostgresServer(root / "postgres", free_port())
    server.start()
    try:
        upgrade(server.url)
        engine = make_engine(server.url, pool_size=20, max_overflow=5)
        yield engine
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def racing(postgres: Engine, settings: ApiTestSettings, api_clock: Clock) -> Iterator[TestClient]:
    with postgres.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    on_postgres = settings.model_copy(update={"database_url": postgres.url.render_as_string(hide_password=False)})
    app = create_app(on_postgres, db=postgres, run_dispatcher=False, limits={}, clock=api_clock)
    with TestClient(app) as client:
        yield client


def _count(db: Engine, model: type) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_supporting_twice_at_once_is_one_row(racing: TestClient, postgres: Engine, mailbox: Mailbox) -> None:
    owner = register(racing, mailbox, Person("Siti Rahmawati", "siti.race@example.id", "+6281299991001"))
    tracking_id = submit(racing, owner)
    set_status(postgres, tracking_id, ReportStatus.PROSES)
    supporters = [
        register(racing, mailbox, Person(f"Warga {n}", f"warga{n}.race@example.id", f"+62812999920{n:02d}"))
        for n in range(4)
    ]
    for supporter in supporters:
        barrier = threading.Barrier(2)

        def press(_: int, who: Person = supporter, barrier: threading.Barrier = barrier) -> httpx.Response:
            barrier.wait()
            return racing.post(f"/reports/{tracking_id}/support", headers=who.auth)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(press, range(2)))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert _count(postgres, ReportSupport) == 4 and _count(postgres, ReportFollower) == 4
    assert racing.get(f"/reports/{tracking_id}").json()["support_count"] == 4
