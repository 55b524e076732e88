"""The engine and a reporter's identity (issue 23 item 2).

What the application gives the engine never holds it: a report whose reporter's name, e-mail and phone are in its
title and description, shown by name, goes through the real engine with the workers (verification, returned as
incomplete, the reporter's supplement correlated through the outbox); neither the instance's runtime variables nor
its history (variable instances, variable updates, form fields, activities, the instance and its business key) hold
the name, e-mail or phone.

What staff type may: a verification note and a return note naming the reporter, submitted through the Tasklist
form (submit-form, as Tasklist does). After the reporter's erasure and the outbox's redactions no runtime variable,
historic variable instance or historic detail holds them, nor does any text column of the database (the audit trail
included), the audit chains verify, and the open report goes on to its next task."""

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from engine import LocalEngine
from lapor import audit, erasure
from lapor.db import session_scope
from lapor.models import OutboxKind, OutboxMessage
from lapor.outbox import OutboxDispatcher, pending_count
from lapor.process import EngineClient, VariableRedaction
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT
from lapor.settings import Settings
from tests.api import test_engine as engine_tests
from tests.api.conftest import ApiTestSettings, Person, SmsGateway, submit
from tests.api.test_data_rights import confirm, holding, start
from tests.conftest import eventually, login

# The engine tests' fixtures and helpers: the API's engine account, the workers, cancelling afterwards.
svc_api = engine_tests.svc_api
lapor_workers = engine_tests.lapor_workers
cancel_afterwards = engine_tests.cancel_afterwards
instance_id = engine_tests.instance_id
open_task = engine_tests._open_task
dispatch_blocking = engine_tests._dispatch_blocking

PHONE = ("+6281299990001", "081299990001")  # the citizen fixture's number, in both spellings


@pytest.fixture
def settings(settings: ApiTestSettings, engine: LocalEngine, provisioned: Settings) -> ApiTestSettings:
    """The API reads the engine with its own login, as api.main's does (svc-api, never the administrator)."""
    return settings.model_copy(
        update={
            "engine_url": engine.rest_url,
            "engine_user": API_ACCOUNT,
            "engine_password": provisioned.api_engine_password,
        }
    )


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


def named_in(text: str, values: list[str]) -> list[str]:
    """Where each value stands in the text as a word of its own (a name part inside "dispositionReminderAt" is not
    the name), with what surrounds it."""
    found = [re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) for value in values]
    return [text[max(0, hit.start() - 80) : hit.end() + 40] for hit in found if hit is not None]


def submit_form(engine: LocalEngine, user: str, task_id: str, variables: dict[str, str]) -> None:
    """What Tasklist does with a task's form: claim it, then POST its fields to submit-form."""
    with login(engine, user) as member:
        member.claim(task_id, user)
        fields = {name: {"value": value, "type": "String"} for name, value in variables.items()}
        member.request("POST", f"/task/{task_id}/submit-form", json={"variables": fields})


