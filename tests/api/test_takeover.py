"""Registration links a login to an existing reporter only through the channels it has just proven."""

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.main import create_app
from lapor.db import session_scope
from lapor.models import RateLimitHit, RegistrationCode, Reporter
from tests.api.conftest import ApiTestSettings, Mailbox, Person, SmsGateway, register, sign_sms, submit

VICTIM_PHONE = "+6281255550001"
ATTACKER = Person("Penyerang", "penyerang@example.id", "+6281255550099")


def _start(client: TestClient, **body: str) -> str:
    response = client.post("/reporters/registrations", json={"name": "Nama Baru", **body})
    assert response.status_code == 202, response.text
    return str(response.json()["registration_id"])


def _verify(client: TestClient, registration_id: str, **codes: str) -> tuple[int, dict[str, object]]:
    response = client.post(f"/reporters/registrations/{registration_id}/verification", json=codes)
    return response.status_code, response.json()


def _reporter_names(db: Engine) -> list[str]:
    with session_scope(db) as session:
        return sorted(session.scalars(select(Reporter.name)))


def test_victims_email_with_the_attackers_phone_gives_no_login(
    client: TestClient, mailbox: Mailbox, sms_gateway: SmsGateway, db_engine: Engine
) -> None:
    victim = register(client, mailbox, Person("Siti Rahmawati", "siti@example.id", ""))
    tracking_id = submit(client, victim)
    registration_id = _start(client, email=victim.email, phone=ATTACKER.phone)
    attacker_code = sms_gateway.last_code(ATTACKER.phone)  # all the attacker receives
    for codes in ({"code": attacker_code}, {"code": attacker_code, "sms_code": attacker_code}):
        status, body = _verify(client, registration_id, **codes)
        assert status == 400 and body["error"]["code"] == "invalid_code", body  # type: ignore[index]
    assert _reporter_names(db_engine) == ["Siti Rahmawati"]  # not renamed, no login for the attacker
    owner = client.get(f"/reports/{tracking_id}", headers=victim.auth).json()
    assert owner["reporter"]["phone"] is None  # the attacker's phone was not attached either


def test_an_sms_senders_phone_with_the_attackers_email_gives_no_login(
    client: TestClient, mailbox: Mailbox, sms_gateway: SmsGateway, db_engine: Engine
) -> None:
    body = json.dumps({"message_id": "gw-1", "sender": VICTIM_PHONE, "text": "Lampu jalan mati di gang kami"}).encode()
    assert client.post("/intake/sms", content=body, headers=sign_sms(body)).status_code == 201
    registration_id = _start(client, email=ATTACKER.email, phone=VICTIM_PHONE)
    attacker_code = mailbox.last_code(ATTACKER.email)
    for codes in ({"code": attacker_code}, {"code": attacker_code, "sms_code": "000000"}):
        status, answer = _verify(client, registration_id, **codes)
        assert status == 400 and answer["error"]["code"] == "invalid_code", answer  # type: ignore[index]
    assert _reporter_names(db_engine) == ["Pelapor SMS 1708"]
    # The sender, proving the phone, does get the SMS reports; a login keeps the reporter's name.
    registration_id = _start(client, phone=VICTIM_PHONE)
    status, issued = _verify(client, registration_id, code=sms_gateway.last_code(VICTIM_PHONE))
    assert status == 201
    token = issued["access_token"]
    mine = client.get("/reporters/me/reports", headers={"Authorization": f"Bearer {token}"}).json()
    assert mine["total"] == 1


def test_both_channels_proven_links_both(client: TestClient, mailbox: Mailbox, sms_gateway: SmsGateway) -> None:
    registration_id = _start(client, email="andi@example.id", phone="081255550002")
    status, issued = _verify(
        client,
        registration_id,
        code=mailbox.last_code("andi@example.id"),
        sms_code=sms_gateway.last_code("+6281255550002"),
    )
    assert status == 201
    assert issued["reporter"] == {"name": "Nama Baru", "email": "andi@example.id", "phone": "+6281255550002"}


def test_a_channel_that_cannot_be_proven_saves_and_counts_nothing(settings: ApiTestSettings, db_engine: Engine) -> None:
    no_sms = create_app(settings.model_copy(update={"sms_gateway_url": None}), db=db_engine, run_dispatcher=False)
    with TestClient(no_sms) as client:
        response = client.post(
            "/reporters/registrations", json={"name": "Nama Baru", "email": ATTACKER.email, "phone": VICTIM_PHONE}
        )
    assert response.status_code == 503 and response.json()["error"]["code"] == "code_not_sent"
    with session_scope(db_engine) as session:
        assert session.scalar(select(func.count()).select_from(RegistrationCode)) == 0
        assert session.scalar(select(func.count()).select_from(RateLimitHit)) == 0
