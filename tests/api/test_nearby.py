"""Nearby reports before submitting, and "Saya juga mengalami": who sees what, and support/follow once."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lapor import reports, signed_links
from lapor.db import session_scope
from lapor.models import ReportFollower, ReportStatus, ReportSupport
from lapor.ratelimit import Limit
from tests.api.conftest import START, ApiTestSettings, Person, set_status, submit

HERE = (-0.0263, 109.3425)
METRE = 1 / 111_320  # of latitude, in degrees


def near(metres: float) -> dict[str, float]:
    """A point `metres` north of HERE, as submit() sends it."""
    return {"latitude": round(HERE[0] + metres * METRE, 6), "longitude": HERE[1]}


def public(
    client: TestClient, person: Person, db: Engine, status: ReportStatus = ReportStatus.PROSES, **fields: object
) -> str:
    tracking_id = submit(client, person, **fields)
    set_status(db, tracking_id, status)
    return tracking_id


def ask(client: TestClient, **params: object) -> dict:
    answer = client.get("/reports/nearby", params={"category": "JALAN", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_only_open_public_reports_of_the_category_within_the_radius_are_suggested(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    close = public(client, citizen, db_engine, title="Lubang 60 m", anonymous=True, **near(60))
    far = public(client, citizen, db_engine, **near(400))
    other_category = public(client, citizen, db_engine, category="SAMPAH", **near(20))
    confidential = public(client, citizen, db_engine, confidential=True, **near(30))
    finished = public(client, citizen, db_engine, ReportStatus.SELESAI, **near(40))
    closed = public(client, citizen, db_engine, ReportStatus.DITUTUP, **near(45))
    unverified = submit(client, citizen, **near(50))
    named = public(client, citizen, db_engine, show_name=True, **near(100))

    found = ask(client, lat=HERE[0], lon=HERE[1])
    assert found["searched_by"] == "point" and found["radius_m"] == 150
    assert [item["tracking_id"] for item in found["items"]] == [close, named]
    item = found["items"][0]
    assert item["title"] == "Lubang 60 m" and 58 <= item["distance_m"] <= 62
    assert item["status"] == {"code": "PROSES", "label": "Proses"}
    assert item["support_count"] == 0 and item["report_url"].endswith(f"/lacak/{close}")
    # Nobody is named, not even who chose to show their name on the feed.
    assert all("reporter" not in key for entry in found["items"] for key in entry)
    assert citizen.name not in str(found)
    photo = client.get(item["photo_url"].removeprefix("http://testserver"))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    for hidden in (far, other_category, confidential, finished, closed, unverified):
        assert hidden not in str(found)


def test_without_coordinates_the_kelurahan_decides(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    same = public(client, citizen, db_engine)
    public(client, citizen, db_engine, kecamatan="61.71.02", kelurahan="61.71.02.1001")
    found = ask(client, kelurahan="61.71.01.1002")
    assert found["searched_by"] == "kelurahan" and found["radius_m"] is None
    assert [(i["tracking_id"], i["distance_m"]) for i in found["items"]] == [(same, None)]
    assert ask(client)["items"] == []


def test_hostile_queries_are_refused(client: TestClient) -> None:
    for params in ({"lat": 5.0, "lon": 109.3}, {"lat": "x", "lon": 109.3}, {"limit": 500}, {"category": "<b>"}):
        answer = client.get("/reports/nearby", params={"category": "JALAN", **params})
        assert answer.status_code == 422, answer.text
    assert client.get("/reports/nearby").status_code == 422  # the category is required


@pytest.fixture
def limits() -> dict[str, Limit]:
    return {"nearby:ip": Limit(3, timedelta(minutes=10))}


def test_the_search_is_rate_limited(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/reports/nearby", params={"category": "JALAN"}).status_code == 200
    limited = client.get("/reports/nearby", params={"category": "JALAN"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def _rows(db: Engine, model: type) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_support_once_follow_and_stop(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    tracking_id = public(client, citizen, db_engine, **near(60))
    first = client.post(f"/reports/{tracking_id}/support", headers=other_citizen.auth)
    assert first.status_code == 200, first.text
    assert first.json() | {"message": ""} == {
        "tracking_id": tracking_id,
        "support_count": 1,
        "supporting": True,
        "following": True,
        "message": "",
    }
    again = client.post(f"/reports/{tracking_id}/support", headers=other_citizen.auth)
    assert again.status_code == 200 and again.json()["support_count"] == 1
    assert _rows(db_engine, ReportSupport) == 1 and _rows(db_engine, ReportFollower) == 1
    assert ask(client, lat=HERE[0], lon=HERE[1])["items"][0]["support_count"] == 1
    assert client.get("/public/reports").json()["items"][0]["support_count"] == 1
    assert client.get(f"/reports/{tracking_id}").json()["support_count"] == 1

    stopped = client.delete(f"/reports/{tracking_id}/follow", headers=other_citizen.auth)
    assert stopped.status_code == 200 and stopped.json()["following"] is False
    assert stopped.json()["supporting"] is True and _rows(db_engine, ReportFollower) == 0
    followed = client.put(f"/reports/{tracking_id}/follow", headers=other_citizen.auth)
    assert followed.status_code == 200 and followed.json()["following"] is True


def test_hostile_support(client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine) -> None:
    own = public(client, citizen, db_engine)
    confidential = public(client, citizen, db_engine, confidential=True)
    unverified = submit(client, citizen)

    assert client.post(f"/reports/{own}/support").status_code == 401
    assert client.put(f"/reports/{own}/follow").status_code == 401
    refused = client.post(f"/reports/{own}/support", headers=citizen.auth)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "own_report"
    assert "laporan Anda sendiri" in refused.json()["error"]["message"]
    for hidden in (confidential, unverified, "PTK-0000-TIDAKADA"):
        for method, action in (("POST", "support"), ("PUT", "follow")):
            answer = client.request(method, f"/reports/{hidden}/{action}", headers=other_citizen.auth)
            assert answer.status_code == 404, (hidden, answer.text)
    assert _rows(db_engine, ReportSupport) == 0 and _rows(db_engine, ReportFollower) == 0


def test_staff_see_how_many_citizens_support_a_report_and_never_who(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = public(client, citizen, db_engine)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        link = signed_links.report_summary_url(report, START + timedelta(days=30), "", settings=settings)
    assert "<dt>Dukungan warga</dt><dd>Belum ada</dd>" in client.get(link).text
    client.post(f"/reports/{tracking_id}/support", headers=other_citizen.auth)
    page = client.get(link).text
    assert "<dt>Dukungan warga</dt><dd>1 warga juga mengalami</dd>" in page
    assert other_citizen.name not in page and other_citizen.email not in page
