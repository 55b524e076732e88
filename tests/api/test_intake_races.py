"""Intake under real concurrency on PostgreSQL: the same message, national id or new reporter sent twice at once is
answered without a 500 (a duplicate answers as the first did) and no message is lost."""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lapor.db import session_scope
from lapor.models import Report, Reporter
from tests.api.conftest import NATIONAL_TOKEN, REPORT_FIELDS, STAFF_TOKEN, sign_sms

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
NATIONAL = {"Authorization": f"Bearer {NATIONAL_TOKEN}"}


def at_once(count: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`count` requests released together by a barrier, each from its own thread."""
    barrier = threading.Barrier(count)

    def one(index: int) -> httpx.Response:
        barrier.wait()
        return send(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _count(db: Engine, model: type, *where: object) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _sms(client: TestClient, message_id: str, sender: str, text: str) -> httpx.Response:
    body = json.dumps({"message_id": message_id, "sender": sender, "text": text}).encode()
    return client.post("/intake/sms", content=body, headers=sign_sms(body))


def test_the_same_sms_twice_at_once_is_one_report_and_one_duplicate(racing: TestClient, postgres: Engine) -> None:
    for pair in range(10):
        answers = at_once(2, lambda _, n=pair: _sms(racing, f"gw-{n}", f"08125555{n:04d}", "Lampu jalan mati di gang"))
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        first, again = sorted(answers, key=lambda a: a.status_code, reverse=True)
        assert again.json()["duplicate"] is True and first.json()["duplicate"] is False
        assert again.json()["tracking_id"] == first.json()["tracking_id"]
    assert _count(postgres, Report) == 10 and _count(postgres, Reporter) == 10


def test_two_sms_of_a_new_sender_at_once_are_both_kept(racing: TestClient, postgres: Engine) -> None:
    for pair in range(10):
        sender = f"08126666{pair:04d}"
        answers = at_once(
            2, lambda i, n=pair, s=sender: _sms(racing, f"gw-{n}-{i}", s, f"Sampah menumpuk, pesan ke-{i + 1}")
        )
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        assert answers[0].json()["tracking_id"] != answers[1].json()["tracking_id"]
    assert _count(postgres, Report) == 20 and _count(postgres, Reporter) == 10


def test_the_same_national_id_twenty_times_at_once_is_one_report(racing: TestClient, postgres: Engine) -> None:
    body = {**REPORT_FIELDS, "national_id": "LAP-2026-0420", "anonymous": True}
    answers = at_once(20, lambda _: racing.post("/intake/national", json=body, headers=NATIONAL))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201], {a.status_code for a in answers}
    assert len({a.json()["tracking_id"] for a in answers}) == 1
    assert sum(a.json()["duplicate"] for a in answers) == 19
    assert _count(postgres, Report) == 1


def test_staff_intake_of_the_same_new_reporter_at_once_files_both(racing: TestClient, postgres: Engine) -> None:
    for pair in range(8):
        fields = {**REPORT_FIELDS, "source": "tatap_muka", "reporter_name": "Budi", "reporter_email": f"b{pair}@e.id"}
        answers = at_once(2, lambda _, f=fields: racing.post("/intake/staff", data=f, headers=STAFF))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert _count(postgres, Report) == 16 and _count(postgres, Reporter) == 8
