"""The API against the real engine: an outage the outbox rides out, a lost answer, and a report reaching Tasklist
and coming back with the reporter's supplement."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from engine import LocalEngine
from lapor import reports
from lapor.db import session_scope
from lapor.deadlines import default_calendar
from lapor.models import OutboxMessage, Report
from lapor.national import adapter_from
from lapor.notifications.channels import EmailChannel
from lapor.notifications.service import Notifier
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient, Task
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT
from lapor.settings import Settings
from lapor.vocabulary import PROCESS_ID
from tests.api.conftest import ApiTestSettings, Clock, Mailbox, Person, submit
from tests.api.test_outbox import engine_down
from tests.conftest import SESSION_WORKER_DEPS, eventually, login
from workers.deps import Deps
from workers.main import build_worker

pytestmark = pytest.mark.engine


@pytest.fixture
def svc_api(engine: LocalEngine, provisioned: Settings) -> Iterator[EngineClient]:
    """The API's own service account, as api.main's dispatcher uses it."""
    with login(engine, API_ACCOUNT, provisioned.api_engine_password) as client:
        yield client


@pytest.fixture
def cancel_afterwards(db_engine: Engine, operaton: EngineClient) -> Iterator[None]:
    """Instances of these tests are cancelled, so their tasks never mix with other tests' tasks."""
    yield
    with session_scope(db_engine) as session:
        ids = [i for i in session.scalars(select(Report.process_instance_id)) if i is not None]
    for instance in ids:
        try:
            operaton.cancel(instance)
        except Exception:  # noqa: S110 - already finished or cancelled
            pass


@asynccontextmanager
async def workers_on(
    engine: LocalEngine, provisioned: Settings, db: Engine, mailbox: Mailbox, settings: Settings
) -> AsyncIterator[Deps]:
    """The workers in this process on a test's database, files and public address (as tests/e2e does).

    The e2e tests' workers (tests/conftest.py `lapor_process`) keep polling the same engine for the whole session,
    bound to the session's `worker_deps` (listed in SESSION_WORKER_DEPS). Those take this test's database, files and
    address for the test's duration, so whichever worker fetches a task (a proof photo, a notice) acts as this
    test's would.
    """
    shared = Deps(
        settings=settings,
        db=db,
        calendar=default_calendar(settings),
        notifier=Notifier((EmailChannel(host="127.0.0.1", port=mailbox.port, sender=settings.smtp_sender),), settings),
        national=adapter_from(settings),
        engine=login(engine, WORKERS_ACCOUNT, provisioned.worker_engine_password),
    )
    fields = ("settings", "db", "calendar", "notifier", "national", "engine")
    saved = [(other, {name: getattr(other, name) for name in fields}) for other in SESSION_WORKER_DEPS]
    for other, _ in saved:
        for name in fields:
            setattr(other, name, getattr(shared, name))
    worker_settings = provisioned.model_copy(
        update={
            "engine_user": WORKERS_ACCOUNT,
            "engine_password": provisioned.worker_engine_password,
            "worker_long_poll_seconds": 2,
        }
    )
    stop = asyncio.Event()
    work = asyncio.create_task(build_worker(worker_settings, shared).run(stop))
    try:
        yield shared
    finally:
        stop.set()
        await work
        for other, values in saved:
            for name, value in values.items():
                setattr(other, name, value)
        if shared.engine is not None:
            shared.engine.close()


@pytest.fixture
async def lapor_workers(
    engine: LocalEngine,
    provisioned: Settings,
    db_engine: Engine,
    mailbox: Mailbox,
    settings: ApiTestSettings,
) -> AsyncIterator[None]:
    """The workers on the API tests' database, for one test."""
    async with workers_on(engine, provisioned, db_engine, mailbox, settings):
        yield


def instances_of(operaton: EngineClient, tracking_id: str) -> list[str]:
    """Every instance (running or ended) with this tracking id as business key."""
    return sorted(i.id for i in operaton.historic_instances(PROCESS_ID, business_key=tracking_id))


def instance_id(db: Engine, tracking_id: str) -> str | None:
    with session_scope(db) as session:
        return reports.get_by_tracking_id(session, tracking_id).process_instance_id


