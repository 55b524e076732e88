"""lapor-return-national: the return reaches Admin Pusat; a refusal is a business outcome, an outage is retried."""

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from lapor import reports
from lapor.models import EventKind, ReportEvent, ReportStatus
from lapor.national import HttpNationalAdapter, NationalDeliveryError, NationalRefusedError
from lapor.process.tasks import BpmnError
from lapor.vocabulary import ErrorCode, Topic
from tests.support.servers import serving
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import TRACKING_ID, Installed, TaskFactory, add_report
from workers.national_return import return_to_national

NOTE = "Jalan nasional: kewenangan Balai Pelaksanaan Jalan Nasional."


class NationalLapor(ThreadingHTTPServer):
    """The national LAPOR! endpoint: answers with the status and body the test sets, keeps what it received."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 201
        self.answer: dict[str, Any] = {"reference": "SP4N-2026-884211"}
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/returns"


class _Handler(BaseHTTPRequestHandler):
    server: NationalLapor

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((dict(self.headers), body))
        payload = json.dumps(self.server.answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def national(installed: Installed) -> Iterator[NationalLapor]:
    with serving(NationalLapor()) as server:
        installed.use_national(HttpNationalAdapter(server.url, "national-token", timeout=5))
        yield server


def national_events(session_factory: SessionFactory) -> list[tuple[str, str | None]]:
    with session_factory() as session:
        query = select(ReportEvent).where(ReportEvent.kind == EventKind.NATIONAL_RETURN)
        return [(e.actor, e.detail) for e in session.scalars(query)]


def test_the_report_goes_back_to_admin_pusat_with_the_admins_reason(
    installed: Installed, national: NationalLapor, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    returned = task(Topic.RETURN_NATIONAL, verificationNote=NOTE)
    assert return_to_national(installed.deps, returned) == {"nationalReference": "SP4N-2026-884211"}
    return_to_national(installed.deps, returned)  # a retry is the same return: same idempotency key, one timeline entry

    headers, body = national.received[0]
    assert body == {"trackingId": TRACKING_ID, "reason": NOTE, "origin": "Pemerintah Kota Pontianak"}
    assert headers["Idempotency-Key"] == returned.id and headers["Authorization"] == "Bearer national-token"
    assert [h["Idempotency-Key"] for h, _ in national.received] == [returned.id, returned.id]
    assert national_events(session_factory) == [
        ("admin-pengaduan", f"Dikembalikan ke Admin Pusat. Ref: SP4N-2026-884211. {NOTE}")
    ]


def test_a_refusal_is_the_bpmn_error_the_model_catches(
    installed: Installed, national: NationalLapor, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    national.status = 422
    national.answer = {"message": "Laporan sudah ditangani oleh instansi pusat lain."}
    with pytest.raises(BpmnError) as raised:
        return_to_national(installed.deps, task(Topic.RETURN_NATIONAL, verificationNote=NOTE))
    assert raised.value.code == ErrorCode.NATIONAL_RETURN_REFUSED == "NATIONAL_RETURN_REFUSED"
    assert raised.value.message == (
        "Admin Pusat menolak pengembalian laporan: Laporan sudah ditangani oleh instansi pusat lain."
    )
    assert national_events(session_factory) == []
    with session_factory() as session:  # the model sends it back to verification; nothing changed here
        assert reports.get_by_tracking_id(session, TRACKING_ID).status == ReportStatus.BELUM_TERVERIFIKASI


@pytest.mark.parametrize("status", [503, 500, 429, 408, 401, 403])
def test_an_outage_a_not_now_or_our_credentials_are_technical_and_retried(
    installed: Installed, national: NationalLapor, session_factory: SessionFactory, task: TaskFactory, status: int
) -> None:
    add_report(session_factory)
    national.status = status
    national.answer = {"message": "coba lagi nanti"}
    with pytest.raises(NationalDeliveryError, match=str(status)):
        return_to_national(installed.deps, task(Topic.RETURN_NATIONAL))
    assert national_events(session_factory) == []


def test_an_unreachable_national_system_is_technical(installed: Installed, task: TaskFactory) -> None:
    installed.use_national(HttpNationalAdapter("http://127.0.0.1:9/returns", None, timeout=2))
    with pytest.raises(NationalDeliveryError, match="unreachable"):
        return_to_national(installed.deps, task(Topic.RETURN_NATIONAL))


def test_a_refusal_without_a_json_reason_names_the_http_status(national: NationalLapor) -> None:
    national.status = 404
    national.answer = {}
    with pytest.raises(NationalRefusedError) as raised:
        HttpNationalAdapter(national.url, None).return_report(tracking_id="x", reason="y", idempotency_key="z")
    assert (raised.value.status_code, raised.value.detail) == (404, "Not Found")


def test_without_a_national_endpoint_the_return_is_recorded_for_the_admin(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    assert return_to_national(installed.deps, task(Topic.RETURN_NATIONAL)) == {"nationalReference": ""}
    assert national_events(session_factory) == [
        ("admin-pengaduan", "Dikembalikan ke Admin Pusat. Ref: -. Bukan kewenangan Pemerintah Kota Pontianak")
    ]
