"""Shared fixtures: the real Operaton engine (started once per session), its REST API as administrator, the
database from the migrations, and `eventually` for what happens asynchronously (workers, dispatchers)."""

import asyncio
import io
import itertools
import json
import os
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from PIL import Image
from sqlalchemy import Engine, text

from engine import EngineError, LocalEngine, port_for_tests
from lapor.db import Base, make_engine
from lapor.deploy import deploy_directory
from lapor.logging import configure_logging
from lapor.migrate import upgrade
from lapor.national import HttpNationalAdapter
from lapor.notifications.channels import Contact
from lapor.notifications.templates import RenderedMessage
from lapor.process import EngineClient
from lapor.process.codec import File
from lapor.process.identity import provision
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT, identity_plan
from lapor.settings import Settings
from tests.support.servers import serving
from workers.deps import Deps
from workers.main import build_worker

configure_logging(log_format="console", level=os.environ.get("LAPOR_LOG_LEVEL", "WARNING"))

T = TypeVar("T")
ADMIN = ("admin", "admin")
# The dependencies of workers that poll the test engine for the whole session (`lapor_process`).
SESSION_WORKER_DEPS: list[Deps] = []


def started_engine(data_dir: Path, *, port: int, name: str, extra_env: dict[str, str] | None = None) -> LocalEngine:
    """A real engine on in-memory H2, started; a start failure fails the tests, it never skips them."""
    local = LocalEngine(
        data_dir=data_dir,
        port=port,
        database_url=f"jdbc:h2:mem:lapor-{name}-{os.getpid()};DB_CLOSE_DELAY=-1",
        job_max_wait_ms=500,
        extra_env=extra_env or {},
    )
    try:
        local.start()
    except EngineError as err:
        pytest.fail(f"The Operaton engine could not start, so the engine tests cannot run:\n{err}", pytrace=False)
    return local


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """The session's engine, which every engine test shares."""
    local = started_engine(
        tmp_path_factory.mktemp("engine"),
        port=port_for_tests(),
        name="test",
        # Tasklist admits images (the proof photo) from the API's address; the walk serves the API there.
        # Cockpit's SLA view (SlaController) reads the API served there, with the token the API tests configure.
        extra_env={"LAPOR_PUBLIC_BASE_URL": WEB_URL, "LAPOR_API_URL": WEB_URL, "LAPOR_SLA_API_TOKEN": SLA_TOKEN},
    )
    yield local
    local.stop()


@pytest.fixture(scope="session")
def operaton(engine: LocalEngine) -> Iterator[EngineClient]:
    """The engine's REST API as its administrator (what a supervisor or a test needs to look at everything)."""
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
        yield client


@pytest.fixture(scope="session")
def provisioned(operaton: EngineClient) -> Settings:
    """bpmn/ deployed and the roles provisioned, as `python -m lapor.deploy` does; the settings it used."""
    settings = Settings(engine_url=operaton.base_url)
    provision(operaton, identity_plan(settings), admin_password=ADMIN[1])
    deploy_directory(operaton)
    return settings


# Where a test serves the API and citizen page for the engine's webapps to link to (tests/webapps/test_walk.py).
WEB_PORT = port_for_tests() - 80  # 18000, beside the test engine's 18080
WEB_URL = f"http://127.0.0.1:{WEB_PORT}"
# The token of the API's SLA view that the test engine's SlaController sends (tests/api/conftest.py configures it).
SLA_TOKEN = "sla-token-for-tests"


