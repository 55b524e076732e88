"""Text input: UTF-8 only, no control characters (line breaks only in long texts), credentials in the right scheme."""

import base64

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import REPORT_FIELDS, Person, photo_files


def _fields(response_json: dict[str, object]) -> set[str]:
    error = response_json["error"]
    assert isinstance(error, dict) and error["code"] == "validation_error"
    return {str(detail["field"]) for detail in error["details"]}


def _multipart(fields: dict[str, bytes], photo: bytes) -> tuple[bytes, str]:
    boundary = "batas-uji"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_invalid_utf8_in_a_multipart_field_is_422_naming_it(client: TestClient, citizen: Person) -> None:
    fields = {name: value.encode() for name, value in REPORT_FIELDS.items()}
    fields["title"] = b"Jalan rusak \xff\xfe di sini"
    body, content_type = _multipart(fields, photo_files(1)[0][1][1])
    response = client.post("/reports", content=body, headers={**citizen.auth, "Content-Type": content_type})
    assert response.status_code == 422, response.text
    assert _fields(response.json()) == {"body.title"}


def test_invalid_utf8_in_an_urlencoded_field_is_422(client: TestClient, citizen: Person) -> None:
    response = client.post(
        "/open311/v2/requests.json",
        content=b"service_code=JALAN&description=Rusak%FF%FEparah+sekali&attribute%5Bkelurahan%5D=61.71.01.1002",
        headers={**citizen.auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    assert [e["description"].split(":")[0] for e in response.json()] == ["description"]


@pytest.mark.parametrize("title", ["Jalan\r\nrusak parah", "Jalan\x07rusak parah", "Jalan\x1brusak parah"])
def test_control_characters_in_a_title_are_refused(client: TestClient, citizen: Person, title: str) -> None:
    response = client.post(
        "/reports", data={**REPORT_FIELDS, "title": title}, files=photo_files(1), headers=citizen.auth
    )
    assert response.status_code == 422
    assert _fields(response.json()) == {"body.title"}


def test_a_description_keeps_its_line_breaks(client: TestClient, citizen: Person) -> None:
    description = "Baris pertama laporan.\nBaris kedua,\r\n\tdengan tab."
    response = client.post(
        "/reports", data={**REPORT_FIELDS, "description": description}, files=photo_files(1), headers=citizen.auth
    )
    assert response.status_code == 201, response.text
    tracking_id = response.json()["tracking_id"]
    assert client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["description"] == description.strip()
    refused = client.post(
        "/reports",
        data={**REPORT_FIELDS, "description": "Ada karakter \x00 NUL di sini."},
        files=photo_files(1),
        headers=citizen.auth,
    )
    assert refused.status_code == 422 and _fields(refused.json()) == {"body.description"}


def test_basic_auth_on_a_bearer_endpoint_is_401(client: TestClient, citizen: Person) -> None:
    basic = "Basic " + base64.b64encode(b"siti:rahasia").decode()
    for method, path in (("GET", "/reporters/me"), ("GET", "/reports/PTK-2611-AAAAAA"), ("POST", "/intake/staff")):
        response = client.request(method, path, headers={"Authorization": basic})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_empty_file_name_gets_an_indonesian_answer(client: TestClient, citizen: Person) -> None:
    response = client.post(
        "/reports",
        data=REPORT_FIELDS,
        files=[("photos", ("", photo_files(1)[0][1][1], "image/jpeg"))],
        headers=citizen.auth,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == [
        {
            "field": "body.photos",
            "type": "file_name_missing",
            "message": "Berkas dikirim tanpa nama berkas; kirim foto dengan nama, mis. foto.jpg.",
        }
    ]