@pytest.mark.usefixtures("cancel_afterwards", "lapor_workers")
async def test_staff_notes_naming_the_reporter_leave_the_engine_with_her_erasure(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    engine: LocalEngine,
    operaton: EngineClient,
    svc_api: EngineClient,
    sms_gateway: SmsGateway,
    provisioned: Settings,
) -> None:
    person = citizen
    phone_code = start(client, person, phone=PHONE[1])  # her phone too, proved by SMS as a reporter adds it
    assert confirm(client, person, phone_code, sms_gateway.last_code(PHONE[0]))[0] == 200
    tracking_id = submit(client, person, title="Lampu jalan padam")
    dispatcher = OutboxDispatcher(svc_api, db_engine)
    assert await dispatcher.run_once() == 1
    instance = instance_id(db_engine, tracking_id)
    assert instance is not None
    first = await eventually(lambda: open_task(operaton, instance, "VerifyReportTask", set()))
    return_note = f"Foto buram. Sudah ditelepon Bu Siti di {PHONE[1]}, mohon kirim foto baru."
    submit_form(
        engine, "admin-pengaduan", first.id, {"verificationResult": "tidak_lengkap", "verificationNote": return_note}
    )

    def returned() -> bool:
        answer = client.get(f"/reports/{tracking_id}", headers=person.auth).json()
        return bool(answer["status"]["code"] == "DIKEMBALIKAN")

    await eventually(returned)
    answer = client.post(f"/reports/{tracking_id}/supplement", data={"text": "Foto baru."}, headers=person.auth)
    assert answer.status_code == 202
    assert await eventually(lambda: dispatch_blocking(dispatcher)) == 1
    second = await eventually(lambda: open_task(operaton, instance, "VerifyReportTask", {first.id}))
    verification_note = f"Lengkap. Dikonfirmasi {person.name} ({person.email}), Pak RT kenal Rahmawati."
    submit_form(
        engine, "admin-pengaduan", second.id, {"verificationResult": "lengkap", "verificationNote": verification_note}
    )
    dispatch = await eventually(lambda: open_task(operaton, instance, "DispatchReportTask", set()))
    identity = [person.name, person.email, *PHONE, "0812-9999-0001", "siti", "rahmawati"]
    typed = [person.name, person.email, PHONE[1], "Bu Siti", "Rahmawati"]
    assert len(named_in(engine_records(operaton, instance), typed)) == len(typed)  # the notes are there

    # The retention schedule erases as the workers (svc-workers): they may read what there is to redact; Tasklist's
    # form wrote no form-field detail (engine/.../NoFormFieldHistory.java), which nothing could remove one by one.
    patterns = erasure.identity_patterns(person.name, person.email, PHONE[0])
    with login(engine, WORKERS_ACCOUNT, provisioned.worker_engine_password) as workers:
        planned = workers.variable_redactions(instance, redact=lambda text: erasure.redact(text, patterns))
    assert ({v.name for v in planned.variables}, planned.form_fields) == ({"verificationNote"}, 0)

    erased = client.delete("/reporters/me", headers=person.auth)
    assert erased.status_code == 200, erased.text
    with session_scope(db_engine) as session:
        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REDACT_VARIABLE)).all()
        assert {row.payload["name"] for row in queued} == {"verificationNote"}
    in_database = [person.name, person.email, *PHONE, "0812-9999-0001", "Bu Siti", "Rahmawati"]
    assert holding(db_engine, in_database) == []  # the queued rows, the timeline and the audit trail included
    while pending_count_of(db_engine):
        assert await eventually(lambda: dispatch_blocking(dispatcher)) >= 1

    assert named_in(engine_records(operaton, instance), identity) == []
    expected = "Lengkap. Dikonfirmasi [dihapus] ([dihapus]), Pak RT kenal [dihapus]."
    assert svc_api.variables(instance)["verificationNote"] == expected
    assert svc_api.historic_variables(instance)["verificationNote"] == expected
    assert audit.main(["verify"], db=db_engine) == 0
    # The redactions are idempotent: applied again (a retry whose answer was lost), the engine stays the same.
    with session_scope(db_engine) as session:
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REDACT_VARIABLE)):
            svc_api.apply_redaction(VariableRedaction.from_payload(row.payload))
    assert svc_api.historic_variables(instance)["verificationNote"] == expected
    assert named_in(engine_records(operaton, instance), identity) == []

    # The open report goes on: the disposition completes and the OPD's task opens.
    with login(engine, "analis") as analis:
        analis.claim(dispatch.id, "analis")
        analis.complete_task(dispatch.id, {"opdCode": "PUPR", "dispatchNote": "Mohon ditindaklanjuti."})
    await eventually(lambda: open_task(operaton, instance, "OpdResponseTask", set()))


def pending_count_of(db: Engine) -> int:
    with session_scope(db) as session:
        return pending_count(session)
