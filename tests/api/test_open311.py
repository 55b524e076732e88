"""Open311 GeoReport v2 over the same reports, with the feed's privacy rules."""

import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select

from lapor import reports
from lapor.db import session_scope
from lapor.models import MessageKind, Report, ReportMessage, ReportStatus
from lapor.vocabulary import Actor
from tests.api.conftest import STAFF_TOKEN, START, Person, image_bytes, set_status, submit

V2 = "/open311/v2"
_BASE = {
    "service_code": "JALAN",
    "description": "Jalan berlubang di depan pasar.",
    "attribute[kelurahan]": "61.71.01.1002",
}


def test_services_are_the_categories(client: TestClient) -> None:
    services = client.get(f"{V2}/services.json").json()
    jalan = next(s for s in services if s["service_code"] == "JALAN")
    assert jalan["service_name"] == "Jalan dan Jembatan" and jalan["metadata"] is True and jalan["type"] == "batch"
    definition = client.get(f"{V2}/services/JALAN.json").json()
    kelurahan, jenis = definition["attributes"]
    assert jenis["code"] == "jenis" and jenis["required"] is False
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
                author=Actor.OPD.value,
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


def test_the_report_type_is_an_optional_attribute(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    definition = client.get(f"{V2}/services/JALAN.json").json()
    jenis = next(a for a in definition["attributes"] if a["code"] == "jenis")
    assert jenis["required"] is False
    assert [v["key"] for v in jenis["values"]] == ["pengaduan", "aspirasi", "permintaan_informasi"]
    base = {
        "service_code": "LAINNYA",
        "description": "Mohon dibangun taman bermain anak.",
        "attribute[kelurahan]": "61.71.01.1002",
        "address_string": "Jl. Pahlawan",
    }
    created = client.post(f"{V2}/requests.json", data={**base, "attribute[jenis]": "aspirasi"}, headers=citizen.auth)
    assert created.status_code == 201, created.text
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, created.json()[0]["service_request_id"])
        assert report.report_type == "aspirasi"
    refused = client.post(f"{V2}/requests.json", data={**base, "attribute[jenis]": "keluhan"}, headers=citizen.auth)
    assert refused.status_code == 400
    assert refused.json()[0]["description"].startswith("attribute[jenis]")


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


