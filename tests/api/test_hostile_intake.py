"""Hostile intake, tried from outside: refused work is cheap and counted, photos are judged by their real pixels,
invisible characters stay out of public text, and a request without credentials costs no body."""

import asyncio
import io
import re
import struct
import sys
import time
import unicodedata
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, func, select

from lapor import uploads
from lapor.db import session_scope
from lapor.models import Report
from lapor.ratelimit import Limit
from lapor.text import FORMAT_CHARACTERS
from tests.api.conftest import REPORT_FIELDS, STAFF_TOKEN, Person, photo_files
from tests.web.conftest import csrf_of, web_register

FORM = {**REPORT_FIELDS, "lokasi": f"{REPORT_FIELDS['kecamatan']}/{REPORT_FIELDS['kelurahan']}"}  # the web form


@pytest.fixture(scope="module")
def large_pngs() -> list[tuple[str, tuple[str, bytes, str]]]:
    """Five 5000x5000 PNGs (25 MP each, at the pixel limit): about a second of CPU each to decode and re-encode."""
    files = []
    for seed in range(5):
        noise = Image.effect_noise((250, 250), 40 + seed).resize((5000, 5000), Image.Resampling.NEAREST)
        out = io.BytesIO()
        noise.convert("RGB").save(out, format="PNG", compress_level=1)
        files.append(("photos", (f"besar{seed}.png", out.getvalue(), "image/png")))
    return files


def _reports(db: Engine) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


class TestRefusedWorkIsCheapAndCounted:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {"submission:reporter": Limit(3, timedelta(hours=1)), "submission:ip": Limit(30, timedelta(hours=1))}

    def test_a_refused_submission_with_five_large_photos_costs_no_decoding_and_counts(
        self, client: TestClient, citizen: Person, large_pngs: list[Any], db_engine: Engine
    ) -> None:
        unknown_place = {**REPORT_FIELDS, "kelurahan": "61.71.99.9999"}
        client.post("/reports", data=unknown_place, files=photo_files(1), headers=citizen.auth)  # warm the path
        started = time.process_time()
        refused = client.post("/reports", data=unknown_place, files=large_pngs, headers=citizen.auth)
        spent = time.process_time() - started
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_location"
        assert spent < 0.05, f"a refused submission cost {spent * 1000:.0f} ms of CPU"
        # Two refused, the third is the last the limit allows (refused too: a title too short), then 429.
        short = client.post("/reports", data={**REPORT_FIELDS, "title": "x"}, files=large_pngs, headers=citizen.auth)
        assert short.status_code == 422
        limited = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert _reports(db_engine) == 0

    def test_a_refused_web_submission_costs_no_decoding_and_counts(
        self, client: TestClient, mailbox: Any, large_pngs: list[Any]
    ) -> None:
        web_register(client, mailbox, "Siti Rahmawati", "siti.mahal@example.id")
        csrf = csrf_of(client.get("/lapor").text)
        wrong_date = {**FORM, "csrf": csrf, "incident_date": "2099-01-01"}
        started = time.process_time()
        refused = client.post("/lapor", data=wrong_date, files=large_pngs)
        spent = time.process_time() - started
        assert refused.status_code == 422 and 'id="galat-incident_date">' in refused.text
        assert spent < 0.05, f"a refused web submission cost {spent * 1000:.0f} ms of CPU"
        client.post("/lapor", data=wrong_date, files=photo_files(1))
        client.post("/lapor", data=wrong_date, files=photo_files(1))
        limited = client.post("/lapor", data={**FORM, "csrf": csrf}, files=photo_files(1))
        assert limited.status_code == 429

    def test_refused_staff_and_open311_submissions_cost_no_decoding(
        self, client: TestClient, citizen: Person, large_pngs: list[Any]
    ) -> None:
        staff = {**REPORT_FIELDS, "source": "tatap_muka", "kelurahan": "61.71.99.9999"}
        open311 = {"service_code": "TIDAK_ADA", "description": "Jalan berlubang di depan pasar.", "lat": "-0.03"}
        open311 |= {"long": "109.34", "attribute[kelurahan]": "61.71.01.1002"}
        media = [("media", file) for _, file in large_pngs]
        for path, data, files, headers, status in (
            ("/intake/staff", staff, large_pngs, {"Authorization": f"Bearer {STAFF_TOKEN}"}, 422),
            ("/open311/v2/requests.json", open311, media, citizen.auth, 400),
        ):
            client.post(path, data=data, files=photo_files(1), headers=headers)  # warm the path
            started = time.process_time()
            refused = client.post(path, data=data, files=files, headers=headers)
            spent = time.process_time() - started
            assert refused.status_code == status, refused.text
            assert spent < 0.05, f"a refused {path} cost {spent * 1000:.0f} ms of CPU"
        # Open311 counted both refused requests (the warm-up too): one of the reporter's three is left.
        assert (
            client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth).status_code == 201
        )
        limited = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth)
        assert limited.status_code == 429


