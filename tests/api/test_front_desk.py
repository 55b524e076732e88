"""The front desk (issue 20, item 4): staff sign in on /staf/masuk with their Tasklist login, checked by the real
engine, and Admin Pengaduan files reports received offline through the staff intake. Hostile callers: wrong
passwords, guessing, forged cookies, missing CSRF tokens, roles that may not file, bad fields and bad files."""

import asyncio
import base64
import json
import logging
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select

from api.intake import StaffSource
from api.staff_session import STAFF_COOKIE
from api.staff_sign_in import WRONG_LOGIN
from engine import LocalEngine
from lapor import uploads
from lapor.db import session_scope
from lapor.models import OutboxMessage, Photo, RateLimitHit, Report, Reporter
from lapor.ratelimit import Limit
from lapor.settings import Settings
from lapor.vocabulary import STAFF_SOURCE_LABELS, STAFF_SOURCE_NAMES
from tests.api.conftest import STAFF_TOKEN, ApiTestSettings, Clock, image_bytes
from tests.web.conftest import csrf_of, text_of

pytestmark = pytest.mark.engine

FACE_TO_FACE = {
    "source": "tatap_muka",
    "reporter_name": "Bapak Hasan",
    "reporter_email": "hasan.warga@example.id",
    "reporter_phone": "",
    "report_type": "pengaduan",
    "title": "Lampu jalan padam di Gang Mawar",
    "description": "Tiga lampu jalan padam sejak seminggu; gang gelap dan rawan pada malam hari.",
    "incident_date": "2026-11-23",
    "category": "JALAN",
    "lokasi": "61.71.01/61.71.01.1002",
    "address": "Gang Mawar, Jl. Tanjungpura",
}
ATTEMPTS_PER_USER = 3
ATTEMPTS_PER_IP = 5


@pytest.fixture
def settings(settings: ApiTestSettings, engine: LocalEngine, provisioned: Settings) -> ApiTestSettings:
    """The API's settings on the real engine with the role logins provisioned (password = user id)."""
    return settings.model_copy(update={"engine_url": engine.rest_url})


@pytest.fixture
def limits(limits: dict[str, Limit]) -> dict[str, Limit]:
    window = timedelta(minutes=15)
    return limits | {
        "staff_login:user": Limit(ATTEMPTS_PER_USER, window),
        "staff_login:ip": Limit(ATTEMPTS_PER_IP, window),
    }


def sign_in(client: TestClient, user: str, password: str | None = None, back: str = "/staf/laporan-baru") -> Response:
    form = client.get("/staf/masuk", params={"lanjut": back})
    assert form.status_code == 200, form.text
    data = {"csrf": csrf_of(form.text), "user_id": user, "password": user if password is None else password}
    return client.post("/staf/masuk", data={**data, "lanjut": back}, follow_redirects=False)


def signed_in(client: TestClient, user: str) -> None:
    answer = sign_in(client, user)
    assert answer.status_code == 303, text_of(answer.text)


def report_form(client: TestClient) -> str:
    page = client.get("/staf/laporan-baru")
    assert page.status_code == 200, text_of(page.text)
    return page.text


def file(client: TestClient, fields: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]]) -> Response:
    data = {"csrf": csrf_of(report_form(client)), **fields}
    return client.post("/staf/laporan-baru", data=data, files=files, follow_redirects=False)


def scan(name: str = "pindaian-surat.jpg", color: str = "white") -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", (name, image_bytes(size=(800, 1100), color=color, gps=False), "image/jpeg"))


def report_count(db: Engine) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


def error_next_to(page: str, field: str) -> str:
    found = re.search(rf'<p class="galat-isian" id="galat-{field}">([^<]*)</p>', page)
    assert found, f"no error next to {field}: {text_of(page)}"
    return found.group(1)


def value_of(page: str, field: str) -> str:
    found = re.search(rf'<input id="{field}" name="{field}"[^>]* value="([^"]*)"', page)
    assert found, f"no input {field}"
    return found.group(1)


