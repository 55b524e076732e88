"""API test fixtures: the app on the migrated test database, a real SMTP server and SMS gateway for the codes."""

import hashlib
import hmac
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from api.main import create_app
from faults.topology import migrated_database
from lapor import reports
from lapor.db import session_scope
from lapor.models import EventKind, ReportStatus
from lapor.ratelimit import DEFAULT_LIMITS, Limit
from lapor.settings import Settings
from lapor.vocabulary import Actor
from tests.conftest import SLA_TOKEN, Mailbox
from tests.support.database import emptied
from tests.support.servers import serving

STAFF_TOKEN = "staff-token-for-tests"
NATIONAL_TOKEN = "national-token-for-tests"
SMS_SECRET = "sms-webhook-secret-for-tests"
SIGNING_KEY = "file-signing-key-for-tests"
START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # a Thursday, 10:00 in Pontianak

REPORT_FIELDS: dict[str, str] = {
    "title": "Jalan berlubang di depan SDN 12",
    "description": "Lubang besar di badan jalan, sudah dua minggu, membahayakan pengendara motor.",
    "incident_date": "2026-11-20",
    "category": "JALAN",
    "address": "Jl. Tanjungpura No. 1",
    "kecamatan": "61.71.01",
    "kelurahan": "61.71.01.1002",
    "report_type": "pengaduan",
}


class ApiTestSettings(Settings):
    """Settings with the API's credentials (the fields lapor.settings gains for the API)."""

    file_signing_key: str = SIGNING_KEY
    sms_webhook_secret: str = SMS_SECRET
    staff_api_tokens: str = f"{STAFF_TOKEN},second-staff-token"
    national_api_tokens: str = NATIONAL_TOKEN
    sla_api_tokens: str = SLA_TOKEN
    # The map's tiles never come from outside in a test: a closed loopback port (tests/web/test_map.py serves them).
    map_tile_url: str = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"


class Clock:
    """The API's wall clock, under the test's control."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


# -- an SMS gateway speaking real HTTP (the mail server is tests/conftest.py's Mailbox) ------------------------
class SmsGateway(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.sent: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"

    def last_code(self, phone: str) -> str:
        for sms in reversed(self.sent):
            if sms["to"] == phone and (found := re.search(r"Pontianak: (\d{6})", sms["message"])):
                return found.group(1)
        raise AssertionError(f"no code sent to {phone}")


class _GatewayHandler(BaseHTTPRequestHandler):
    server: SmsGateway

    def do_POST(self) -> None:
        self.server.sent.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def sms_gateway() -> Iterator[SmsGateway]:
    with serving(SmsGateway()) as server:
        yield server


# -- the app -------------------------------------------------------------------------------------------------------
@pytest.fixture
def db_engine(db_engine: Engine) -> Iterator[Engine]:
    """The suite's migrated database, emptied before every test."""
    yield emptied(db_engine)


@pytest.fixture
def settings(db_engine: Engine, mailbox: Mailbox, sms_gateway: SmsGateway, tmp_path: Path) -> ApiTestSettings:
    return ApiTestSettings(
        environment="test",
        database_url=db_engine.url.render_as_string(hide_password=False),
        smtp_port=mailbox.port,
        sms_gateway_url=sms_gateway.url,
        data_dir=tmp_path / "data",
        public_base_url="http://testserver",
    )


@pytest.fixture
def api_clock() -> Clock:
    """Not `clock`: that name is the engine's clock (tests/conftest.py)."""
    return Clock()


@pytest.fixture
def limits() -> dict[str, Limit]:
    return dict(DEFAULT_LIMITS)


@pytest.fixture
def app(settings: ApiTestSettings, db_engine: Engine, api_clock: Clock, limits: dict[str, Limit]) -> FastAPI:
    return create_app(settings, db=db_engine, run_dispatcher=False, limits=limits, clock=api_clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def postgres() -> Iterator[Engine]:
    """A private PostgreSQL with the migrated schema, one per test module: its row locks and unique checks make the
    races of the race tests real."""
    with migrated_database("lapor-api-races-", pool_size=40, max_overflow=10) as engine:
        yield engine


@pytest.fixture
def racing(postgres: Engine, settings: ApiTestSettings, api_clock: Clock) -> Iterator[TestClient]:
    """The API on `postgres`, emptied before each test, without rate limits."""
    emptied(postgres)
    on_postgres = settings.model_copy(update={"database_url": postgres.url.render_as_string(hide_password=False)})
    app = create_app(on_postgres, db=postgres, run_dispatcher=False, limits={}, clock=api_clock)
    with TestClient(app) as client:
        yield client


# -- helpers -------------------------------------------------------------------------------------------------------
def image_bytes(fmt: str = "JPEG", *, size: tuple[int, int] = (64, 48), color: str = "red", gps: bool = True) -> bytes:
    """A small image; by default with EXIF camera and GPS tags, as a phone would send it."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "KameraPonsel"  # Make
        exif[0x8825] = {1: "S", 2: (0.0, 1.0, 59.0), 3: "E", 4: (109.0, 20.0, 1.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def photo_files(count: int = 1, fmt: str = "JPEG") -> list[tuple[str, tuple[str, bytes, str]]]:
    colors = ["red", "green", "blue", "yellow", "white", "black", "gray"]
    return [
        ("photos", (f"foto{i}.jpg", image_bytes(fmt, color=colors[i % len(colors)]), "image/jpeg"))
        for i in range(count)
    ]


@dataclass
class Person:
    name: str
    email: str
    phone: str
    token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(client: TestClient, mailbox: Mailbox, person: Person) -> Person:
    started = client.post("/reporters/registrations", json={"name": person.name, "email": person.email})
    assert started.status_code == 202, started.text
    code = mailbox.last_code(person.email)
    verified = client.post(
        f"/reporters/registrations/{started.json()['registration_id']}/verification", json={"code": code}
    )
    assert verified.status_code == 201, verified.text
    person.token = verified.json()["access_token"]
    return person


def submit(client: TestClient, person: Person, photos: int = 1, **fields: Any) -> str:
    data = {**REPORT_FIELDS, **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}}
    response = client.post("/reports", data=data, files=photo_files(photos), headers=person.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_id"])


def set_status(
    db: Engine, tracking_id: str, status: ReportStatus, *, at: datetime = START, actor: Actor = Actor.SISTEM
) -> None:
    """What the lapor-status worker does when the process moves on."""
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        reports.record_event(
            session, report=report, kind=EventKind.STATUS, actor=actor, at=at, task_id=None, status=status
        )


def sign_sms(body: bytes, secret: str = SMS_SECRET) -> dict[str, str]:
    return {
        "X-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


@pytest.fixture
def citizen(client: TestClient, mailbox: Mailbox) -> Person:
    return register(client, mailbox, Person("Siti Rahmawati", "siti.rahmawati@example.id", "+6281299990001"))


@pytest.fixture
def other_citizen(client: TestClient, mailbox: Mailbox) -> Person:
    return register(client, mailbox, Person("Andi Pratama", "andi.pratama@example.id", "+6281299990002"))