def _lying_jpeg() -> bytes:
    """A 16x16 JPEG whose frame header is rewritten to claim 5000x5000: some 600 bytes."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, format="JPEG")
    data = bytearray(out.getvalue())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 5000, 5000)
    return bytes(data)


def test_a_jpeg_whose_header_lies_about_its_size_is_refused(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    lying = _lying_jpeg()
    assert len(lying) < 1000
    with pytest.raises(uploads.IncompleteImage):
        uploads.clean_image(lying)
    answer = client.post(
        "/reports", data=REPORT_FIELDS, files=[("photos", ("foto.jpg", lying, "image/jpeg"))], headers=citizen.auth
    )
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["details"] == {"file_index": 0, "reason": "incomplete_image"}
    assert error["message"].startswith("Foto ke-1 rusak atau terpotong")
    assert _reports(db_engine) == 0
    # A real photo, grey at the bottom as a photo of a road may be, is kept.
    road = Image.new("RGB", (64, 48), (128, 128, 128))
    road.paste((200, 30, 30), (0, 0, 64, 20))
    out = io.BytesIO()
    road.save(out, format="JPEG")
    assert uploads.clean_image(out.getvalue()).content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("size", "flat", "options"),
    [
        ((800, 600), False, {}),
        ((800, 600), False, {"progressive": True}),
        ((800, 600), False, {"restart_marker_blocks": 4}),
        ((800, 600), False, {"quality": 5}),
        ((4000, 3000), True, {"progressive": True, "optimize": True}),  # the least data a real 12 MP JPEG has
    ],
)
def test_real_jpegs_of_every_coding_are_kept(size: tuple[int, int], flat: bool, options: dict[str, Any]) -> None:
    image = Image.new("RGB", size, (128, 128, 128)) if flat else Image.effect_noise(size, 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", **options)
    assert uploads.clean_image(out.getvalue()).content_type == "image/jpeg"


def test_the_format_characters_are_unicodes_cf_category() -> None:
    refused = re.compile(f"[{FORMAT_CHARACTERS}]")
    cf = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert all(refused.match(ch) for ch in cf)
    assert not any(refused.match(ch) for ch in "aZ09 \n\tÉé中文😀ـ")


BIDI_TITLE = "Jalan rusak \u202egnaduP"  # shows as "Jalan rusak Pudang", reversed


@pytest.mark.parametrize("invisible", ["\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\u00ad"])
def test_invisible_characters_in_public_fields_are_refused_by_field(
    client: TestClient, citizen: Person, invisible: str
) -> None:
    for field in ("title", "description", "address"):
        value = REPORT_FIELDS[field] + invisible + "x"
        answer = client.post(
            "/reports", data={**REPORT_FIELDS, field: value}, files=photo_files(1), headers=citizen.auth
        )
        assert answer.status_code == 422, (field, answer.text)
        (detail,) = answer.json()["error"]["details"]
        assert detail["field"] == f"body.{field}" and "tak terlihat" in detail["message"]
    named = client.post("/reporters/registrations", json={"name": "Siti" + invisible + "Rahma", "email": "s@e.id"})
    assert named.status_code == 422 and named.json()["error"]["details"][0]["field"] == "body.name"


def test_a_bidi_override_in_a_title_never_reaches_a_public_page(
    client: TestClient, citizen: Person, mailbox: Any, db_engine: Engine
) -> None:
    api = client.post(
        "/reports", data={**REPORT_FIELDS, "title": BIDI_TITLE}, files=photo_files(1), headers=citizen.auth
    )
    assert api.status_code == 422
    web_register(client, mailbox, "Andi Pratama", "andi.bidi@example.id")
    csrf = csrf_of(client.get("/lapor").text)
    page = client.post("/lapor", data={**FORM, "csrf": csrf, "title": BIDI_TITLE}, files=photo_files(1))
    assert page.status_code == 422
    assert re.search(r'id="galat-title">[^<]*tak terlihat atau pengatur arah tulisan \(U\+202E\)', page.text)
    assert _reports(db_engine) == 0
    for public in ("/laporan", "/open311/v2/requests.json", "/public/reports"):
        shown = client.get(public)
        assert "\u202e" not in shown.text and "gnaduP" not in shown.text


def _raw_upload(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]], size: int) -> tuple[int, int]:
    """POST a multipart body of `size` bytes straight to the ASGI app; the status and how many bytes it read."""
    chunk = 1024 * 1024
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= size:
            return {"type": "http.disconnect"}
        read += chunk
        return {"type": "http.request", "body": b"\0" * chunk, "more_body": read < size}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=batas"),
            (b"content-length", str(size).encode()),
            *headers,
        ],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status, read


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/intake/staff", []),
        ("/intake/staff", [(b"authorization", b"Bearer bukan-token")]),
        ("/intake/staff", [(b"authorization", f"Basic {STAFF_TOKEN}".encode())]),
        ("/intake/national", [(b"authorization", f"Bearer {STAFF_TOKEN}".encode())]),
        ("/reports", []),
        ("/reports", [(b"authorization", b"Bearer bukan-token-pelapor")]),
        ("/reports", [(b"authorization", f"Bearer {STAFF_TOKEN}".encode())]),
        ("/reports/PTK-2611-AAAAAA/supplement", []),
        ("/intake/sms", []),
        ("/intake/sms", [(b"x-signature", b"sha256=bukan-hex")]),
    ],
)
def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(
    app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    size = 26 * 1024 * 1024
    with TestClient(app):  # the app's lifespan
        status, read = _raw_upload(app, path, headers, size)
    assert status == 401
    assert read == 0, f"{read // (1024 * 1024)} MB of an unauthenticated body were read"


def test_the_enforced_limits_are_in_the_openapi_document(client: TestClient, settings: Any) -> None:
    document = client.get("/openapi.json").json()
    submit_op = document["paths"]["/reports"]["post"]
    assert submit_op["requestBody"]["x-max-body-bytes"] == settings.max_body_bytes
    assert str(settings.max_body_bytes) in submit_op["responses"]["413"]["description"]
    assert {"413", "415", "422", "429"} <= set(submit_op["responses"])
    photos = document["components"]["schemas"]["Body_submit_reports_post"]["properties"]["photos"]
    assert photos["maxItems"] == uploads.MAX_FILES and photos["items"]["x-max-bytes"] == uploads.MAX_BYTES
    title = document["components"]["schemas"]["ReportFields"]["properties"]["title"]
    assert title["maxLength"] == 200 and "\\u202e" in title["pattern"]
    listing = document["paths"]["/open311/v2/requests.json"]["get"]
    assert "429" in listing["responses"]
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 100


def test_a_signed_looking_sms_of_26_mb_is_refused_before_its_body_is_read(app: FastAPI) -> None:
    forged = [(b"x-signature", b"sha256=" + b"0" * 64)]
    with TestClient(app):
        status, read = _raw_upload(app, "/intake/sms", forged, 26 * 1024 * 1024)
    assert (status, read) == (413, 0)


def test_a_web_submission_of_a_visitor_not_signed_in_costs_no_body(app: FastAPI) -> None:
    with TestClient(app):
        for path in ("/lapor", "/lacak/PTK-2611-AAAAAA/lengkapi"):
            status, read = _raw_upload(app, path, [], 26 * 1024 * 1024)
            assert (status, read) == (303, 0), path  # to the sign-in page
