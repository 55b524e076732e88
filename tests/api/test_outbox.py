"""The outbox dispatcher without an engine: retries, backoff, ordering and the one-instance guards.

The recovery against the real engine is in test_engine.py.
"""

import socket
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.main import create_app
from lapor import reports
from lapor.db import session_scope
from lapor.models import OutboxMessage, ReportStatus
from lapor.outbox import IN_DOUBT_DELAY, OutboxDispatcher, pending_count
from tests.api.conftest import START, ApiTestSettings, Clock, Person, set_status, submit


def closed_port_address() -> str:
    """An address where nothing listens: the engine is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


def rows(db: Engine) -> list[OutboxMessage]:
    with session_scope(db) as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def test_backoff_is_exponential_and_capped(db_engine: Engine) -> None:
    dispatcher = OutboxDispatcher("unused:1", db_engine, base_delay=timedelta(seconds=2))
    assert [dispatcher.backoff(n).total_seconds() for n in (1, 2, 3, 4, 9, 30)] == [2, 4, 8, 16, 300, 300]


async def test_engine_down_keeps_every_command_pending_with_backoff(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_ids = [submit(client, citizen) for _ in range(3)]
    clock = Clock(START)
    down = OutboxDispatcher(closed_port_address(), db_engine, clock=clock, call_timeout=5)
    assert await down.run_once() == 0
    assert await down.run_once() == 0  # nothing is due again before the backoff
    pending = rows(db_engine)
    assert [r.attempts for r in pending] == [1, 1, 1]
    assert all(r.sent_at is None and r.in_doubt and r.next_attempt_at > START for r in pending)
    assert all(r.last_error and "Unavailable" in r.last_error for r in pending)
    clock.advance(timedelta(minutes=1))
    assert await down.run_once() == 0
    assert [r.attempts for r in rows(db_engine)] == [2, 2, 2]
    with session_scope(db_engine) as session:
        assert pending_count(session) == 3
        assert all(reports.get_by_tracking_id(session, t).process_instance_key is None for t in tracking_ids)
    # Meanwhile the reports are there and trackable.
    assert client.get(f"/reports/{tracking_ids[0]}", headers=citizen.auth).status_code == 200


async def test_a_report_with_an_instance_is_not_started_again(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, tracking_id).process_instance_key = 2251799813685249
    # Nothing listens there: had it called the engine, the row would still be pending.
    assert await OutboxDispatcher(closed_port_address(), db_engine, clock=Clock(START)).run_once() == 1
    [row] = rows(db_engine)
    assert row.sent_at is not None and not row.in_doubt


async def test_an_attempt_in_doubt_adopts_the_instance_operate_knows(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    clock = Clock(START)
    asked: list[str] = []

    async def operate_knows(report_id: str) -> int | None:
        asked.append(report_id)
        return 2251799813685300

    dispatcher = OutboxDispatcher(closed_port_address(), db_engine, clock=clock, find_instance=operate_knows)
    assert await dispatcher.run_once() == 0  # the first attempt: no answer, so in doubt
    assert asked == []  # nothing to doubt before the first attempt
    [row] = rows(db_engine)
    assert row.in_doubt and row.next_attempt_at >= START + IN_DOUBT_DELAY
    clock.advance(IN_DOUBT_DELAY + timedelta(seconds=30))
    assert await dispatcher.run_once() == 1
    assert asked == [tracking_id]
    with session_scope(db_engine) as session:
        assert reports.get_by_tracking_id(session, tracking_id).process_instance_key == 2251799813685300


async def test_no_start_while_nobody_can_tell_whether_one_exists(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    submit(client, citizen)
    clock = Clock(START)

    async def operate_down(report_id: str) -> int | None:
        raise ConnectionError("Operate unreachable")

    dispatcher = OutboxDispatcher(closed_port_address(), db_engine, clock=clock, find_instance=operate_down)
    await dispatcher.run_once()
    clock.advance(timedelta(hours=1))
    assert await dispatcher.run_once() == 0
    [row] = rows(db_engine)
    assert row.in_doubt and row.last_error is not None and row.last_error.startswith("instance lookup failed")


async def test_messages_wait_for_the_start_of_their_report(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN)
    response = client.post(
        f"/reports/{tracking_id}/supplement", data={"text": "Sudah saya lengkapi."}, headers=citizen.auth
    )
    assert response.status_code == 202
    await OutboxDispatcher(closed_port_address(), db_engine, clock=Clock(START)).run_once()
    start, message = rows(db_engine)
    assert (start.kind, start.attempts, message.kind, message.attempts) == ("start_process", 1, "publish_message", 0)


def test_the_api_runs_the_dispatcher_in_its_lifespan(
    settings: ApiTestSettings, db_engine: Engine, citizen: Person, client: TestClient
) -> None:
    submit(client, citizen)
    unreachable = settings.model_copy(update={"zeebe_address": closed_port_address()})
    with TestClient(create_app(unreachable, db=db_engine, run_dispatcher=True)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rows(db_engine)[0].attempts == 0:
            time.sleep(0.1)
    assert rows(db_engine)[0].attempts >= 1
