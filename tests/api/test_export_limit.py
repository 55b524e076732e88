"""The export of a reporter's data builds a ZIP with every photo of every report: it is limited per reporter
(`LAPOR_RATE_LIMIT_EXPORT_REPORTER`), whoever asks for it (the API, Data saya, the front desk). From the hostile
side: the limit holds for sequential and parallel downloads, a refusal is a 429 in the API's error shape that
collects nothing, reads no photo and records no export, another reporter keeps their own downloads, and the window
frees again."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.web.session import SESSION_COOKIE
from lapor import personal_data
from lapor.db import session_scope
from lapor.models import ReporterAuditEntry
from lapor.ratelimit import Limit
from lapor.settings import Settings
from tests.api.conftest import Clock, Person, submit
from tests.api.test_personal_data import as_staff
from tests.web.conftest import csrf_of, text_of

TWO_AN_HOUR = Limit(2, timedelta(hours=1))


@pytest.fixture
def limits() -> dict[str, Limit]:
    return {"export:reporter": TWO_AN_HOUR}


@pytest.fixture
def collected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The reporter id of every collection of personal data (the work a refusal must not do)."""
    calls: list[int] = []
    collect: Callable[..., Any] = personal_data.collect

    def counting(session: Any, reporter: Any, **kwargs: Any) -> Any:
        calls.append(reporter.id)
        return collect(session, reporter, **kwargs)

    monkeypatch.setattr(personal_data, "collect", counting)
    return calls


def exports(db: Engine) -> int:
    with session_scope(db) as session:
        query = select(func.count()).where(ReporterAuditEntry.action == "data_exported")
        return session.scalar(query) or 0


def test_the_default_is_a_few_an_hour_and_a_setting() -> None:
    assert Settings(_env_file=None).rate_limit_export_reporter == "3/1h"


def test_the_api_refuses_a_third_download_within_the_hour_before_collecting_anything(
    client: TestClient,
    db_engine: Engine,
    api_clock: Clock,
    citizen: Person,
    other_citizen: Person,
    collected: list[int],
) -> None:
    submit(client, citizen, photos=2)
    assert [client.get("/reporters/me/data", headers=citizen.auth).status_code for _ in range(2)] == [200, 200]
    assert len(collected) == 2 and exports(db_engine) == 2
    for _ in range(5):  # hammering: each refusal is cheap and none counts
        api_clock.advance(timedelta(minutes=1))
        refused = client.get("/reporters/me/data", headers=citizen.auth)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/json")
        body = refused.json()["error"]
        assert body["code"] == "rate_limited"
        assert body["details"] == {"retry_after": int(refused.headers["Retry-After"])}
        assert "sudah diunduh 2 kali dalam 1 jam terakhir" in body["message"]
    assert int(refused.headers["Retry-After"]) == 55 * 60  # from the first download, not moved by the refusals
    assert len(collected) == 2 and exports(db_engine) == 2  # nothing collected, nothing recorded
    # Another reporter's downloads are theirs.
    assert client.get("/reporters/me/data", headers=other_citizen.auth).status_code == 200
    # The window frees an hour after the two downloads.
    api_clock.advance(timedelta(minutes=55))
    assert [client.get("/reporters/me/data", headers=citizen.auth).status_code for _ in range(3)] == [200, 200, 429]


class TestParallel:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        # One: two parallel exports that both may go are the reporter chain's own matter (its row lock, PostgreSQL).
        return {"export:reporter": Limit(1, timedelta(hours=1))}

    def test_parallel_downloads_are_counted_one_after_the_other(
        self, app: FastAPI, db_engine: Engine, citizen: Person, collected: list[int]
    ) -> None:
        def download(_: int) -> int:
            with TestClient(app) as parallel:
                return parallel.get("/reporters/me/data", headers=citizen.auth).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(pool.map(download, range(6)))
        assert statuses == [200, 429, 429, 429, 429, 429]
        assert len(collected) == 1 and exports(db_engine) == 1


def test_the_page_and_the_front_desk_share_the_reporters_limit(
    client: TestClient, app: FastAPI, db_engine: Engine, citizen: Person, collected: list[int]
) -> None:
    client.cookies.set(SESSION_COOKIE, citizen.token)
    csrf = csrf_of(client.get("/data-saya").text)
    assert client.post("/data-saya/unduh", data={"csrf": csrf}).status_code == 200
    assert client.get("/reporters/me/data", headers=citizen.auth).status_code == 200
    refused = client.post("/data-saya/unduh", data={"csrf": csrf})
    assert refused.status_code == 429 and refused.headers["content-type"].startswith("text/html")
    words = text_of(refused.text)
    assert "Data saya" in words and "Unduh data saya (ZIP)" in words and refused.headers["retry-after"]
    assert "Data ini sudah diunduh 2 kali dalam 1 jam terakhir (batas untuk setiap pelapor)" in words
    assert "coba lagi dalam 60 menit" in words
    # The front desk exports the same reporter's data: the same ZIP, the same limit.
    client.cookies.clear()
    as_staff(client, app, "admin-pengaduan", ("admin-pengaduan",))
    desk = client.get("/staf/data-pelapor")
    found = client.post("/staf/data-pelapor", data={"csrf": csrf_of(desk.text), "email": citizen.email, "phone": ""})
    assert found.status_code == 200
    ref = found.text.split('name="reporter" value="', 1)[1].split('"', 1)[0]
    refused = client.post("/staf/data-pelapor/unduh", data={"csrf": csrf_of(found.text), "reporter": ref})
    assert refused.status_code == 429 and "Data ini sudah diunduh 2 kali" in text_of(refused.text)
    # Collected for the two downloads and the pages that show the data (Data saya, its refusal, which shows Data saya
    # again as a reload of it would, and the search); never a ZIP nor an export record for a refusal.
    assert exports(db_engine) == 2 and len(collected) == 5


def test_the_openapi_document_states_the_429(client: TestClient) -> None:
    answers = client.get("/openapi.json").json()["paths"]["/reporters/me/data"]["get"]["responses"]
    assert answers["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "application/zip" in answers["200"]["content"]