def proof_photo(seed: int | None = None) -> File:
    """A new JPEG each call (a photo from the site), as Tasklist's embedded form sends it: the File variable the
    engine's ProofPhotoCheck wants on "Laporkan penyelesaian"."""
    value = seed if seed is not None else next(_PHOTO_SEEDS)
    image = Image.new("RGB", (80, 60), (value % 251, (value * 7) % 253, (value * 13) % 241))
    image.putpixel((value % 80, (value // 80) % 60), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return File(out.getvalue(), f"bukti-{value}.jpg", "image/jpeg")


_PHOTO_SEEDS = itertools.count(int.from_bytes(os.urandom(2)))


def login(engine: LocalEngine, user: str, password: str | None = None) -> EngineClient:
    """A client logged in as someone (the local role logins have their user id as password)."""
    return EngineClient(engine.rest_url, user=user, password=password or user)


@pytest.fixture(scope="session")
def db_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The schema from the Alembic migrations: PostgreSQL in CI (LAPOR_TEST_DATABASE_URL), SQLite otherwise."""
    url = os.environ.get("LAPOR_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the suite on PostgreSQL: LAPOR_TEST_DATABASE_URL is not set", pytrace=False)
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lapor.db'}"
    else:
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    upgrade(url)
    return make_engine(url)


async def eventually(probe: Callable[[], T | None], *, within: float = 30.0, interval: float = 0.2) -> T:
    """Poll until the probe returns something truthy (workers and dispatchers run beside the test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await asyncio.to_thread(probe)
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {getattr(probe, '__name__', probe)}")
        await asyncio.sleep(interval)


# -- a real SMTP server --------------------------------------------------------------------------------------
@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or b""))
        return "250 OK"

    def to(self, address: str, tracking_id: str | None = None) -> list[Message]:
        found = [m for m in self.messages if address in str(m["To"])]
        return [m for m in found if tracking_id is None or tracking_id in body_of(m)]

    def last_code(self, address: str) -> str:
        """The newest registration code mailed to this address."""
        for message in reversed(self.messages):
            if address in str(message["To"]):
                found = re.search(r"Kode verifikasi Anda: (\d{6})", body_of(message))
                if found:
                    return found.group(1)
        raise AssertionError(f"no code mailed to {address}")


@dataclass
class PushChannel:
    """A test-only channel (lapor.notifications.channels.Channel): a push notice to the app signed in with the
    recipient's phone number; it keeps what it would send. Tests add it with one line to `channels.FACTORIES`."""

    name: str = "push"
    label: str = "notifikasi aplikasi"
    contact: Contact = Contact.PHONE
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, message: RenderedMessage) -> None:
        self.sent.append((to, message.sms))


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.port = free_port()  # aiosmtpd needs a concrete port
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# -- a stand-in for the national LAPOR! endpoint, speaking real HTTP ------------------------------------------
@dataclass
class NationalInbox:
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    refuse: set[str] = field(default_factory=set)  # tracking ids Admin Pusat refuses (422)


@pytest.fixture(scope="session")
def national_inbox() -> Iterator[NationalInbox]:
    inbox = NationalInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            inbox.received.append({"body": body, "idempotency_key": self.headers["Idempotency-Key"]})
            refused = body.get("trackingId") in inbox.refuse
            answer = json.dumps(
                {"error": "bukan laporan daerah"} if refused else {"reference": f"PUSAT-{len(inbox.received)}"}
            ).encode()
            self.send_response(422 if refused else 201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(HTTPServer(("127.0.0.1", 0), Handler)) as server:
        inbox.url = f"http://127.0.0.1:{server.server_port}/returns"
        yield inbox


# -- the workers, in this process, against the test database ------------------------------------------------
@pytest.fixture(scope="session")
def worker_deps(
    db_engine: Engine, mailbox: Mailbox, national_inbox: NationalInbox, tmp_path_factory: pytest.TempPathFactory
) -> Deps:
    settings = Settings(
        database_url=db_engine.url.render_as_string(hide_password=False),
        smtp_port=mailbox.port,
        national_lapor_url=national_inbox.url,
        data_dir=tmp_path_factory.mktemp("data"),
    )
    deps = Deps.from_settings(settings)
    deps.db = db_engine
    deps.national = HttpNationalAdapter(national_inbox.url, token="test-token")
    return deps  # the handlers of `lapor_process` are bound to it: a test may swap its parts (a failing channel)


@pytest.fixture(scope="session")
async def lapor_process(engine: LocalEngine, provisioned: Settings, worker_deps: Deps) -> AsyncIterator[EngineClient]:
    """bpmn/ deployed, roles provisioned, the workers polling as svc-workers; yields the API's client (svc-api)."""
    settings = provisioned.model_copy(
        update={
            "engine_user": WORKERS_ACCOUNT,
            "engine_password": provisioned.worker_engine_password,
            "worker_long_poll_seconds": 5,
        }
    )
    worker = build_worker(settings, worker_deps)
    # The handlers' own engine login (the proof photo's bytes, who made a disposition), as the worker process has.
    worker_deps.engine = login(engine, WORKERS_ACCOUNT, provisioned.worker_engine_password)
    stop = asyncio.Event()
    work = asyncio.create_task(worker.run(stop))
    SESSION_WORKER_DEPS.append(worker_deps)  # tests/api/test_engine.py workers_on points them at a test's stack
    api = login(engine, API_ACCOUNT, provisioned.api_engine_password)
    yield api
    SESSION_WORKER_DEPS.remove(worker_deps)
    stop.set()
    await work
    api.close()
    worker_deps.engine.close()
