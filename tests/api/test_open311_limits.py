"""Open311 for anonymous clients at scale: the request list is paged, costs the same few statements for any page,
and is rate limited by address; service discovery and the token lookup answer as GeoReport v2 says."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from lapor import reports
from lapor.db import session_scope
from lapor.models import MessageKind, Photo, PhotoKind, ReportMessage, ReportStatus
from lapor.ratelimit import DEFAULT_LIMITS, Limit
from lapor.vocabulary import Actor
from tests.api.conftest import START, Person, submit
from tests.support.builders import report_row

V2 = "/open311/v2"


def _public_reports(db: Engine, count: int) -> list[str]:
    """`count` public reports, each with a photo and an OPD answer (what the list reads per item)."""
    tracking_ids = []
    with session_scope(db) as session:
        for n in range(count):
            at = START + timedelta(minutes=n)
            report = reports.insert_with_tracking_id(
                session,
                at,
                lambda tracking_id, n=n, at=at: report_row(
                    tracking_id, title=f"Jalan berlubang nomor {n}", status=ReportStatus.PROSES, created_at=at
                ),
            )
            session.flush()
            session.add(
                Photo(
                    report_id=report.id,
                    sha256=f"{n:064x}",
                    content_type="image/jpeg",
                    size_bytes=100,
                    kind=PhotoKind.REPORT.value,
                    created_at=at,
                )
            )
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author=Actor.OPD.value,
                    kind=MessageKind.OPD_RESPONSE.value,
                    text=f"Ditangani, jawaban {n}.",
                    created_at=at + timedelta(hours=1),
                )
            )
            tracking_ids.append(report.tracking_id)
    return tracking_ids


@contextmanager
def _statements(db: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(db, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", count)


def test_the_list_is_paged_and_costs_the_same_statements_for_any_page_size(
    client: TestClient, db_engine: Engine
) -> None:
    made = _public_reports(db_engine, 60)
    first = client.get(f"{V2}/requests.json")
    assert first.status_code == 200 and len(first.json()) == 50
    assert [r["service_request_id"] for r in first.json()] == made[::-1][:50]  # newest first
    second = client.get(f"{V2}/requests.json", params={"page": 2})
    assert [r["service_request_id"] for r in second.json()] == made[::-1][50:]
    item = first.json()[0]
    assert item["status_notes"].endswith("Ditangani, jawaban 59.") and item["media_url"].startswith("http")
    assert len(client.get(f"{V2}/requests.json", params={"page_size": 100}).json()) == 60
    too_many = client.get(f"{V2}/requests.json", params={"page_size": 101})
    assert too_many.status_code == 400 and too_many.json()[0]["code"] == 400
    with _statements(db_engine) as few:
        assert len(client.get(f"{V2}/requests.json", params={"page_size": 2}).json()) == 2
    with _statements(db_engine) as many:
        assert len(client.get(f"{V2}/requests.json", params={"page_size": 60}).json()) == 60
    assert len(many) == len(few), many  # no statement per item


class TestRateLimitedByAddress:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {**DEFAULT_LIMITS, "open311_list:ip": Limit(3, timedelta(minutes=10))}

    def test_the_fourth_list_in_ten_minutes_is_429_in_open311s_error_shape(self, client: TestClient) -> None:
        for _ in range(3):
            assert client.get(f"{V2}/requests.json").status_code == 200
        limited = client.get(f"{V2}/requests.json")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert limited.json()[0]["code"] == 429
        assert client.get(f"{V2}/services.json").status_code == 200  # the list alone is limited


def test_service_discovery(client: TestClient) -> None:
    document = client.get(f"{V2}/discovery.json")
    assert document.status_code == 200
    body = document.json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "test"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert "/daftar" in body["key_service"]
    xml = ET.fromstring(client.get(f"{V2}/discovery.xml").content)
    assert xml.tag == "discovery"
    assert [f.text for f in xml.findall("./endpoints/endpoint/formats/format")] == endpoint["formats"]


def test_a_token_is_the_public_service_request_id(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    (public,) = _public_reports(db_engine, 1)
    unverified = submit(client, citizen)
    answer = client.get(f"{V2}/tokens/{public}.json")
    assert answer.status_code == 200
    assert answer.json() == [{"service_request_id": public, "token": public}]
    for unknown in (unverified, "PTK-0000-AAAAAA"):
        missing = client.get(f"{V2}/tokens/{unknown}.json")
        assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    xml = ET.fromstring(client.get(f"{V2}/tokens/{public}.xml").content)
    assert xml.findtext("./request/service_request_id") == public
