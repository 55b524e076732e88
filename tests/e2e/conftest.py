"""The LAPOR! process on the real engine: database, mail server, national endpoint and workers, all real."""

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pyzeebe import ZeebeClient
from sqlalchemy import Engine, select

from engine import LocalEngine
from lapor import reports
from lapor.camunda import CamundaRest
from lapor.db import session_scope
from lapor.models import Report, Reporter, ReportEvent
from lapor.national import HttpNationalAdapter
from lapor.notifications.channels import EmailChannel
from lapor.settings import Settings
from lapor.zeebe import deploy_directory
from tests.conftest import EngineClock, eventually
from workers.deps import Deps, use
from workers.main import build_worker

REPORTER = {"name": "Budi Santoso", "email": "budi.santoso@example.id", "phone": "+6281234567890"}


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


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# -- a stand-in for the national LAPOR! endpoint, speaking real HTTP ------------------------------------------
@dataclass
class NationalInbox:
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture(scope="session")
def national_inbox() -> Iterator[NationalInbox]:
    inbox = NationalInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            inbox.received.append({"body": body, "idempotency_key": self.headers["Idempotency-Key"]})
            answer = json.dumps({"reference": f"PUSAT-{len(inbox.received)}"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_port}/returns"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield inbox
    server.shutdown()


# -- the workers, in this process, against the test database ------------------------------------------------
@pytest.fixture(scope="session")
def worker_deps(db_engine: Engine, mailbox: Mailbox, national_inbox: NationalInbox, tmp_path_factory: Any) -> Deps:
    settings = Settings(
        database_url=str(db_engine.url),
        smtp_port=mailbox.port,
        national_lapor_url=national_inbox.url,
        data_dir=tmp_path_factory.mktemp("data"),
    )
    deps = Deps.from_settings(settings)
    deps.db = db_engine
    deps.national = HttpNationalAdapter(national_inbox.url, token="test-token")
    use(deps)
    return deps


@pytest.fixture(scope="session")
async def lapor_process(
    engine: LocalEngine, zeebe: ZeebeClient, worker_deps: Deps, clock: EngineClock
) -> AsyncIterator[ZeebeClient]:
    """bpmn/ deployed and the workers polling; yields the gRPC client."""
    await deploy_directory(engine.grpc_address)
    worker = build_worker(engine.grpc_address)
    work = asyncio.create_task(worker.work())
    yield zeebe
    await worker.stop()
    await work


# -- helpers the tests share -----------------------------------------------------------------------------------
@dataclass
class Submitted:
    tracking_id: str
    process_instance_key: int


async def submit(
    zeebe: ZeebeClient,
    deps: Deps,
    clock: EngineClock,
    *,
    category: str = "JALAN",
    kecamatan: str = "61.71.01",
    kelurahan: str = "61.71.01.1002",
    anonymous: bool = False,
) -> Submitted:
    """What the API does on submission: commit the report, then start its process instance."""
    with session_scope(deps.db) as session:
        reporter = session.scalar(select(Reporter).where(Reporter.email == REPORTER["email"]))
        if reporter is None:
            reporter = Reporter(**REPORTER, verified_at=clock.now, created_at=clock.now)
            session.add(reporter)
            session.flush()
        report = reports.create(
            session,
            data=reports.NewReport(
                title="Jalan berlubang",
                description="Lubang besar di depan sekolah, membahayakan pengendara motor.",
                category=category,
                kecamatan_code=kecamatan,
                kelurahan_code=kelurahan,
                address="Jl. Tanjungpura No. 1",
                anonymous=anonymous,
            ),
            reporter=reporter,
            channel="web",
            now=clock.now,
        )
        variables = reports.process_variables(report, photo_count=1)
    instance = await zeebe.run_process(reports.PROCESS_ID, variables=variables)
    with session_scope(deps.db) as session:
        reports.get_by_tracking_id(session, report.tracking_id).process_instance_key = instance.process_instance_key
    return Submitted(report.tracking_id, instance.process_instance_key)


_completed: set[str] = set()  # Tasklist shows a completed task as open until it has imported the completion


async def open_task(camunda: CamundaRest, instance: Submitted, element_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        tasks = camunda.user_tasks(state="CREATED", processInstanceKey=instance.process_instance_key)
        return next((t for t in tasks if t["taskDefinitionId"] == element_id and t["id"] not in _completed), None)

    try:
        return await eventually(probe)
    except AssertionError as err:
        raise AssertionError(f"no open {element_id}; {where_is(camunda, instance)}") from err


def where_is(camunda: CamundaRest, instance: Submitted) -> str:
    """Active elements and incidents of an instance, for failure messages."""
    key = instance.process_instance_key
    active = [
        n["flowNodeId"]
        for n in camunda.operate_search("flownode-instances", processInstanceKey=key)
        if n["state"] != "COMPLETED"
    ]
    incidents = [f"{i['type']}: {i['message']}" for i in camunda.operate_search("incidents", processInstanceKey=key)]
    return f"active: {active}, incidents: {incidents}"


async def complete_task(
    camunda: CamundaRest, instance: Submitted, element_id: str, variables: dict[str, Any]
) -> dict[str, Any]:
    task = await open_task(camunda, instance, element_id)
    camunda.complete_user_task(task["id"], variables)
    _completed.add(task["id"])
    return task


async def reached(camunda: CamundaRest, instance: Submitted, element_id: str) -> None:
    """Wait until the instance has completed the given element (an end event, a task, a timer)."""

    def probe() -> bool:
        nodes = camunda.operate_search(
            "flownode-instances", processInstanceKey=instance.process_instance_key, flowNodeId=element_id
        )
        return any(n["state"] == "COMPLETED" for n in nodes)

    try:
        await eventually(probe)
    except AssertionError as err:
        raise AssertionError(f"{element_id} not reached; {where_is(camunda, instance)}") from err


def report_row(deps: Deps, instance: Submitted) -> Report:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        session.expunge(report)
        return report


def timeline(deps: Deps, instance: Submitted) -> list[ReportEvent]:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        events = list(session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)))
        session.expunge_all()
        return events


async def status_becomes(deps: Deps, instance: Submitted, status: str) -> Report:
    return await eventually(lambda: ((r := report_row(deps, instance)).status == status and r) or None)


def email_channel_to(port: int) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=port, sender="LAPOR! Pontianak <noreply@pontianak.go.id>")
