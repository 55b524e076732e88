"""The public feed and master data."""

import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from lapor.models import ReportStatus
from tests.api.conftest import REPORT_FIELDS, Person, image_bytes, set_status, submit


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


def test_feed_items_carry_a_small_photo_and_their_point(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    """The feed shows each report's first photo as a small copy under its own signature, and its point for the map;
    the small copy's link never opens the full photo, and a bare or changed link is refused."""
    big = [("photos", ("jalan.jpg", image_bytes(size=(1200, 900), color="gray"), "image/jpeg"))]
    fields = {**REPORT_FIELDS, "latitude": "-0.0335", "longitude": "109.3357"}
    created = client.post("/reports", data=fields, files=big, headers=citizen.auth)
    assert created.status_code == 201, created.text
    located = created.json()["tracking_id"]
    plain = submit(client, citizen)
    for tracking_id in (located, plain):
        set_status(db_engine, tracking_id, ReportStatus.PROSES)
    by_id = {item["tracking_id"]: item for item in client.get("/public/reports").json()["items"]}
    assert (by_id[located]["latitude"], by_id[located]["longitude"]) == (-0.0335, 109.3357)
    assert by_id[plain]["latitude"] is None
    url = by_id[located]["photo_url"]
    assert url and "/kecil?" in url
    small = client.get(url)
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(small.content)) as image:
        assert image.size == (320, 240)  # from 1200 x 900
    again = client.get(url)
    assert again.content == small.content  # made once, then read from its file
    full_path, query = url.split("/kecil?")
    assert client.get(f"{full_path}?{query}").status_code == 403  # the small copy's signature is its own
    assert client.get(url.split("?")[0]).status_code in (401, 403)
    tampered = url.replace("signature=", "signature=0")
    assert client.get(tampered).status_code == 403
