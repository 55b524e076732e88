"""The public feed and master data."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor.models import ReportStatus
from tests.api.conftest import Person, set_status, submit


def test_feed_shows_verified_non_confidential_reports_and_hides_anonymous_names(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    named = submit(client, citizen, title="Lampu jalan padam", show_name=True)
    anonymous = submit(client, citizen, anonymous=True)
    confidential = submit(client, citizen, confidential=True)
    unverified = submit(client, citizen)
    returned = submit(client, citizen)
    closed = submit(client, citizen)
    for tracking_id in (named, anonymous, confidential):
        set_status(db_engine, tracking_id, ReportStatus.PROSES)
    set_status(db_engine, returned, ReportStatus.DIKEMBALIKAN)
    set_status(db_engine, closed, ReportStatus.DITUTUP)
    page = client.get("/public/reports").json()
    assert page["total"] == 2
    by_id = {item["tracking_id"]: item for item in page["items"]}
    assert set(by_id) == {named, anonymous}
    assert by_id[named]["reporter_name"] == citizen.name
    assert by_id[anonymous]["reporter_name"] is None
    assert by_id[named]["status"] == {"code": "PROSES", "label": "Proses"}
    assert by_id[named]["kelurahan"] == {"code": "61.71.01.1002", "name": "Benua Melayu Laut"}
    assert unverified not in by_id and confidential not in by_id


def test_feed_pages_and_filters(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    ids = [submit(client, citizen, category=c) for c in ("JALAN", "JALAN", "SAMPAH")]
    for tracking_id in ids:
        set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI)
    first = client.get("/public/reports", params={"page_size": 2}).json()
    second = client.get("/public/reports", params={"page_size": 2, "page": 2}).json()
    assert first["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    assert client.get("/public/reports", params={"category": "SAMPAH"}).json()["total"] == 1
    assert client.get("/public/reports", params={"kecamatan": "61.71.02"}).json()["total"] == 0
    assert client.get("/public/reports", params={"status": "SELESAI"}).json()["total"] == 0
    bad = client.get("/public/reports", params={"page_size": 0})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_master_data(client: TestClient) -> None:
    categories = client.get("/public/categories").json()
    assert {"code": "JALAN", "name": "Jalan dan Jembatan"} in categories
    locations = client.get("/public/locations").json()
    assert len(locations) == 6
    assert sum(len(k["kelurahan"]) for k in locations) == 29
    # The city's spelling, the Kemendagri code (lapor/masterdata/SOURCES.md).
    kelurahan = [x for k in locations for x in k["kelurahan"]]
    assert {"code": "61.71.05.1001", "name": "Sungai Bangkong"} in kelurahan
    assert {"code": "61.71.03.1001", "name": "Pal Lima"} in kelurahan


def test_unknown_path_and_method_use_the_error_body(client: TestClient) -> None:
    missing = client.get("/tidak-ada")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = client.put("/public/reports")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
