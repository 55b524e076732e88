"""The outbox dispatcher: retries, backoff, ordering and the one-instance guards.

An unreachable engine is a real closed port; the engine's answers are the in-memory fake of lapor.process (unit
tests of this module). The same recovery against the real engine is in test_engine.py.
"""

import asyncio
import socket
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.main import create_app
from lapor import reports
from lapor.db import session_scope
from lapor.models import OutboxMessage, ReportStatus
from lapor.outbox import LAST_MESSAGE_VARIABLE, OutboxDispatcher, enqueue_message, pending_count
from lapor.process import EngineClient
from lapor.process.fake import FakeEngine
from lapor.vocabulary import PROCESS_ID, Message
from tests.api.conftest import START, ApiTestSettings, Clock, Person, set_status, submit


def closed_port_url() -> str:
    """An engine URL where nothing listens: the engine is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/engine-rest"


def engine_down() -> EngineClient:
    return EngineClient(closed_port_url(), user="svc-api", password="svc-api", timeout=5)


def rows(db: Engine) -> list[OutboxMessage]:
    with session_scope(db) as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def instance_id(db: Engine, tracking_id: str) -> str | None:
    with session_scope(db) as session:
        return reports.get_by_tracking_id(session, tracking_id).process_instance_id


def test_backoff_is_exponential_and_capped(db_engine: Engine) -> None:
    dispatcher = OutboxDispatcher(FakeEngine(), db_engine, base_delay=timedelta(seconds=2))
    assert [dispatcher.backoff(n).total_seconds() for n in (1, 2, 3, 4, 9, 30)] == [2, 4, 8, 16, 300, 300]


async def test_engine_down_keeps_every_command_pending_with_backoff(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_ids = [submit(client, citizen) for _ in range(3)]
    clock = Clock(START)
    down = OutboxDispatcher(engine_down(), db_engine, clock=clock)
    assert await down.run_once() == 0
    assert await down.run_once() == 0  # nothing is due again before the backoff
    pending = rows(db_engine)
    assert [r.attempts for r in pending] == [1, 1, 1]
    assert all(r.sent_at is None and r.in_doubt and r.next_attempt_at > START for r in pending)
    assert all(r.last_error and "EngineUnavailable" in r.last_error for r in pending)
    clock.advance(timedelta(minutes=1))
    assert await down.run_once() == 0
    assert [r.attempts for r in rows(db_engine)] == [2, 2, 2]
    with session_scope(db_engine) as session:
        assert pending_count(session) == 3
    assert all(instance_id(db_engine, t) is None for t in tracking_ids)
    # Meanwhile the reports are there and trackable.
    assert client.get(f"/reports/{tracking_ids[0]}", headers=citizen.auth).status_code == 200


async def test_a_report_with_an_instance_is_not_started_again(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, tracking_id).process_instance_id = "existing-instance"
    # Nothing listens there: had it called the engine, the row would still be pending.
    assert await OutboxDispatcher(engine_down(), db_engine, clock=Clock(START)).run_once() == 1
    [row] = rows(db_engine)
    assert row.sent_at is not None and not row.in_doubt


async def test_a_start_whose_answer_was_lost_is_found_by_business_key_not_repeated(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    fake = FakeEngine()
    fake.lose_next_answer = True  # the engine creates the instance, its answer never arrives
    clock = Clock(START)
    dispatcher = OutboxDispatcher(fake, db_engine, clock=clock)
    assert await dispatcher.run_once() == 0
    [row] = rows(db_engine)
    assert row.in_doubt and instance_id(db_engine, tracking_id) is None
    clock.advance(timedelta(minutes=1))
    assert await dispatcher.run_once() == 1
    assert [i.business_key for i in fake.instances] == [tracking_id]  # one instance, adopted
    assert instance_id(db_engine, tracking_id) == fake.instances[0].id


class CountingEngine(FakeEngine):
    """The fake engine, counting how often the dispatcher asks for an instance before starting one."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def find_instance(self, process_key: str, *, business_key: str, running_only: bool = False) -> str | None:
        self.lookups += 1
        return super().find_instance(process_key, business_key=business_key, running_only=running_only)


def created_at(db: Engine) -> Any:
    [row] = rows(db)
    return row.created_at


