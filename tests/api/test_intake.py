"""Intake channels: the signed SMS 1708 webhook, staff entry and Admin Pusat, each with its own credentials."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lapor import reports
from lapor.db import session_scope
from lapor.models import OutboxMessage, Report, Reporter
from tests.api.conftest import NATIONAL_TOKEN, REPORT_FIELDS, STAFF_TOKEN, Person, photo_files, sign_sms

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
NATIONAL = {"Authorization": f"Bearer {NATIONAL_TOKEN}"}


def sms_body(text: str, message_id: str = "gw-1", sender: str = "081255550001") -> bytes:
    return json.dumps({"message_id": message_id, "sender": sender, "text": text}).encode()


def row(db: Engine, tracking_id: str) -> Report:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.expunge(report)
        return report


def report_count(db: Engine) -> int:
    with session_scope(db) as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


# -- SMS 1708 ----------------------------------------------------------------------------------------------------
def test_sms_in_the_format_becomes_a_located_report(client: TestClient, db_engine: Engine) -> None:
    body = sms_body("sampah#Benua Melayu Darat#Jl. Gajah Mada gang 3#Sampah menumpuk seminggu belum diangkut")
    response = client.post("/intake/sms", content=body, headers=sign_sms(body))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["parsed"] is True and answer["tracking_id"] in answer["reply"]
    report = row(db_engine, answer["tracking_id"])
    assert (report.channel, report.category, report.kelurahan_code, report.kecamatan_code) == (
        "sms1708",
        "SAMPAH",
        "61.71.01.1003",
        "61.71.01",
    )
    with session_scope(db_engine) as session:
        reporter = session.get(Reporter, report.reporter_id)
        assert reporter is not None and reporter.phone == "+6281255550001" and reporter.verified_at is None
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_an_sms_names_its_report_type_with_a_keyword_in_front(client: TestClient, db_engine: Engine) -> None:
    aspiration = sms_body("aspirasi#LAINNYA#Benua Melayu Darat#Jl. Gajah Mada#Mohon dibangun taman bermain", "gw-20")
    request = sms_body("INFO#Kapan jadwal pengangkutan sampah di gang kami?", "gw-21")
    complaint = sms_body("SAMPAH#Benua Melayu Darat#Jl. Gajah Mada#Sampah menumpuk", "gw-22")
    answers = [
        client.post("/intake/sms", content=b, headers=sign_sms(b)).json() for b in (aspiration, request, complaint)
    ]
    assert [a["parsed"] for a in answers] == [True, False, True]
    found = [row(db_engine, a["tracking_id"]) for a in answers]
    assert [(r.report_type, r.category) for r in found] == [
        ("aspirasi", "LAINNYA"),
        ("permintaan_informasi", "LAINNYA"),
        ("pengaduan", "SAMPAH"),
    ]
    assert found[1].description == "INFO#Kapan jadwal pengangkutan sampah di gang kami?"  # kept whole for staff
    with session_scope(db_engine) as session:
        started = [m.payload["variables"]["reportType"] for m in session.scalars(select(OutboxMessage))]
    assert sorted(started) == ["aspirasi", "pengaduan", "permintaan_informasi"]


def test_free_text_sms_is_kept_whole_for_staff(client: TestClient, db_engine: Engine) -> None:
    body = sms_body("Pak, lampu jalan di gang kami mati sudah 3 hari, mohon dibantu")
    answer = client.post("/intake/sms", content=body, headers=sign_sms(body)).json()
    assert answer["parsed"] is False
    report = row(db_engine, answer["tracking_id"])
    assert (report.category, report.kelurahan_code, report.description) == (
        "LAINNYA",
        "",
        "Pak, lampu jalan di gang kami mati sudah 3 hari, mohon dibantu",
    )
    with session_scope(db_engine) as session:
        variables = session.scalars(select(OutboxMessage)).one().payload["variables"]
    assert variables["category"] == "LAINNYA" and variables["kecamatanCode"] == ""


def test_sms_is_idempotent_on_the_gateway_message_id(client: TestClient, db_engine: Engine) -> None:
    body = sms_body("Jalan rusak parah di depan pasar")
    first = client.post("/intake/sms", content=body, headers=sign_sms(body))
    again = client.post("/intake/sms", content=body, headers=sign_sms(body))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking_id"] == first.json()["tracking_id"] and again.json()["duplicate"] is True
    assert report_count(db_engine) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Signature": "sha256=00"},
        sign_sms(b"another body"),
        sign_sms(sms_body("Jalan rusak parah"), secret="wrong-secret"),
        {"Content-Type": "application/json", "Authorization": f"Bearer {STAFF_TOKEN}"},
    ],
    ids=["unsigned", "garbage", "other-body", "wrong-secret", "staff-token"],
)
def test_unsigned_or_forged_sms_is_401(client: TestClient, db_engine: Engine, headers: dict[str, str]) -> None:
    response = client.post("/intake/sms", content=sms_body("Jalan rusak parah"), headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
    assert report_count(db_engine) == 0


def test_signed_but_malformed_sms_is_422(client: TestClient) -> None:
    body = b'{"message_id": "x"}'
    response = client.post("/intake/sms", content=body, headers=sign_sms(body))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


# -- staff ---------------------------------------------------------------------------------------------------------
def test_staff_enters_a_report_from_social_media(client: TestClient, db_engine: Engine) -> None:
    data = {
        **REPORT_FIELDS,
        "source": "media_sosial",
        "reporter_name": "Rina Wulandari",
        "reporter_phone": "0812 5555 0002",
    }
    response = client.post("/intake/staff", data=data, files=photo_files(2), headers=STAFF)
    assert response.status_code == 201, response.text
    report = row(db_engine, response.json()["tracking_id"])
    assert (report.channel, report.source, report.report_type) == ("staff", "media_sosial", "pengaduan")
    with session_scope(db_engine) as session:
        reporter = session.get(Reporter, report.reporter_id)
        assert reporter is not None and (reporter.name, reporter.phone) == ("Rina Wulandari", "+6281255550002")


def test_staff_report_from_the_complaint_box_without_reporter(client: TestClient, db_engine: Engine) -> None:
    response = client.post("/intake/staff", data={**REPORT_FIELDS, "source": "kotak_pengaduan"}, headers=STAFF)
    assert response.status_code == 201
    assert row(db_engine, response.json()["tracking_id"]).reporter_id is None


def test_staff_enter_the_report_type_they_were_given(client: TestClient, db_engine: Engine) -> None:
    data = {**REPORT_FIELDS, "source": "tatap_muka", "report_type": "permintaan_informasi"}
    response = client.post("/intake/staff", data=data, headers=STAFF)
    assert response.status_code == 201, response.text
    assert row(db_engine, response.json()["tracking_id"]).report_type == "permintaan_informasi"
    refused = client.post("/intake/staff", data={**data, "report_type": "keluhan"}, headers=STAFF)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
    assert report_count(db_engine) == 1


def test_staff_intake_refuses_citizen_and_national_tokens(client: TestClient, citizen: Person) -> None:
    data = {**REPORT_FIELDS, "source": "tatap_muka"}
    for headers in ({}, citizen.auth, NATIONAL, {"Authorization": "Bearer second-staff-token"}):
        response = client.post("/intake/staff", data=data, headers=headers)
        expected = 201 if headers.get("Authorization") == "Bearer second-staff-token" else 401
        assert response.status_code == expected, headers


def test_staff_intake_validates_like_the_citizen_form(client: TestClient, db_engine: Engine) -> None:
    bad_place = client.post(
        "/intake/staff", data={**REPORT_FIELDS, "source": "email", "kelurahan": "61.71.03.1001"}, headers=STAFF
    )
    assert bad_place.status_code == 422 and bad_place.json()["error"]["code"] == "unknown_location"
    bad_source = client.post("/intake/staff", data={**REPORT_FIELDS, "source": "merpati"}, headers=STAFF)
    assert bad_source.status_code == 422
    bad_email = client.post(
        "/intake/staff", data={**REPORT_FIELDS, "source": "email", "reporter_email": "rina"}, headers=STAFF
    )
    assert bad_email.status_code == 422
    assert report_count(db_engine) == 0


# -- national ------------------------------------------------------------------------------------------------------
def national_body(national_id: str = "LAP-2026-0001") -> dict[str, object]:
    return {**REPORT_FIELDS, "national_id": national_id, "anonymous": True}


def test_national_forward_has_no_reporter_and_is_idempotent(client: TestClient, db_engine: Engine) -> None:
    first = client.post("/intake/national", json=national_body(), headers=NATIONAL)
    assert first.status_code == 201, first.text
    again = client.post("/intake/national", json=national_body(), headers=NATIONAL)
    assert again.status_code == 200 and again.json()["tracking_id"] == first.json()["tracking_id"]
    report = row(db_engine, first.json()["tracking_id"])
    assert (report.channel, report.reporter_id, report.anonymous, report.external_ref) == (
        "national",
        None,
        True,
        "national:LAP-2026-0001",
    )
    assert report_count(db_engine) == 1


def test_national_intake_refuses_other_credentials(client: TestClient, citizen: Person) -> None:
    for headers in ({}, citizen.auth, STAFF):
        assert client.post("/intake/national", json=national_body(), headers=headers).status_code == 401


def test_intake_tokens_are_refused_on_citizen_endpoints(client: TestClient) -> None:
    for headers in (STAFF, NATIONAL):
        assert client.get("/reporters/me", headers=headers).status_code == 401
        response = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=headers)
        assert response.status_code == 401


def test_sms_replies_link_a_readable_page_and_explain_the_format(client: TestClient) -> None:
    located = sms_body("sampah#Benua Melayu Darat#Jl. Gajah Mada gang 3#Sampah menumpuk seminggu", message_id="gw-8")
    too_short = sms_body("JALAN#x#y#z", message_id="gw-9")
    replies = [client.post("/intake/sms", content=b, headers=sign_sms(b)).json() for b in (located, too_short)]
    assert [r["parsed"] for r in replies] == [True, False]
    assert "KATEGORI#KELURAHAN#ALAMAT#ISI" not in replies[0]["reply"]
    assert "KATEGORI#KELURAHAN#ALAMAT#ISI LAPORAN" in replies[1]["reply"]
    assert "ASPIRASI#" in replies[1]["reply"] and "INFO#" in replies[1]["reply"]
    for reply in replies:
        link = reply["reply"].rsplit(" ", 1)[1]
        assert link == "http://testserver/lacak/" + reply["tracking_id"]  # the citizen web page's tracking page
        page = client.get(link.removeprefix("http://testserver"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert reply["tracking_id"] in page.text
