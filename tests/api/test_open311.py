"""Open311 GeoReport v2 over the same reports, with the feed's privacy rules."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor import reports
from lapor.db import session_scope
from lapor.models import MessageAuthor, MessageKind, ReportMessage, ReportStatus
from tests.api.conftest import STAFF_TOKEN, START, Person, image_bytes, set_status, submit

V2 = "/open311/v2"


def test_services_are_the_categories(client: TestClient) -> None:
    services = client.get(f"{V2}/services.json").json()
    jalan = next(s for s in services if s["service_code"] == "JALAN")
    assert jalan["service_name"] == "Jalan dan Jembatan" and jalan["metadata"] is True and jalan["type"] == "batch"
    definition = client.get(f"{V2}/services/JALAN.json").json()
    [kelurahan] = definition["attributes"]
    assert kelurahan["code"] == "kelurahan" and kelurahan["required"] is True and len(kelurahan["values"]) == 29
    missing = client.get(f"{V2}/services/TIDAK_ADA.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_code tidak dikenal."}]


def test_requests_map_public_reports_to_georeport_fields(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen, latitude="-0.0263", longitude="109.3425")
    hidden = submit(client, citizen, confidential=True)
    unverified = submit(client, citizen)
    done = submit(client, citizen)
    for public in (tracking_id, hidden):
        set_status(db_engine, public, ReportStatus.PROSES)
    set_status(db_engine, done, ReportStatus.SELESAI)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        report.opd_code = "PUPR"
        session.add(
            ReportMessage(
                report_id=report.id,
                author=MessageAuthor.OPD.value,
                kind=MessageKind.OPD_RESPONSE.value,
                text="Sedang ditambal.",
                created_at=START + timedelta(hours=2),
            )
        )
    listed = client.get(f"{V2}/requests.json").json()
    assert {r["service_request_id"] for r in listed} == {tracking_id, done}
    [request] = client.get(f"{V2}/requests/{tracking_id}.json").json()
    assert request["status"] == "open" and request["status_notes"] == "Proses: Sedang ditambal."
    assert (request["service_code"], request["service_name"]) == ("JALAN", "Jalan dan Jembatan")
    assert request["agency_responsible"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert (request["lat"], request["long"], request["address"]) == (-0.0263, 109.3425, "Jl. Tanjungpura No. 1")
    assert request["requested_datetime"] == "2026-11-26T03:00:00Z"
    assert request["updated_datetime"] == "2026-11-26T05:00:00Z"
    assert request["media_url"].startswith("http://testserver/files/photos/")
    assert client.get(f"{V2}/requests.json", params={"status": "closed"}).json()[0]["service_request_id"] == done
    assert len(client.get(f"{V2}/requests.json", params={"service_request_id": f"{done},{hidden}"}).json()) == 1
    for private in (hidden, unverified, "PTK-2611-ZZZZZZ"):
        response = client.get(f"{V2}/requests/{private}.json")
        assert response.status_code == 404 and response.json()[0]["code"] == 404


def test_post_request_with_the_reporter_token_as_api_key(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    response = client.post(
        f"{V2}/requests.json",
        data={
            "api_key": citizen.token,
            "service_code": "SAMPAH",
            "description": "Sampah menumpuk di tepi parit, bau menyengat.",
            "attribute[kelurahan]": "Parit Tokaya",
            "lat": "-0.05",
            "long": "109.33",
        },
        files={"media": ("foto.jpg", image_bytes(), "image/jpeg")},
    )
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert created["service_notice"].startswith("Laporan diterima") and created["account_id"] is None
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, created["service_request_id"])
        assert (report.category, report.kelurahan_code, report.address, report.source) == (
            "SAMPAH",
            "61.71.01.1004",
            "-0.05, 109.33",
            "open311",
        )
        assert report.reporter_id is not None
    # The owner tracks it like any other report.
    assert client.get(f"/reports/{created['service_request_id']}", headers=citizen.auth).json()["view"] == "owner"


def test_post_request_with_a_bearer_token(client: TestClient, citizen: Person) -> None:
    response = client.post(
        f"{V2}/requests.json",
        data={
            "service_code": "JALAN",
            "description": "Jalan berlubang di depan pasar.",
            "attribute[kelurahan]": "61.71.01.1002",
            "address_string": "Jl. Pahlawan",
        },
        headers=citizen.auth,
    )
    assert response.status_code == 201, response.text


def test_post_request_refusals_use_open311_errors(client: TestClient, citizen: Person) -> None:
    base = {"service_code": "JALAN", "description": "Jalan berlubang.", "attribute[kelurahan]": "61.71.01.1002"}
    for credentials in ({}, {"api_key": "lpr_salah"}, {"api_key": STAFF_TOKEN}):
        response = client.post(f"{V2}/requests.json", data={**base, "address_string": "Jl. A", **credentials})
        assert response.status_code == 403, credentials
        assert response.json()[0]["code"] == 403
    key = {"api_key": citizen.token}
    no_place = client.post(f"{V2}/requests.json", data={**base, **key})
    assert no_place.status_code == 400 and "address_string" in no_place.json()[0]["description"]
    wrong_kelurahan = client.post(
        f"{V2}/requests.json", data={**base, **key, "address_string": "Jl. A", "attribute[kelurahan]": "Kuta"}
    )
    assert wrong_kelurahan.status_code == 400
    unknown_service = client.post(
        f"{V2}/requests.json", data={**base, **key, "address_string": "Jl. A", "service_code": "X"}
    )
    assert unknown_service.status_code == 400 and unknown_service.json()[0]["code"] == 400
    missing = client.post(f"{V2}/requests.json", data=key)
    assert missing.status_code == 400
    named = {error["description"].split(":")[0] for error in missing.json()}
    assert {"service_code", "description", "attribute[kelurahan]"} <= named


def test_jurisdiction_and_several_statuses(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    open_one, closed_one = submit(client, citizen), submit(client, citizen)
    set_status(db_engine, open_one, ReportStatus.PROSES)
    set_status(db_engine, closed_one, ReportStatus.SELESAI)
    unknown = client.get(f"{V2}/services.json", params={"jurisdiction_id": "kota-lain.go.id"})
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    assert client.get(f"{V2}/services.json", params={"jurisdiction_id": "pontianak.go.id"}).status_code == 200
    both = client.get(f"{V2}/requests.json", params={"status": "open,closed"})
    assert both.status_code == 200
    assert {r["service_request_id"]: r["status"] for r in both.json()} == {open_one: "open", closed_one: "closed"}
    only_closed = client.get(f"{V2}/requests.json", params={"status": "closed"}).json()
    assert [r["service_request_id"] for r in only_closed] == [closed_one]
    wrong = client.get(f"{V2}/requests.json", params={"status": "open,lainnya"})
    assert wrong.status_code == 400 and wrong.json()[0]["description"].startswith("status:")
