"""Support under real concurrency on PostgreSQL: the same citizen pressing "Saya juga mengalami" twice at once gets
two 200 answers and one row (the unique constraint decides, never a 500)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lapor.db import session_scope
from lapor.models import ReportFollower, ReportStatus, ReportSupport
from tests.api.conftest import Person, register, set_status, submit
from tests.conftest import Mailbox


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