def test_media_url_is_stored_as_an_https_link_and_never_fetched(
    client: TestClient, citizen: Person, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_outbound(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server fetched media_url")

    monkeypatch.setattr(socket, "create_connection", no_outbound)
    link = "https://foto.example.org/parit.jpg?ukuran=besar#atas"
    response = client.post(
        f"{V2}/requests.json",
        data={**_BASE, "api_key": citizen.token, "address_string": "Jl. A", "media_url": link},
    )
    assert response.status_code == 201, response.text
    tracking_id = response.json()[0]["service_request_id"]
    with session_scope(db_engine) as session:
        assert reports.get_by_tracking_id(session, tracking_id).media_url == link
    set_status(db_engine, tracking_id, ReportStatus.PROSES)
    assert client.get(f"{V2}/requests/{tracking_id}.json").json()[0]["media_url"] == link


def test_media_url_refuses_anything_but_an_https_link(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    hostile = [
        "http://foto.example.org/a.jpg",
        "javascript:alert(document.cookie)",
        "JAVASCRIPT://foto.example.org/%0Aalert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "//foto.example.org/a.jpg",
        "https://",
        "https://user:rahasia@foto.example.org/a.jpg",
        "https://foto.example.org/a b.jpg",
        "https://foto.example.org/a.jpg\r\nSet-Cookie: x=1",
        'https://foto.example.org/"><script>alert(1)</script>',
        "https://foto.example.org/" + "a" * 500,
        " https://foto.example.org/a.jpg",
    ]
    for link in hostile:
        response = client.post(
            f"{V2}/requests.json",
            data={**_BASE, "api_key": citizen.token, "address_string": "Jl. A", "media_url": link},
        )
        assert response.status_code == 400, link
        [error] = response.json()
        assert error["code"] == 400 and error["description"].startswith("media_url: "), link
    with session_scope(db_engine) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


# -- XML: the same documents, element by element ---------------------------------------------------------------

_XML_LISTS = {"services", "service_requests", "attributes", "values", "errors"}


def _from_xml(element: ET.Element) -> Any:
    if element.tag in _XML_LISTS:
        return [_from_xml(child) for child in element]
    if len(element):
        return {child.tag: _from_xml(child) for child in element}
    return element.text


def _as_text(value: Any) -> Any:
    """JSON values as XML carries them: every leaf a string, booleans as true/false, null as an empty element."""
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _xml(response: Response) -> tuple[str, Any]:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    return root.tag, _from_xml(root)


def test_every_get_answers_in_xml_what_it_answers_in_json(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen, latitude="-0.0263", longitude="109.3425")
    set_status(db_engine, tracking_id, ReportStatus.PROSES)
    with session_scope(db_engine) as session:
        # Markup, entities and a control character XML 1.0 cannot hold (older channels stored such text).
        reports.get_by_tracking_id(session, tracking_id).description = "<b>Lubang</b> & \"parit\" ]]> 'x'\x01 ok"
    for path, root in (
        ("services", "services"),
        ("services/JALAN", "service_definition"),
        ("requests", "service_requests"),
        (f"requests/{tracking_id}", "service_requests"),
    ):
        as_json = client.get(f"{V2}/{path}.json").json()
        tag, as_xml = _xml(client.get(f"{V2}/{path}.xml"))
        assert tag == root, path
        expected = _as_text(as_json)
        if root == "service_requests":
            for request in expected:
                request["description"] = request["description"].replace("\x01", "")
        assert as_xml == expected, path
    _, [request] = _xml(client.get(f"{V2}/requests/{tracking_id}.xml"))
    assert request["description"] == "<b>Lubang</b> & \"parit\" ]]> 'x' ok"
    assert (request["status"], request["lat"], request["long"]) == ("open", "-0.0263", "109.3425")
    _, definition = _xml(client.get(f"{V2}/services/JALAN.xml"))
    assert definition["attributes"][0]["required"] == "true" and len(definition["attributes"][0]["values"]) == 29


def test_post_request_in_xml(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    response = client.post(
        f"{V2}/requests.xml",
        data={**_BASE, "api_key": citizen.token, "address_string": "Jl. A", "media_url": "https://x.example/a.jpg"},
    )
    assert response.status_code == 201, response.text
    tag, [created] = _xml(response)
    assert tag == "service_requests" and created["service_notice"].startswith("Laporan diterima")
    assert created["account_id"] is None
    with session_scope(db_engine) as session:
        assert reports.get_by_tracking_id(session, created["service_request_id"]).source == "open311"


def test_xml_errors_are_georeport_errors(client: TestClient, citizen: Person) -> None:
    key = {"api_key": citizen.token, "address_string": "Jl. A"}
    cases = [
        (client.get(f"{V2}/services/TIDAK_ADA.xml"), 404, "service_code tidak dikenal."),
        (client.get(f"{V2}/requests/PTK-2611-ZZZZZZ.xml"), 404, "service_request_id tidak ditemukan."),
        (client.get(f"{V2}/services.xml", params={"jurisdiction_id": "lain"}), 404, "jurisdiction_id"),
        (client.get(f"{V2}/requests.xml", params={"status": "<x>"}), 400, "status: "),
        (client.post(f"{V2}/requests.xml", data={**_BASE, "address_string": "Jl. A"}), 403, "api_key"),
        (client.post(f"{V2}/requests.xml", data={**_BASE, **key, "media_url": "javascript:x"}), 400, "media_url: "),
    ]
    for response, status_code, description in cases:
        assert response.status_code == status_code, description
        tag, errors = _xml(response)
        assert tag == "errors" and errors[0]["code"] == str(status_code)
        assert errors[0]["description"].startswith(description), errors
    _, missing = _xml(client.post(f"{V2}/requests.xml", data={"api_key": citizen.token}))
    assert {"service_code", "description", "attribute[kelurahan]"} <= {e["description"].split(":")[0] for e in missing}


def test_a_georeport_client_library_session(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    """The calls a GeoReport v2 client makes without discovery, reading only the fields clients read."""
    services = client.get(f"{V2}/services.json")
    assert services.status_code == 200 and services.headers["content-type"] == "application/json"
    service = next(s for s in services.json() if s["service_code"] == "SAMPAH")
    assert service["metadata"] is True  # so the client asks for the definition
    definition = client.get(f"{V2}/services/{service['service_code']}.json").json()
    required = {a["code"]: a for a in definition["attributes"] if a["required"]}
    place = required["kelurahan"]["values"][0]["key"]
    form = {"service_code": service["service_code"], "attribute[kelurahan]": place, "api_key": citizen.token}
    created_ids = []
    for location in ({"lat": "-0.0263", "long": "109.3425"}, {"address_string": "Jl. Gajah Mada No. 5"}):
        response = client.post(
            f"{V2}/requests.json", data={**form, **location, "description": "Sampah menumpuk di pinggir jalan."}
        )
        assert response.status_code == 201, response.text
        assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
        [created] = response.json()
        created_ids.append(created["service_request_id"])
    first, second = created_ids
    # Private until the city verifies it (the feed's privacy rule), then public to every client.
    assert client.get(f"{V2}/requests/{first}.json").status_code == 404
    for tracking_id in created_ids:
        set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI)
    [request] = client.get(f"{V2}/requests/{first}.json").json()
    assert request["service_request_id"] == first and request["status"] == "open"
    assert request["service_name"] == service["service_name"] and request["service_code"] == "SAMPAH"
    requested = datetime.fromisoformat(request["requested_datetime"])
    assert requested.utcoffset() is not None and requested == START
    assert (request["lat"], request["long"]) == (-0.0263, 109.3425)
    both = client.get(f"{V2}/requests.json", params={"service_request_id": f"{first},{second}"}).json()
    assert {r["service_request_id"] for r in both} == {first, second}
    assert {r["address"] for r in both} == {"-0.0263, 109.3425", "Jl. Gajah Mada No. 5"}
    for listed in both:
        assert listed["status"] in ("open", "closed") and listed["service_name"] == service["service_name"]
        assert datetime.fromisoformat(listed["requested_datetime"]).utcoffset() is not None
