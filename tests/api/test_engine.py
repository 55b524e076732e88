"""The API against the real engine: an outage the outbox rides out, and a report reaching Tasklist.

Few and focused on purpose: each waits for Operate and Tasklist to import what the engine did.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyzeebe import ZeebeClient
from sqlalchemy import Engine, select, update

import workers.deps
from engine import LocalEngine
from lapor import reports
from lapor.camunda import CamundaRest
from lapor.db import session_scope
from lapor.deadlines import calendar_from
from lapor.models import OutboxMessage, Report
from lapor.national import adapter_from
from lapor.notifications.channels import EmailChannel
from lapor.outbox import InstanceFinder, OutboxDispatcher, operate_instance_finder
from lapor.zeebe import deploy_directory
from tests.api.conftest import ApiTestSettings, Clock, Mailbox, Person, submit
from tests.api.test_outbox import closed_port_address
from tests.conftest import EngineClock, eventually
from workers.deps import Deps
from workers.main import build_worker

pytestmark = pytest.mark.engine


@pytest.fixture
async def deployed(engine: LocalEngine, clock: EngineClock) -> None:
    """bpmn/ deployed (unchanged resources make no new version), with the engine clock pinned like tests/e2e."""
    await deploy_directory(engine.grpc_address)


@pytest.fixture
async def cancel_afterwards(db_engine: Engine, zeebe: ZeebeClient) -> AsyncIterator[None]:
    """Instances of these tests are cancelled, so later tests moving the engine clock never see their timers."""
    yield
    with session_scope(db_engine) as session:
        keys = [k for k in session.scalars(select(Report.process_instance_key)) if k is not None]
    for key in keys:
        try:
            await zeebe.cancel_process_instance(key)
        except Exception:  # noqa: S110 - already finished or cancelled
            pass


@pytest.fixture
def finder(engine: LocalEngine, settings: ApiTestSettings) -> InstanceFinder:
    return operate_instance_finder(settings.model_copy(update={"camunda_rest_url": engine.rest_url}))


@pytest.fixture
async def lapor_workers(
    engine: LocalEngine, db_engine: Engine, mailbox: Mailbox, settings: ApiTestSettings
) -> AsyncIterator[None]:
    """The job workers in this process on the test database (as tests/e2e does), for one test."""
    previous = workers.deps._current
    workers.deps.use(
        Deps(
            settings=settings,
            db=db_engine,
            calendar=calendar_from(settings),
            email=EmailChannel(host="127.0.0.1", port=mailbox.port, sender=settings.smtp_sender),
            sms=None,
            national=adapter_from(settings),
        )
    )
    worker = build_worker(engine.grpc_address)
    work = asyncio.create_task(worker.work())
    yield
    await worker.stop()
    await work
    if previous is not None:
        workers.deps.use(previous)


def instances_of(camunda: CamundaRest, tracking_id: str) -> list[int]:
    """Process instances whose root variable reportId is this tracking id, as Operate sees them."""
    items = camunda.operate_search("variables", name="reportId", value=json.dumps(tracking_id))
    return sorted({int(i["processInstanceKey"]) for i in items if i["scopeKey"] == i["processInstanceKey"]})


def instance_key(db: Engine, tracking_id: str) -> int | None:
    with session_scope(db) as session:
        return reports.get_by_tracking_id(session, tracking_id).process_instance_key


@pytest.mark.usefixtures("deployed", "cancel_afterwards")
async def test_reports_submitted_while_the_engine_is_down_each_reach_it_once(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    engine: LocalEngine,
    camunda: CamundaRest,
    finder: InstanceFinder,
) -> None:
    tracking_ids = [submit(client, citizen) for _ in range(3)]
    clock = Clock(datetime.now(UTC))
    # The engine is unreachable: submissions were accepted, the commands wait.
    down = OutboxDispatcher(closed_port_address(), db_engine, clock=clock, find_instance=finder, call_timeout=5)
    assert await down.run_once() == 0
    assert all(instance_key(db_engine, t) is None for t in tracking_ids)
    # The engine is back. Each attempt was in doubt, so Operate is asked first (and knows none).
    clock.advance(timedelta(minutes=5))
    up = OutboxDispatcher(engine.grpc_address, db_engine, clock=clock, find_instance=finder)
    assert await up.run_once() == 3
    clock.advance(timedelta(hours=1))
    assert await up.run_once() == 0  # every command is sent; nothing runs twice
    keys = {t: instance_key(db_engine, t) for t in tracking_ids}
    assert None not in keys.values() and len(set(keys.values())) == 3
    for tracking_id, key in keys.items():
        assert await eventually(lambda t=tracking_id: instances_of(camunda, t)) == [key]  # type: ignore[misc]
    with session_scope(db_engine) as session:
        assert all(row.sent_at is not None for row in session.scalars(select(OutboxMessage)))


@pytest.mark.usefixtures("deployed", "cancel_afterwards")
async def test_a_start_whose_answer_was_lost_is_adopted_not_repeated(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    zeebe: ZeebeClient,
    camunda: CamundaRest,
    engine: LocalEngine,
    finder: InstanceFinder,
) -> None:
    tracking_id = submit(client, citizen)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        variables = reports.process_variables(report, photo_count=1)
        # An attempt reached the engine but its answer never came back (timeout, crash).
        session.execute(update(OutboxMessage).values(attempts=1, in_doubt=True, last_error="TimeoutError"))
    created = await zeebe.run_process(reports.PROCESS_ID, variables=variables)
    await eventually(lambda: instances_of(camunda, tracking_id))
    dispatcher = OutboxDispatcher(engine.grpc_address, db_engine, find_instance=finder)
    assert await dispatcher.run_once() == 1
    assert instance_key(db_engine, tracking_id) == created.process_instance_key
    await asyncio.sleep(3)  # a second instance, had one been started, would be exported by now
    assert instances_of(camunda, tracking_id) == [created.process_instance_key]


def _open_task(camunda: CamundaRest, key: int, element_id: str, skip: set[str]) -> dict[str, Any] | None:
    tasks = camunda.user_tasks(state="CREATED", processInstanceKey=key)
    return next((t for t in tasks if t["taskDefinitionId"] == element_id and t["id"] not in skip), None)


@pytest.mark.usefixtures("deployed", "cancel_afterwards", "lapor_workers")
async def test_report_from_the_api_reaches_verification_and_a_supplement_brings_it_back(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    engine: LocalEngine,
    camunda: CamundaRest,
    mailbox: Mailbox,
    finder: InstanceFinder,
) -> None:
    tracking_id = submit(client, citizen, photos=2)
    dispatcher = OutboxDispatcher(engine.grpc_address, db_engine, find_instance=finder)
    assert await dispatcher.run_once() == 1
    key = instance_key(db_engine, tracking_id)
    assert key is not None

    task = await eventually(lambda: _open_task(camunda, key, "VerifyReportTask", set()))
    # The workers recorded the status and the due date: tracking shows them, and the reporter was told.
    view = await eventually(
        lambda: (v := client.get(f"/reports/{tracking_id}", headers=citizen.auth).json())["deadline"] and v
    )
    assert view["timeline"][0]["status"]["code"] == "BELUM_TERVERIFIKASI"
    assert view["deadline"]["kind"] == "verification"
    assert any(tracking_id in str(m["Subject"]) for m in mailbox.messages if citizen.email in str(m["To"]))

    # Returned as incomplete; the reporter's supplement (an outbox message) sends it back to verification.
    camunda.complete_user_task(task["id"], {"verificationResult": "tidak_lengkap", "verificationNote": "Foto buram"})

    def returned() -> bool:
        return bool(
            client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["status"]["code"] == "DIKEMBALIKAN"
        )

    await eventually(returned)
    answer = client.post(
        f"/reports/{tracking_id}/supplement", data={"text": "Foto baru yang lebih jelas."}, headers=citizen.auth
    )
    assert answer.status_code == 202
    assert await dispatcher.run_once() == 1
    second = await eventually(lambda: _open_task(camunda, key, "VerifyReportTask", {task["id"]}))
    assert second["id"] != task["id"]