# -- signing in ----------------------------------------------------------------------------------------------------
def test_a_clerk_signs_in_with_the_tasklist_login_and_files_a_face_to_face_report(
    client: TestClient, db_engine: Engine
) -> None:
    answer = sign_in(client, "admin-pengaduan")
    assert answer.status_code == 303 and answer.headers["location"] == "/staf/laporan-baru"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{STAFF_COOKIE}=")
    for attribute in ("HttpOnly", "Path=/staf", "SameSite=strict", f"Max-Age={4 * 3600}"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # http://testserver: a Secure cookie would never come back
    form = report_form(client)
    assert "Admin Pengaduan Daerah" in text_of(form) and "Catat laporan baru" in text_of(form)
    headers = client.get("/staf/laporan-baru").headers  # a page with the reporter's data: no cache, no script
    assert headers["cache-control"] == "no-store" and headers["x-robots-tag"] == "noindex, nofollow"
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"

    filed = file(client, FACE_TO_FACE, [scan()])
    assert filed.status_code == 303, text_of(filed.text)
    tracking_id = filed.headers["location"].rsplit("/", 1)[1]
    receipt = text_of(client.get(filed.headers["location"]).text)
    assert f"Nomor laporan: {tracking_id}" in receipt
    assert 'filter "Verifikasi"' in receipt and "Diterima melalui Tatap muka" in receipt
    assert "Pelapor menerima pemberitahuan" in receipt
    assert "hasan" not in receipt.lower()  # the receipt never repeats the reporter's data
    with session_scope(db_engine) as session:
        report = session.scalars(select(Report).where(Report.tracking_id == tracking_id)).one()
        assert (report.channel, report.source, report.category) == ("staff", "tatap_muka", "JALAN")
        reporter = session.get(Reporter, report.reporter_id)
        assert reporter is not None and (reporter.name, reporter.email) == ("Bapak Hasan", "hasan.warga@example.id")
        assert session.scalar(select(func.count(Photo.id)).where(Photo.report_id == report.id)) == 1
        starts = session.scalars(select(OutboxMessage).where(OutboxMessage.report_id == report.id)).all()
        assert len(starts) == 1  # the start command: the report reaches Tasklist like every other
        variables = json.dumps(starts[0].payload)
        assert "Petugas, diterima melalui tatap muka" in variables  # Tasklist's "Kanal"
        assert "hasan" not in variables.lower()  # never the reporter's data in the process


def test_an_anonymous_complaint_box_letter_has_no_reporter(client: TestClient, db_engine: Engine) -> None:
    signed_in(client, "admin-pengaduan")
    letter = {**FACE_TO_FACE, "source": "kotak_pengaduan", "reporter_name": "", "reporter_email": ""}
    filed = file(client, {**letter, "anonymous": "true"}, [scan("halaman-1.jpg"), scan("halaman-2.jpg", "gray")])
    assert filed.status_code == 303, text_of(filed.text)
    receipt = text_of(client.get(filed.headers["location"]).text)
    assert "tidak meninggalkan surel atau nomor ponsel" in receipt and "Kotak pengaduan di Diskominfo" in receipt
    with session_scope(db_engine) as session:
        report = session.scalars(select(Report)).one()
        assert report.reporter_id is None and report.anonymous and report.source == "kotak_pengaduan"
        assert session.scalar(select(func.count(Photo.id))) == 2


def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(client: TestClient) -> None:
    wrong = sign_in(client, "opd-pdam", password="bukan-sandinya")
    unknown = sign_in(client, "petugas-yang-tidak-ada", password="apa-saja")
    for refused in (wrong, unknown):
        assert refused.status_code == 401
        assert WRONG_LOGIN in text_of(refused.text)
        assert STAFF_COOKIE not in refused.headers.get("set-cookie", "")
        assert "bukan-sandinya" not in refused.text and "apa-saja" not in refused.text  # the password is not kept
    assert value_of(wrong.text, "user_id") == "opd-pdam"  # what was typed stays
    # Both refusals read the same: the page does not tell whether the user exists.
    assert text_of(wrong.text).replace("opd-pdam", "X") == text_of(unknown.text).replace("petugas-yang-tidak-ada", "X")
    assert client.get("/staf/laporan-baru", follow_redirects=False).status_code == 303  # still not signed in


async def test_the_engine_holds_a_login_after_a_wrong_password_and_the_page_says_why(client: TestClient) -> None:
    """The engine's own throttling (loginDelay*) applies here as in Tasklist: right after a wrong password even the
    right one is refused for a few seconds, and the message says that the engine locks the login for a while."""
    assert sign_in(client, "koordinator", password="salah").status_code == 401
    held = sign_in(client, "koordinator")
    assert held.status_code == 401
    assert "mengunci login sebentar" in text_of(held.text)
    await asyncio.sleep(5.5)  # loginDelayMaxTime: the engine holds a login at most 5 s
    assert sign_in(client, "koordinator").status_code == 303


def test_guessing_is_slowed_down_per_user_id_and_per_address(client: TestClient, api_clock: Clock) -> None:
    for attempt in range(ATTEMPTS_PER_USER):
        assert sign_in(client, "tebak-tebakan", password=f"coba-{attempt}").status_code == 401
    limited = sign_in(client, "tebak-tebakan", password="coba-lagi")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == str(15 * 60)
    assert "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 15 menit." in text_of(limited.text)
    assert value_of(limited.text, "user_id") == "tebak-tebakan"
    # Other user ids from the same address: refused once the address has used its attempts.
    for attempt in range(ATTEMPTS_PER_IP - ATTEMPTS_PER_USER):
        assert sign_in(client, f"nama-lain-{attempt}", password="x").status_code == 401
    assert sign_in(client, "nama-lain-lagi", password="x").status_code == 429
    assert sign_in(client, "admin-pengaduan").status_code == 429  # even the right password waits (the engine too)
    api_clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(client, "admin-pengaduan").status_code == 303


def test_a_successful_sign_in_does_not_count_against_the_limits(client: TestClient) -> None:
    for _ in range(ATTEMPTS_PER_USER + 1):
        assert sign_in(client, "admin-pengaduan").status_code == 303
        client.cookies.clear()


def test_after_signing_in_the_page_goes_back_to_a_staff_page_only(client: TestClient) -> None:
    assert client.get("/staf/laporan-baru", follow_redirects=False).headers["location"] == (
        "/staf/masuk?lanjut=/staf/laporan-baru"
    )
    for hostile in ("//penipu.example/staf/", "https://penipu.example/", "/staf/../lapor", "/staf//penipu.example"):
        client.cookies.clear()
        answer = sign_in(client, "admin-pengaduan", back=hostile)
        assert answer.status_code == 303 and answer.headers["location"] == "/staf", hostile


# -- who may file --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["opd-dishub", "analis", "koordinator", "kepala-bidang"])
def test_roles_that_may_not_file_get_403(client: TestClient, db_engine: Engine, user: str) -> None:
    """Only Admin Pengaduan records reports (the SOP: Admin Pengaduan Daerah receives and verifies them); the analis,
    the supervisors and the OPDs work on reports in Tasklist and never enter one."""
    signed_in(client, user)
    home = text_of(client.get("/staf").text)
    assert "Peran Anda tidak mencatat laporan di sini" in home
    page = client.get("/staf/laporan-baru")
    assert page.status_code == 403 and "Tidak diizinkan" in text_of(page.text)
    csrf = csrf_of(client.get("/staf").text)  # a valid token of their own sign-in
    posted = client.post("/staf/laporan-baru", data={"csrf": csrf, **FACE_TO_FACE}, files=[scan()])
    assert posted.status_code == 403 and "Peran Anda tidak berhak" in text_of(posted.text)
    assert report_count(db_engine) == 0


def test_the_receipt_is_for_the_front_desk_only(client: TestClient, db_engine: Engine) -> None:
    by_token = client.post(
        "/intake/staff",
        data={**FACE_TO_FACE, "kecamatan": "61.71.01", "kelurahan": "61.71.01.1002"},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert by_token.status_code == 201, by_token.text
    tracking_id = by_token.json()["tracking_id"]
    signed_in(client, "opd-dishub")
    assert client.get(f"/staf/laporan-baru/{tracking_id}").status_code == 403
    client.cookies.clear()
    signed_in(client, "admin-pengaduan")
    assert client.get(f"/staf/laporan-baru/{tracking_id}").status_code == 200
    assert client.get("/staf/laporan-baru/LPR-TIDAK-ADA").status_code == 404


# -- the session -----------------------------------------------------------------------------------------------------
def _tampered(value: str, **changes: object) -> str:
    data, _, signature = value.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(data)) | changes
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode() + "." + signature


def test_a_tampered_or_expired_session_cookie_is_refused(client: TestClient, api_clock: Clock) -> None:
    signed_in(client, "opd-dishub")
    genuine = client.cookies.get(STAFF_COOKIE)
    assert genuine
    forgeries = [
        _tampered(genuine, g=["admin-pengaduan"]),  # a role it does not have
        _tampered(genuine, u="admin-pengaduan"),
        genuine[:-2] + ("00" if not genuine.endswith("00") else "11"),
        genuine.split(".")[0],  # no signature
        "bukan-cookie",
    ]
    for forged in forgeries:
        client.cookies.set(STAFF_COOKIE, forged, path="/staf")
        answer = client.get("/staf/laporan-baru", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/staf/masuk"), forged
        assert f'{STAFF_COOKIE}=""' in answer.headers.get("set-cookie", ""), "the bad cookie is cleared"
    client.cookies.set(STAFF_COOKIE, genuine, path="/staf")
    assert client.get("/staf/laporan-baru").status_code == 403  # the genuine one: signed in, not a filer
    api_clock.advance(timedelta(hours=4, seconds=1))
    assert client.get("/staf/laporan-baru", follow_redirects=False).status_code == 303  # expired


def test_forms_without_their_csrf_token_are_refused(client: TestClient, db_engine: Engine) -> None:
    form = client.get("/staf/masuk")
    for csrf in ("", "0" * 64):
        refused = client.post("/staf/masuk", data={"csrf": csrf, "user_id": "admin-pengaduan", "password": "x"})
        assert refused.status_code == 403 and "Formulir tidak sah" in text_of(refused.text)
    visitor_token = csrf_of(form.text)
    signed_in(client, "admin-pengaduan")
    for csrf in ("", visitor_token):  # the sign-in form's token belongs to the visitor, not to this sign-in
        posted = client.post("/staf/laporan-baru", data={"csrf": csrf, **FACE_TO_FACE}, files=[scan()])
        assert posted.status_code == 403, csrf
    assert report_count(db_engine) == 0
    assert client.post("/staf/keluar", data={"csrf": ""}).status_code == 403
    assert client.get("/staf/laporan-baru").status_code == 200  # still signed in


def test_signing_out_ends_the_session(client: TestClient) -> None:
    signed_in(client, "admin-pengaduan")
    assert 'href="/staf/laporan-baru"' in client.get("/staf").text  # the home page leads a filer to the form
    csrf = csrf_of(report_form(client))
    answer = client.post("/staf/keluar", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/staf/masuk?pesan=keluar"
    assert f'{STAFF_COOKIE}=""' in answer.headers["set-cookie"]
    assert "Anda telah keluar" in text_of(client.get(answer.headers["location"]).text)
    assert client.get("/staf/laporan-baru", follow_redirects=False).status_code == 303


# -- the form ---------------------------------------------------------------------------------------------------------
def test_the_form_offers_every_channel_of_the_service_standard() -> None:
    from typing import get_args

    assert set(STAFF_SOURCE_LABELS) == set(STAFF_SOURCE_NAMES) == set(get_args(StaffSource))


def test_refused_fields_are_shown_next_to_them_and_nothing_typed_is_lost(client: TestClient, db_engine: Engine) -> None:
    signed_in(client, "admin-pengaduan")
    bad = {
        **FACE_TO_FACE,
        "title": "",
        "reporter_email": "hasan-at-example",
        "reporter_phone": "12",
        "incident_date": "2027-01-01",  # the future
        "source": "merpati-pos",
    }
    refused = file(client, bad, [scan()])
    assert refused.status_code == 422
    for field in ("title", "reporter_email", "reporter_phone", "source"):
        assert error_next_to(refused.text, field)
    assert value_of(refused.text, "reporter_email") == "hasan-at-example"
    assert value_of(refused.text, "reporter_name") == "Bapak Hasan"
    assert FACE_TO_FACE["description"] in refused.text
    assert '<option value="61.71.01/61.71.01.1002" selected>' in refused.text
    assert "Foto perlu dipilih ulang" in refused.text
    # The intake's own checks after the form's: a future date, then a kelurahan outside its kecamatan.
    later = file(client, {**FACE_TO_FACE, "incident_date": "2027-01-01"}, [])
    assert later.status_code == 422 and "masa depan" in error_next_to(later.text, "incident_date")
    elsewhere = file(client, {**FACE_TO_FACE, "lokasi": "61.71.02/61.71.01.1002"}, [])
    assert elsewhere.status_code == 422 and error_next_to(elsewhere.text, "lokasi")
    assert value_of(elsewhere.text, "title") == FACE_TO_FACE["title"]
    assert report_count(db_engine) == 0


def test_a_contact_of_two_different_reporters_is_refused_next_to_the_email(
    client: TestClient, db_engine: Engine
) -> None:
    token = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    place = {"kecamatan": "61.71.01", "kelurahan": "61.71.01.1002"}
    for contact in ({"reporter_email": "satu@example.id"}, {"reporter_phone": "081299990077"}):
        made = client.post("/intake/staff", data={**FACE_TO_FACE, **place, **contact}, headers=token)
        assert made.status_code == 201, made.text
    signed_in(client, "admin-pengaduan")
    both = {**FACE_TO_FACE, "reporter_email": "satu@example.id", "reporter_phone": "081299990077"}
    refused = file(client, both, [])
    assert refused.status_code == 409 and "dua pelapor berbeda" in error_next_to(refused.text, "reporter_email")
    assert report_count(db_engine) == 2


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [
                scan(f"halaman-{i}.jpg", color)
                for i, color in enumerate(["white", "gray", "red", "blue", "green", "black"])
            ],
            "Paling banyak 5 foto",
        ),
        ([("photos", ("surat.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "application/pdf"))], "bukan gambar"),
        ([("photos", ("palsu.jpg", b"<script>alert(1)</script>", "image/jpeg"))], "bukan gambar"),
        ([("photos", ("besar.jpg", b"\xff\xd8\xff\xe0" + b"\0" * uploads.MAX_BYTES, "image/jpeg"))], "melebihi 40 MB"),
    ],
    ids=["too-many-files", "pdf", "script-named-jpg", "oversized"],
)
def test_hostile_files_are_refused_next_to_the_photos(
    client: TestClient, db_engine: Engine, files: list[tuple[str, tuple[str, bytes, str]]], message: str
) -> None:
    signed_in(client, "admin-pengaduan")
    refused = file(client, FACE_TO_FACE, files)
    assert refused.status_code == 422, text_of(refused.text)
    assert message in error_next_to(refused.text, "photos")
    assert value_of(refused.text, "title") == FACE_TO_FACE["title"]
    assert report_count(db_engine) == 0


def test_the_log_names_the_clerk_never_the_reporter_or_a_password(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert sign_in(client, "opd-pdam", password="sandi-yang-salah").status_code == 401
    signed_in(client, "admin-pengaduan")
    reporter = {**FACE_TO_FACE, "reporter_phone": "081255550123"}
    assert file(client, reporter, [scan()]).status_code == 303
    logged = caplog.text
    assert "intake.staff" in logged and "filed_by" in logged and "admin-pengaduan" in logged
    for secret in ("sandi-yang-salah", "Hasan", "hasan.warga", "55550123", "admin-pengaduan:"):
        assert secret not in logged, secret


def test_an_engine_that_does_not_answer_is_said_so_not_taken_for_a_wrong_password(
    client: TestClient, app: FastAPI, db_engine: Engine
) -> None:
    context = app.state.context
    context.settings = context.settings.model_copy(update={"engine_url": "http://127.0.0.1:9/engine-rest"})
    answer = sign_in(client, "admin-pengaduan")
    assert answer.status_code == 503 and "mesin proses tidak menjawab" in text_of(answer.text)
    with session_scope(db_engine) as session:  # not counted as a failed sign-in
        assert session.scalar(select(func.count(RateLimitHit.id))) == 0


def test_behind_https_the_cookies_are_secure(app: FastAPI) -> None:
    context = app.state.context
    context.settings = context.settings.model_copy(update={"public_base_url": "https://lapor.pontianakkota.go.id"})
    with TestClient(app, base_url="https://testserver") as browser:
        assert "; secure" in browser.get("/staf/masuk").headers["set-cookie"].lower()  # the visitor's
        answer = sign_in(browser, "admin-pengaduan")
    assert answer.status_code == 303
    assert "; secure" in answer.headers["set-cookie"].lower()
