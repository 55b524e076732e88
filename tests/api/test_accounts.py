"""Registration with a one-time code, tokens, and the rate limits on registration and verification."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.main import create_app
from lapor.db import session_scope
from lapor.models import Notification, RegistrationCode, Reporter, ReporterToken
from lapor.notifications import channels
from lapor.ratelimit import Limit
from tests.api.conftest import ApiTestSettings, Clock, Mailbox, Person, SmsGateway, register
from tests.conftest import PushChannel


def start(client: TestClient, **body: str) -> dict[str, object]:
    response = client.post("/reporters/registrations", json={"name": "Siti Rahmawati", **body})
    assert response.status_code == 202, response.text
    result: dict[str, object] = response.json()
    return result


def verify(
    client: TestClient, registration_id: object, code: str, sms_code: str | None = None
) -> tuple[int, dict[str, object]]:
    body = {"code": code} | ({"sms_code": sms_code} if sms_code else {})
    response = client.post(f"/reporters/registrations/{registration_id}/verification", json=body)
    return response.status_code, response.json()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_by_email_gives_a_token_that_opens_the_profile(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    started = start(client, email="Siti.Rahmawati@Example.id")
    assert started["channels"] == ["email"]
    code = mailbox.last_code("siti.rahmawati@example.id")
    status, issued = verify(client, started["registration_id"], code)
    assert status == 201 and issued["token_type"] == "bearer"
    token = str(issued["access_token"])
    me = client.get("/reporters/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "siti.rahmawati@example.id" and me.json()["verified_at"] is not None
    with session_scope(db_engine) as session:
        # Only hashes at rest: neither the code nor the token is stored.
        registration = session.scalars(select(RegistrationCode)).one()
        assert code not in registration.code_hash
        assert token not in {t.token_hash for t in session.scalars(select(ReporterToken))}


def test_code_by_sms_for_a_phone_only_reporter(client: TestClient, sms_gateway: SmsGateway) -> None:
    started = start(client, phone="0812-9999-0003")
    assert started["channels"] == ["sms"]
    status, issued = verify(client, started["registration_id"], sms_gateway.last_code("+6281299990003"))
    assert status == 201
    assert issued["reporter"] == {"name": "Siti Rahmawati", "email": None, "phone": "+6281299990003"}


def test_registering_again_logs_in_the_same_reporter(client: TestClient, mailbox: Mailbox, db_engine: Engine) -> None:
    first = register(client, mailbox, Person("Siti", "siti@example.id", ""))
    second = register(client, mailbox, Person("Siti R.", "siti@example.id", ""))
    assert first.token != second.token
    for person in (first, second):
        assert client.get("/reporters/me", headers=person.auth).json()["name"] == "Siti"  # a login never renames
    with session_scope(db_engine) as session:
        assert len(session.scalars(select(Reporter)).all()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Siti"}, ""),  # neither e-mail nor phone
        ({"name": "Siti", "email": "bukan-email"}, "body.email"),
        ({"name": "Siti", "phone": "12345"}, "body.phone"),
        ({"name": "S", "email": "s@example.id"}, "body.name"),
    ],
)
def test_invalid_registration_is_422_with_the_error_body(client: TestClient, body: dict[str, str], field: str) -> None:
    response = client.post("/reporters/registrations", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]
    assert field in {d["field"] for d in error["details"]} or not field
    assert "bukan-email" not in response.text  # the input is never echoed


def test_wrong_code_counts_and_five_wrong_codes_lock_the_registration(client: TestClient, mailbox: Mailbox) -> None:
    started = start(client, email="siti@example.id")
    code = mailbox.last_code("siti@example.id")
    for attempts_left in (4, 3, 2, 1, 0):
        status, body = verify(client, started["registration_id"], wrong(code))
        assert status == 400
        assert body["error"] == {
            "code": "invalid_code",
            "message": "Kode verifikasi salah.",
            "details": {"attempts_left": attempts_left},
        }
    status, body = verify(client, started["registration_id"], code)  # even the right code is too late now
    assert status == 410 and body["error"]["code"] == "code_locked"  # type: ignore[index]


def test_code_expires_after_ten_minutes(client: TestClient, mailbox: Mailbox, api_clock: Clock) -> None:
    started = start(client, email="siti@example.id")
    api_clock.advance(timedelta(minutes=10))
    status, body = verify(client, started["registration_id"], mailbox.last_code("siti@example.id"))
    assert status == 410 and body["error"]["code"] == "code_expired"  # type: ignore[index]


def test_code_works_once_and_unknown_registration_is_404(client: TestClient, mailbox: Mailbox) -> None:
    started = start(client, email="siti@example.id")
    code = mailbox.last_code("siti@example.id")
    assert verify(client, started["registration_id"], code)[0] == 201
    status, body = verify(client, started["registration_id"], code)
    assert status == 404 and body["error"]["code"] == "registration_not_found"  # type: ignore[index]
    assert verify(client, "tidak-ada", "123456")[0] == 404
    assert verify(client, started["registration_id"], "12a456")[0] == 422


def test_email_and_phone_of_two_reporters_conflict(
    client: TestClient, mailbox: Mailbox, sms_gateway: SmsGateway
) -> None:
    register(client, mailbox, Person("Siti", "siti@example.id", ""))
    by_phone = start(client, phone="081299990004")
    verify(client, by_phone["registration_id"], sms_gateway.last_code("+6281299990004"))
    both = start(client, email="siti@example.id", phone="081299990004")
    status, body = verify(
        client, both["registration_id"], mailbox.last_code("siti@example.id"), sms_gateway.last_code("+6281299990004")
    )
    assert status == 409 and body["error"]["code"] == "identity_conflict"  # type: ignore[index]


def test_bad_tokens_are_401_and_a_staff_token_is_no_reporter_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer lpr_tidak-ada"}, {"Authorization": "Bearer staff-token-for-tests"}):
        response = client.get("/reporters/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_signed_out_token_no_longer_works(client: TestClient, citizen: Person) -> None:
    assert client.delete("/reporters/me/token", headers=citizen.auth).status_code == 204
    assert client.get("/reporters/me", headers=citizen.auth).status_code == 401


def test_expired_token_is_refused(client: TestClient, citizen: Person, api_clock: Clock) -> None:
    api_clock.advance(timedelta(days=181))
    assert client.get("/reporters/me", headers=citizen.auth).status_code == 401


def test_code_not_sent_is_503(settings: ApiTestSettings, db_engine: Engine) -> None:
    broken = create_app(settings.model_copy(update={"smtp_port": 1}), db=db_engine, run_dispatcher=False)
    with TestClient(broken) as other:
        response = other.post("/reporters/registrations", json={"name": "Siti", "email": "siti@example.id"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "code_not_sent"
    with session_scope(db_engine) as session:  # the failed registration left nothing: no row, no ledger claim
        assert (
            session.scalars(select(RegistrationCode)).all() == [] and session.scalars(select(Notification)).all() == []
        )


def test_codes_go_through_the_sent_once_ledger(
    client: TestClient, mailbox: Mailbox, sms_gateway: SmsGateway, db_engine: Engine
) -> None:
    started = start(client, email="siti@example.id", phone="081299990005")
    assert started["channels"] == ["email", "sms"]
    registration_id = started["registration_id"]
    with session_scope(db_engine) as session:
        rows = [
            (row.idempotency_key, row.channel, row.state, row.report_id, row.template)
            for row in session.scalars(select(Notification).order_by(Notification.id))
        ]
    assert rows == [
        (f"registration:{registration_id}:email", "email", "sent", None, "kode-verifikasi"),
        (f"registration:{registration_id}:phone", "sms", "sent", None, "kode-verifikasi"),
    ]
    codes = mailbox.last_code("siti@example.id"), sms_gateway.last_code("+6281299990005")
    assert verify(client, registration_id, *codes)[0] == 201


def test_a_channel_added_in_one_line_carries_the_phones_code(
    settings: ApiTestSettings, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_sms = settings.model_copy(update={"sms_gateway_url": None})
    body = {"name": "Siti", "phone": "081299990006"}
    with TestClient(create_app(without_sms, db=db_engine, run_dispatcher=False)) as client:
        assert client.post("/reporters/registrations", json=body).status_code == 503  # nothing reaches a phone
    push = PushChannel()
    monkeypatch.setattr(channels, "FACTORIES", (*channels.FACTORIES, lambda settings: push))  # the one line
    with TestClient(create_app(without_sms, db=db_engine, run_dispatcher=False)) as client:
        response = client.post("/reporters/registrations", json=body)
        assert response.status_code == 202 and response.json()["channels"] == ["sms"]
        [(to, text)] = push.sent
        code = re.search(r"\b([0-9]{6})\b", text)
        assert to == "+6281299990006" and code is not None
        assert verify(client, response.json()["registration_id"], code[1])[0] == 201


class TestRateLimits:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {
            "registration:identity": Limit(3, timedelta(hours=1)),
            "registration:ip": Limit(5, timedelta(hours=1)),
            "verification:registration": Limit(3, timedelta(minutes=10)),
        }

    def test_registration_per_identity_then_per_ip(self, client: TestClient, api_clock: Clock) -> None:
        for _ in range(3):
            start(client, email="siti@example.id")
        limited = client.post("/reporters/registrations", json={"name": "Siti", "email": "SITI@example.id"})
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) == 3600
        assert limited.json()["error"]["details"] == {"retry_after": 3600}
        start(client, email="andi@example.id")  # another identity from the same IP still gets through
        start(client, email="budi@example.id")  # the refused one did not count: this is the 5th of the hour
        assert (
            client.post("/reporters/registrations", json={"name": "Budi", "email": "b@example.id"}).status_code == 429
        )
        api_clock.advance(timedelta(minutes=61))
        start(client, email="siti@example.id")  # the window slid on

    def test_verification_per_registration(self, client: TestClient, mailbox: Mailbox) -> None:
        started = start(client, email="siti@example.id")
        code = mailbox.last_code("siti@example.id")
        for _ in range(3):
            assert verify(client, started["registration_id"], wrong(code))[0] == 400
        status, body = verify(client, started["registration_id"], code)
        assert status == 429 and body["error"]["code"] == "rate_limited"  # type: ignore[index]
