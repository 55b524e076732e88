"""Anonim and rahasia never leak: not through any public endpoint, the feed, Open311, the engine or the logs."""

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lapor.db import session_scope
from lapor.models import OutboxMessage, ReportStatus
from tests.api.conftest import (
    NATIONAL_TOKEN,
    REPORT_FIELDS,
    STAFF_TOKEN,
    Mailbox,
    Person,
    SmsGateway,
    photo_files,
    set_status,
    sign_sms,
    submit,
)

NAMED = Person("Siti Rahmawati", "siti.rahmawati@example.id", "+6281299990001")  # one public report under her name
HIDDEN = Person("Dewi Kartikasari", "dewi.kartika@example.id", "+6281299990009")  # only anonymous/confidential ones
STAFF_ENTERED = {"name": "Rina Wulandari", "email": "rina.w@example.id", "phone": "+6281277770003"}
SMS_SENDER = "+6281266660004"
ADDRESS = REPORT_FIELDS["address"]


def variants(phone: str) -> list[str]:
    """A number as it may be written: +62812..., 62812..., 0812..."""
    national = "0" + phone.removeprefix("+62")
    return [phone, phone.removeprefix("+"), national, national[1:]]


def never_public() -> list[str]:
    secrets = [HIDDEN.name, HIDDEN.email, STAFF_ENTERED["name"], STAFF_ENTERED["email"], NAMED.email]
    for phone in (HIDDEN.phone, NAMED.phone, STAFF_ENTERED["phone"], SMS_SENDER):
        secrets += variants(phone)
    return secrets


def register_with_email_and_phone(client: TestClient, mailbox: Mailbox, gateway: SmsGateway, person: Person) -> Person:
    started = client.post(
        "/reporters/registrations", json={"name": person.name, "email": person.email, "phone": person.phone}
    ).json()
    assert started["channels"] == ["email", "sms"]
    verified = client.post(
        f"/reporters/registrations/{started['registration_id']}/verification",
        json={"code": mailbox.last_code(person.email), "sms_code": gateway.last_code(person.phone)},
    )
    person.token = verified.json()["access_token"]
    return Person(person.name, person.email, person.phone, person.token)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def test_nothing_personal_leaks(
    client: TestClient,
    mailbox: Mailbox,
    sms_gateway: SmsGateway,
    db_engine: Engine,
    logs: pytest.LogCaptureFixture,
) -> None:
    # Everything a reporter's data passes through: registration, submission, intake, tracking, replies.
    named = register_with_email_and_phone(client, mailbox, sms_gateway, NAMED)
    hidden = register_with_email_and_phone(client, mailbox, sms_gateway, HIDDEN)
    public_one = submit(client, named, photos=2, show_name=True)
    anonymous = submit(client, hidden, anonymous=True)
    confidential = submit(client, hidden, confidential=True)
    both = submit(client, hidden, anonymous=True, confidential=True)
    staff = client.post(
        "/intake/staff",
        data={
            **REPORT_FIELDS,
            "source": "tatap_muka",
            "anonymous": "true",
            "reporter_name": STAFF_ENTERED["name"],
            "reporter_email": STAFF_ENTERED["email"],
            "reporter_phone": STAFF_ENTERED["phone"],
        },
        files=photo_files(1),
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    ).json()["tracking_id"]
    sms_text = json.dumps({"message_id": "gw-77", "sender": SMS_SENDER, "text": "Jalan rusak di depan rumah"}).encode()
    sms = client.post("/intake/sms", content=sms_text, headers=sign_sms(sms_text)).json()["tracking_id"]
    national = client.post(
        "/intake/national",
        json={**REPORT_FIELDS, "national_id": "LAP-9"},
        headers={"Authorization": f"Bearer {NATIONAL_TOKEN}"},
    ).json()["tracking_id"]
    everything = [public_one, anonymous, confidential, both, staff, sms, national]
    for tracking_id in everything:
        set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI)
    for tracking_id in (anonymous, confidential):
        client.post(f"/reports/{tracking_id}/comments", json={"text": "Mohon segera."}, headers=hidden.auth)
    client.post(f"/reports/{anonymous}/confirmation", json={"accepted": False, "comment": "Belum"}, headers=hidden.auth)
    for tracking_id, person in ((public_one, named), (anonymous, hidden), (both, hidden)):
        owner = client.get(f"/reports/{tracking_id}", headers=person.auth).json()
        assert owner["reporter"]["email"] == person.email  # the owner does see it

    # Every public answer, as an anonymous visitor and as another registered reporter.
    public_answers: list[str] = []
    for headers in ({}, named.auth):
        for path in (
            "/public/reports?page_size=100",
            "/open311/v2/requests.json",
            "/open311/v2/services.json",
            *(f"/reports/{t}" for t in everything if t != public_one),
            *(f"/open311/v2/requests/{t}.json" for t in everything),
        ):
            response = client.get(path, headers=headers)
            assert response.status_code in (200, 404), (path, response.text)
            public_answers.append(response.text)
    feed = client.get("/public/reports?page_size=100").json()
    assert {i["tracking_id"] for i in feed["items"]} == {public_one, anonymous, staff, sms, national}
    assert {i["tracking_id"]: i["reporter_name"] for i in feed["items"]}[public_one] == NAMED.name
    for hidden_report in (confidential, both):
        assert client.get(f"/reports/{hidden_report}").status_code == 404
    for text in public_answers:
        for secret in never_public():
            assert secret not in text, f"{secret!r} leaked"

    # Nothing personal went towards the engine (process variables, message variables).
    with session_scope(db_engine) as session:
        payloads = json.dumps([m.payload for m in session.scalars(select(OutboxMessage))])
    for secret in [*never_public(), NAMED.name, ADDRESS, "Belum", "Mohon segera"]:
        assert secret not in payloads, f"{secret!r} in the outbox"

    # Nor into the logs: no names, addresses, e-mails or numbers, even of the named reporter.
    ours = [r for r in logs.records if not r.name.startswith("mail.log")]  # the test's SMTP server logs addresses
    assert any("report.submitted" in r.getMessage() for r in ours)  # the logs were captured
    logged = "\n".join(f"{r.getMessage()} {r.args} {r.exc_text or ''}" for r in ours)
    for secret in [*never_public(), NAMED.name, ADDRESS]:
        assert secret not in logged, f"{secret!r} logged"
