"""The engine never holds a reporter's identity (issue 23 item 2): a report whose reporter's name, e-mail and phone
are in its title and description, shown by name, goes through the real engine with the workers (verification,
returned as incomplete, the reporter's supplement correlated through the outbox); neither the instance's runtime
variables nor its history (variable instances, variable updates, form fields, activities, the instance and its
business key) hold the name, e-mail or phone. So an erasure has nothing to remove there (lapor.erasure)."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine import LocalEngine
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from tests.api import test_engine as engine_tests
from tests.api.conftest import Person, submit
from tests.conftest import eventually, login

# The engine tests' fixtures and helpers: the API's engine account, the workers, cancelling afterwards.
svc_api = engine_tests.svc_api
lapor_workers = engine_tests.lapor_workers
cancel_afterwards = engine_tests.cancel_afterwards
instance_id = engine_tests.instance_id
open_task = engine_tests._open_task
dispatch_blocking = engine_tests._dispatch_blocking

PHONE = ("+6281299990001", "081299990001")  # the citizen fixture's number, in both spellings


def engine_records(operaton: EngineClient, instance: str) -> str:
    """Everything the engine keeps of one instance that could hold a value, as one JSON text."""
    # Raw: the engine's whole rows, every field searched; a typed record would drop what it does not map.
    queries = [
        ("/variable-instance", {"processInstanceIdIn": instance, "deserializeValues": "false"}),
        ("/history/variable-instance", {"processInstanceId": instance, "deserializeValues": "false"}),
        ("/history/detail", {"processInstanceId": instance, "deserializeValues": "false"}),
        ("/history/activity-instance", {"processInstanceId": instance}),
        ("/history/task", {"processInstanceId": instance}),
        ("/history/process-instance", {"processInstanceId": instance}),
        ("/history/user-operation", {"processInstanceId": instance}),
    ]
    found = {path: operaton.request("GET", path, params=params) for path, params in queries}
    assert found["/history/variable-instance"] and found["/history/detail"]  # the search has something to search
    return json.dumps(found, ensure_ascii=False)


@pytest.mark.usefixtures("cancel_afterwards", "lapor_workers")
async def test_the_engine_holds_no_identity_of_the_reporter(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    engine: LocalEngine,
    operaton: EngineClient,
    svc_api: EngineClient,
) -> None:
    person = citizen
    tracking_id = submit(
        client,
        person,
        title=f"Lampu padam depan rumah {person.name}",
        description=f"Hubungi {person.name} di {person.email} atau {PHONE[1]}.",
        show_name=True,
    )
    dispatcher = OutboxDispatcher(svc_api, db_engine)
    assert await dispatcher.run_once() == 1
    instance = instance_id(db_engine, tracking_id)
    assert instance is not None
    task = await eventually(lambda: open_task(operaton, instance, "VerifyReportTask", set()))
    with login(engine, "admin-pengaduan") as admin_pengaduan:
        admin_pengaduan.claim(task.id, "admin-pengaduan")
        admin_pengaduan.complete_task(task.id, {"verificationResult": "tidak_lengkap", "verificationNote": "Buram"})

    def returned() -> bool:
        answer = client.get(f"/reports/{tracking_id}", headers=person.auth).json()
        return bool(answer["status"]["code"] == "DIKEMBALIKAN")

    await eventually(returned)
    supplement = f"Saya {person.name}, foto baru. Telepon {PHONE[1]}, email {person.email}."
    answer = client.post(f"/reports/{tracking_id}/supplement", data={"text": supplement}, headers=person.auth)
    assert answer.status_code == 202
    assert await eventually(lambda: dispatch_blocking(dispatcher)) == 1
    await eventually(lambda: open_task(operaton, instance, "VerifyReportTask", {task.id}))
    held = engine_records(operaton, instance).lower()
    assert tracking_id.lower() in held  # the business key and the tracking id are there, as they should be
    identity = [person.name, person.email, *PHONE, "siti", "rahmawati"]
    assert [value for value in identity if value.lower() in held] == []