async def test_a_start_written_while_the_dispatcher_runs_is_sent_without_asking_first(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    engine = CountingEngine()
    dispatcher = OutboxDispatcher(engine, db_engine, clock=Clock(created_at(db_engine)))  # started as it was written
    assert await dispatcher.run_once() == 1
    assert engine.lookups == 0  # first claim of a row younger than the dispatcher: no instance can exist yet
    assert [i.business_key for i in engine.instances] == [tracking_id]


async def test_a_start_older_than_the_dispatcher_is_looked_for_first_as_after_a_restore(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    """The application's dump was taken before the start reached the engine, the engine's after: the restored row
    is pending, the engine has the instance. A dispatcher started after the restore asks before it starts."""
    tracking_id = submit(client, citizen)
    engine = CountingEngine()
    existing = engine.start(PROCESS_ID, business_key=tracking_id, variables={})
    dispatcher = OutboxDispatcher(engine, db_engine, clock=Clock(created_at(db_engine) + timedelta(seconds=1)))
    assert await dispatcher.run_once() == 1
    assert engine.lookups == 1
    assert [i.id for i in engine.instances] == [existing]  # adopted, not started twice
    assert instance_id(db_engine, tracking_id) == existing


async def test_messages_wait_for_the_start_of_their_report(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN)
    response = client.post(
        f"/reports/{tracking_id}/supplement", data={"text": "Sudah saya lengkapi."}, headers=citizen.auth
    )
    assert response.status_code == 202
    await OutboxDispatcher(engine_down(), db_engine, clock=Clock(START)).run_once()
    start, message = rows(db_engine)
    assert (start.kind, start.attempts, message.kind, message.attempts) == ("start_process", 1, "publish_message", 0)


async def test_a_message_nobody_waits_for_yet_is_kept_and_delivered_once(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    fake, clock = FakeEngine(), Clock(START)
    dispatcher = OutboxDispatcher(fake, db_engine, clock=clock)
    assert await dispatcher.run_once() == 1  # started
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN)
    client.post(f"/reports/{tracking_id}/supplement", data={"text": "Foto baru."}, headers=citizen.auth)
    assert await dispatcher.run_once() == 0  # the process is a step behind: nobody waits yet
    message = rows(db_engine)[1]
    assert message.sent_at is None and "nobody waits" in (message.last_error or "")
    fake.wait_for(tracking_id, Message.SUPPLEMENTED)
    fake.lose_next_answer = True  # delivered, but the answer is lost
    clock.advance(timedelta(minutes=1))
    assert await dispatcher.run_once() == 0
    clock.advance(timedelta(minutes=1))
    assert await dispatcher.run_once() == 1  # the retry sees lastMessageId in the instance and stops
    assert fake.correlated == [(Message.SUPPLEMENTED, tracking_id)]
    assert fake.instances[0].variables[LAST_MESSAGE_VARIABLE] == rows(db_engine)[1].payload["message_id"]


def test_the_api_runs_the_dispatcher_in_its_lifespan(
    settings: ApiTestSettings, db_engine: Engine, citizen: Person, client: TestClient
) -> None:
    submit(client, citizen)
    unreachable = settings.model_copy(update={"engine_url": closed_port_url()})
    with TestClient(create_app(unreachable, db=db_engine, run_dispatcher=True)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rows(db_engine)[0].attempts == 0:
            time.sleep(0.1)
    assert rows(db_engine)[0].attempts >= 1


class SlowEngine(FakeEngine):
    """Each start answers only once another start is in flight too (a start waits for the engine's transaction)."""

    def __init__(self, together: int) -> None:
        super().__init__()
        self.together = threading.Barrier(together, timeout=5)

    def start(self, process_key: str, *, business_key: str, variables: Mapping[str, Any]) -> str:
        self.together.wait()  # BrokenBarrierError when the starts come one at a time
        return super().start(process_key, business_key=business_key, variables=variables)


async def test_due_starts_of_different_reports_go_to_the_engine_side_by_side(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_ids = [submit(client, citizen) for _ in range(4)]
    fake = SlowEngine(together=4)
    assert await OutboxDispatcher(fake, db_engine, clock=Clock(START), concurrency=4).run_once() == 4
    assert sorted(i.business_key for i in fake.instances) == sorted(tracking_ids)
    assert all(instance_id(db_engine, t) for t in tracking_ids)


class WaitingEngine(FakeEngine):
    """Every instance it starts waits for the message."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def start(self, process_key: str, *, business_key: str, variables: Mapping[str, Any]) -> str:
        started = super().start(process_key, business_key=business_key, variables=variables)
        self.instances[-1].waiting_for.add(self.message)
        return started


async def test_a_pass_that_sent_something_is_followed_at_once_by_the_next(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    """During a burst of intake the rows that came in while a pass ran are due: the dispatcher does not sleep its
    poll interval between passes that send (here a report's message, which waits for its start's pass)."""
    tracking_id = submit(client, citizen)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        queued = enqueue_message(
            session, report=report, name=Message.SUPPLEMENTED, message_id="m-1", variables={}, now=START
        )
        assert queued is not None
    fake = WaitingEngine(Message.SUPPLEMENTED)
    dispatcher = OutboxDispatcher(fake, db_engine, clock=Clock(START), poll_interval=60)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    try:
        for _ in range(100):
            if all(row.sent_at is not None for row in rows(db_engine)):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
    assert [row.sent_at is not None for row in rows(db_engine)] == [True, True]  # within 5 s, not after 60 s