@pytest.mark.usefixtures("cancel_afterwards")
async def test_reports_submitted_while_the_engine_is_down_each_reach_it_once(
    client: TestClient, citizen: Person, db_engine: Engine, operaton: EngineClient, svc_api: EngineClient
) -> None:
    tracking_ids = [submit(client, citizen) for _ in range(3)]
    clock = Clock(datetime.now(UTC))
    # The engine is unreachable: submissions were accepted, the commands wait.
    assert await OutboxDispatcher(engine_down(), db_engine, clock=clock).run_once() == 0
    assert all(instance_id(db_engine, t) is None for t in tracking_ids)
    # The engine is back.
    clock.advance(timedelta(minutes=5))
    up = OutboxDispatcher(svc_api, db_engine, clock=clock)
    assert await up.run_once() == 3
    clock.advance(timedelta(hours=1))
    assert await up.run_once() == 0  # every command is sent; nothing runs twice
    ids = {t: instance_id(db_engine, t) for t in tracking_ids}
    assert None not in ids.values() and len(set(ids.values())) == 3
    for tracking_id, stored in ids.items():
        assert instances_of(operaton, tracking_id) == [stored]
    with session_scope(db_engine) as session:
        assert all(row.sent_at is not None for row in session.scalars(select(OutboxMessage)))


@pytest.mark.usefixtures("cancel_afterwards")
async def test_a_start_whose_answer_was_lost_is_adopted_not_repeated(
    client: TestClient, citizen: Person, db_engine: Engine, operaton: EngineClient, svc_api: EngineClient
) -> None:
    tracking_id = submit(client, citizen)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        variables = reports.process_variables(report, photo_count=1)
        # An attempt reached the engine but its answer never came back (timeout, crash).
        session.execute(update(OutboxMessage).values(attempts=1, in_doubt=True, last_error="EngineUnavailable"))
    created = svc_api.start(PROCESS_ID, business_key=tracking_id, variables=variables)
    assert await OutboxDispatcher(svc_api, db_engine).run_once() == 1
    assert instance_id(db_engine, tracking_id) == created
    assert instances_of(operaton, tracking_id) == [created]  # no second instance, at once: no index to wait for


def _open_task(operaton: EngineClient, instance: str, element_id: str, skip: set[str]) -> Task | None:
    tasks = operaton.tasks(process_instance_id=instance, definition_key=element_id)
    return next((t for t in tasks if t.id not in skip), None)


@pytest.mark.usefixtures("cancel_afterwards", "lapor_workers")
async def test_report_from_the_api_reaches_verification_and_a_supplement_brings_it_back(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    engine: LocalEngine,
    operaton: EngineClient,
    svc_api: EngineClient,
    mailbox: Mailbox,
) -> None:
    tracking_id = submit(client, citizen, photos=2)
    dispatcher = OutboxDispatcher(svc_api, db_engine)
    assert await dispatcher.run_once() == 1
    instance = instance_id(db_engine, tracking_id)
    assert instance is not None

    task = await eventually(lambda: _open_task(operaton, instance, "VerifyReportTask", set()))
    # The workers recorded the status and the due date: tracking shows them, and the reporter was told.
    view = await eventually(
        lambda: (v := client.get(f"/reports/{tracking_id}", headers=citizen.auth).json())["deadline"] and v
    )
    assert view["timeline"][0]["status"]["code"] == "BELUM_TERVERIFIKASI"
    assert view["deadline"]["kind"] == "verification"
    assert any(tracking_id in str(m["Subject"]) for m in mailbox.messages if citizen.email in str(m["To"]))

    # Returned as incomplete by Admin Pengaduan; the reporter's supplement (an outbox message) brings it back.
    with login(engine, "admin-pengaduan") as admin_pengaduan:
        admin_pengaduan.claim(task.id, "admin-pengaduan")
        admin_pengaduan.complete_task(task.id, {"verificationResult": "tidak_lengkap", "verificationNote": "Buram"})

    def returned() -> bool:
        return bool(
            client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["status"]["code"] == "DIKEMBALIKAN"
        )

    await eventually(returned)
    answer = client.post(
        f"/reports/{tracking_id}/supplement", data={"text": "Foto baru yang lebih jelas."}, headers=citizen.auth
    )
    assert answer.status_code == 202
    assert await eventually(lambda: _dispatch_blocking(dispatcher)) == 1  # waits until the receive task is reached
    second = await eventually(lambda: _open_task(operaton, instance, "VerifyReportTask", {task.id}))
    assert second.id != task.id


def _dispatch_blocking(dispatcher: OutboxDispatcher) -> int | None:
    """One dispatcher pass from a worker thread; None while nothing was accepted."""
    return dispatcher._run_once() or None
