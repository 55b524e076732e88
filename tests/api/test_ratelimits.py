"""Rate limits: the client's address from trusted proxies only, limits from the settings, refused work counts too."""

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import ip_network

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.__main__ import server_config
from api.deps import client_ip
from api.main import create_app
from lapor.ratelimit import Limit, limits_from, parse_limit
from tests.api.conftest import REPORT_FIELDS, ApiTestSettings, Clock, Person, photo_files, submit


def _register(client: TestClient, email: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = client.post("/reporters/registrations", json={"name": "Siti", "email": email}, headers=headers)
    return response.status_code


class TestClientAddress:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {"registration:ip": Limit(2, timedelta(hours=1))}

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self, app: FastAPI) -> None:
        with TestClient(app, client=("198.51.100.20", 40000)) as client:
            assert _register(client, "a@example.id", "203.0.113.1") == 202
            assert _register(client, "b@example.id", "203.0.113.2") == 202
            assert _register(client, "c@example.id", "203.0.113.3") == 429  # one peer, one bucket

    def test_each_client_behind_a_trusted_proxy_has_its_own_bucket(
        self, settings: ApiTestSettings, db_engine: Engine, api_clock: Clock, limits: dict[str, Limit]
    ) -> None:
        behind_proxy = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
        app = create_app(behind_proxy, db=db_engine, run_dispatcher=False, limits=limits, clock=api_clock)
        with TestClient(app, client=("10.0.0.5", 40000)) as proxy:
            assert _register(proxy, "a@example.id", "203.0.113.1") == 202
            assert _register(proxy, "b@example.id", "203.0.113.1") == 202
            assert _register(proxy, "c@example.id", "203.0.113.1") == 429
            assert _register(proxy, "d@example.id", "203.0.113.2") == 202  # another citizen, another bucket
            # A client cannot prepend an address of its own: the proxy's entry (the last one) counts.
            assert _register(proxy, "e@example.id", "192.0.2.9, 203.0.113.1") == 429


def test_client_ip_reads_forwarded_for_from_the_right() -> None:
    trusted = (ip_network("10.0.0.0/8"), ip_network("172.16.0.0/12"))
    assert client_ip("10.0.0.5", ["192.0.2.9, 203.0.113.1, 172.17.0.1"], trusted) == "203.0.113.1"
    assert client_ip("10.0.0.5", [], trusted) == "10.0.0.5"
    assert client_ip("203.0.113.1", ["192.0.2.9"], trusted) == "203.0.113.1"
    assert client_ip("127.0.0.1", ["192.0.2.9"], ()) == "127.0.0.1"  # none trusted by default


def test_limits_are_settings(settings: ApiTestSettings, db_engine: Engine, api_clock: Clock, citizen: Person) -> None:
    assert parse_limit("30/10m") == Limit(30, timedelta(minutes=10)) and parse_limit("off") is None
    with pytest.raises(ValueError, match="count"):
        parse_limit("30 per hour")
    assert limits_from(ApiTestSettings())["submission:ip"] == Limit(30, timedelta(hours=1))
    one_a_day = settings.model_copy(update={"rate_limit_submission_reporter": "1/24h"})
    app = create_app(one_a_day, db=db_engine, run_dispatcher=False, clock=api_clock)
    with TestClient(app) as client:
        submit(client, citizen)
        answer = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == str(24 * 3600)


class TestRefusedWorkCounts:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {"submission:reporter": Limit(3, timedelta(hours=1)), "submission:ip": Limit(3, timedelta(hours=1))}

    def test_refused_submissions_count_against_the_limit(self, client: TestClient, citizen: Person) -> None:
        unknown = client.post(
            "/reports", data={**REPORT_FIELDS, "category": "TIDAK_ADA"}, files=photo_files(1), headers=citizen.auth
        )
        assert unknown.status_code == 422
        broken = client.post(
            "/reports",
            data=REPORT_FIELDS,
            files=[("photos", ("x.jpg", b"bukan foto", "image/jpeg"))],
            headers=citizen.auth,
        )
        assert broken.status_code == 415
        submit(client, citizen)
        answer = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth)
        assert answer.status_code == 429  # two refused and one accepted used the three


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app behind real uvicorn on loopback, configured as `python -m api` configures it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


class TestServedOnLoopback:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {"registration:ip": Limit(2, timedelta(hours=1))}

    def test_a_loopback_peer_cannot_pick_its_address(self, served: str) -> None:
        statuses = [
            httpx.post(
                f"{served}/reporters/registrations",
                json={"name": "Siti", "email": f"s{i}@example.id"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(3)
        ]
        assert statuses == [202, 202, 429]
