"""A reporter's data on request (issue 23 items 1 and 4) over HTTP: the API's ZIP, the citizen page's page and
download, and the front desk's pages. Two reporters, one anonymous and one confidential report: each export holds
exactly its reporter's data. Hostile side: another reporter's token, a staff token, no token, a forged reporter id,
roles that may not, forms without their CSRF token; the ZIP is never cached. Every export and every staff read of an
identity is on the reporter's audit chain, which names no one.

The staff pages are reached with a staff cookie signed by the app's key (api.staff_session.encode_member), as a
sign-in would set it: signing in itself, on the real engine, is tests/api/test_front_desk.py's."""

import io
import json
import re
import zipfile
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from api.staff_session import STAFF_COOKIE, StaffMember, encode_member
from api.web.session import SESSION_COOKIE
from lapor import reporter_audit
from lapor.db import session_scope
from lapor.models import ConsentRecord, ReporterAuditEntry
from tests.api.conftest import REPORT_FIELDS, STAFF_TOKEN, START, Person, photo_files, submit
from tests.web.conftest import csrf_of, text_of


def zip_data(answer: Response) -> tuple[dict[str, Any], zipfile.ZipFile]:
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["cache-control"] == "no-store"
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.headers["content-disposition"].startswith('attachment; filename="data-pelapor-lapor-pontianak-')
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return json.loads(archive.read("data.json")), archive


def chain(db: Engine) -> list[tuple[int, str, str, str, dict[str, Any]]]:
    with session_scope(db) as session:
        rows = session.scalars(select(ReporterAuditEntry).order_by(ReporterAuditEntry.id))
        return [(r.reporter_id, r.action, r.actor_kind, r.actor, json.loads(r.detail)) for r in rows]


@pytest.fixture
def filed(client: TestClient, citizen: Person, other_citizen: Person) -> tuple[list[str], list[str]]:
    """Siti: a plain report with her name shown, an anonymous one, a confidential one with a comment; Andi: one."""
    mine = [
        submit(client, citizen, title="Lampu padam di Gang Siti", show_name=True),
        submit(client, citizen, photos=2, title="Laporan anonim Siti", anonymous=True),
        submit(client, citizen, title="Laporan rahasia Siti", confidential=True),
    ]
    comment = client.post(f"/reports/{mine[2]}/comments", json={"text": "Mohon segera, Bu."}, headers=citizen.auth)
    assert comment.status_code == 201
    theirs = [submit(client, other_citizen, title="Saluran tersumbat Andi")]
    return mine, theirs


OTHER = ("Andi Pratama", "andi.pratama@example.id", "+6281299990002", "Saluran tersumbat Andi")


def test_a_reporter_downloads_exactly_their_data(
    client: TestClient, db_engine: Engine, citizen: Person, other_citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    mine, theirs = filed
    data, archive = zip_data(client.get("/reporters/me/data", headers=citizen.auth))
    assert data["identity"] | {"verified_at": None, "registered_at": None} == {
        "name": "Siti Rahmawati",
        "email": "siti.rahmawati@example.id",
        "phone": None,
        "verified_at": None,
        "registered_at": None,
    }
    assert [r["tracking_id"] for r in data["reports"]] == mine
    assert [(r["anonymous"], r["confidential"], r["show_name"]) for r in data["reports"]] == [
        (False, False, True),
        (True, False, False),
        (False, True, False),
    ]
    assert data["reports"][2]["messages"][0]["text"] == "Mohon segera, Bu."
    photos = [p["file"] for r in data["reports"] for p in r["photos"]]
    assert len(photos) == 4 and set(photos) <= set(archive.namelist())
    assert [n["template"] for n in data["notifications"]] == ["kode-verifikasi"]  # her code, not Andi's
    assert {c["tracking_id"] for c in data["consent"]} == set(mine)
    assert [a["action"] for a in data["access_record"]] == ["data_exported"]  # this very export
    text = json.dumps(data, ensure_ascii=False)
    for other in (*OTHER, *theirs):
        assert other not in text
    andi, _ = zip_data(client.get("/reporters/me/data", headers=other_citizen.auth))
    assert [r["tracking_id"] for r in andi["reports"]] == theirs
    assert "Siti" not in json.dumps(andi, ensure_ascii=False)
    recorded = chain(db_engine)
    assert [(action, kind, actor, detail["via"]) for _, action, kind, actor, detail in recorded] == [
        ("data_exported", "pelapor", "pelapor", "api"),
        ("data_exported", "pelapor", "pelapor", "api"),
    ]
    assert "Siti" not in json.dumps(recorded) and "example.id" not in json.dumps(recorded)


def test_nobody_else_gets_a_reporters_export(
    client: TestClient, db_engine: Engine, citizen: Person, other_citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    _, theirs = filed
    assert client.get("/reporters/me/data").status_code == 401
    assert client.get("/reporters/me/data", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}).status_code == 401
    assert client.get("/reporters/me/data", headers={"Authorization": "Bearer lapor_palsu"}).status_code == 401
    with session_scope(db_engine) as session:
        siti_id = session.scalar(select(ConsentRecord.reporter_id).limit(1))
    # Andi's token with Siti's id, every way an id could be passed: Andi's own data, or no route at all.
    assert client.get(f"/reporters/{siti_id}/data", headers=other_citizen.auth).status_code in (404, 405)
    data, _ = zip_data(client.get(f"/reporters/me/data?reporter_id={siti_id}", headers=other_citizen.auth))
    assert [r["tracking_id"] for r in data["reports"]] == theirs
    assert client.get(f"/reporters/me/data/{siti_id}", headers=other_citizen.auth).status_code in (404, 405)
    assert {r[0] for r in chain(db_engine)} != {siti_id}  # only Andi's export recorded


def test_a_front_desk_report_under_the_same_email_is_the_reporters(
    client: TestClient, citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    desk = client.post(
        "/intake/staff",
        data={**REPORT_FIELDS, "source": "tatap_muka", "reporter_email": citizen.email, "title": "Lewat meja depan"},
        files=photo_files(1),
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert desk.status_code == 201, desk.text
    data, _ = zip_data(client.get("/reporters/me/data", headers=citizen.auth))
    assert data["reports"][-1]["tracking_id"] == desk.json()["tracking_id"]
    assert {c["channel"] for c in data["consent"] if c["tracking_id"] == desk.json()["tracking_id"]} == {"staff"}


# -- the citizen page ----------------------------------------------------------------------------------------------
def test_the_citizen_page_shows_the_data_and_downloads_it(
    client: TestClient, db_engine: Engine, citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    mine, theirs = filed
    assert client.get("/data-saya", follow_redirects=False).headers["location"] == "/masuk"
    client.cookies.set(SESSION_COOKIE, citizen.token)
    page = client.get("/data-saya")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    words = text_of(page.text)
    assert "Siti Rahmawati" in words and all(t in words for t in mine)
    assert "Andi" not in words and theirs[0] not in words
    assert "Mohon segera, Bu." in words
    assert client.post("/data-saya/unduh", data={"csrf": "palsu"}).status_code == 403
    assert chain(db_engine) == []  # a refused download records nothing
    data, _ = zip_data(client.post("/data-saya/unduh", data={"csrf": csrf_of(page.text)}))
    assert [r["tracking_id"] for r in data["reports"]] == mine
    assert [(action, detail["via"]) for _, action, _, _, detail in chain(db_engine)] == [("data_exported", "web")]
    assert "/data-saya" in client.get("/laporan-saya").text


# -- the front desk ------------------------------------------------------------------------------------------------
def as_staff(client: TestClient, app: FastAPI, user: str, groups: tuple[str, ...], nonce: str = "nonce") -> None:
    member = StaffMember(user, user, groups, int(START.timestamp()) + 3600, nonce)
    client.cookies.set(STAFF_COOKIE, encode_member(app.state.context.signing_key, member))


def test_the_front_desk_finds_a_reporter_reads_and_downloads_their_data(
    client: TestClient, app: FastAPI, db_engine: Engine, citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    mine, theirs = filed
    as_staff(client, app, "admin-pengaduan", ("admin-pengaduan",))
    home = client.get("/staf")
    assert "/staf/data-pelapor" in home.text
    form = client.get("/staf/data-pelapor")
    assert form.status_code == 200, text_of(form.text)
    csrf = csrf_of(form.text)
    missing = client.post("/staf/data-pelapor", data={"csrf": csrf, "email": "tidak.ada@example.id", "phone": ""})
    assert missing.status_code == 404 and "Tidak ada satu pelapor" in text_of(missing.text)
    bad = client.post("/staf/data-pelapor", data={"csrf": csrf, "email": "", "phone": "12"})
    assert bad.status_code == 422
    assert chain(db_engine) == []  # nobody's identity was shown yet
    found = client.post("/staf/data-pelapor", data={"csrf": csrf, "email": " Siti.Rahmawati@example.id", "phone": ""})
    assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
    words = text_of(found.text)
    assert "Siti Rahmawati" in words and all(t in words for t in mine)
    assert "Andi" not in words and theirs[0] not in words
    reporter_id = chain(db_engine)[0][0]
    assert chain(db_engine) == [
        (
            reporter_id,
            "identity_read",
            "staf",
            "admin-pengaduan",
            {"page": "data_pelapor", "found_by": "email", "text": "Identitas dibuka di data_pelapor"},
        )
    ]
    ref = re.search(r'name="reporter" value="([^"]+)"', found.text)
    assert ref is not None and ref.group(1).startswith(f"{reporter_id}.")
    # Only the reference the search gave this sign-in downloads: not a bare id, not one for another reporter.
    for forged in (
        str(reporter_id),
        f"{reporter_id}.{'0' * 64}",
        f"{reporter_id + 1}{ref.group(1)[len(str(reporter_id)) :]}",
    ):
        refused = client.post("/staf/data-pelapor/unduh", data={"csrf": csrf_of(found.text), "reporter": forged})
        assert refused.status_code == 404
    assert len(chain(db_engine)) == 1
    data, _ = zip_data(
        client.post("/staf/data-pelapor/unduh", data={"csrf": csrf_of(found.text), "reporter": ref.group(1)})
    )
    assert [r["tracking_id"] for r in data["reports"]] == mine
    assert [(a["action"], a["actor"]) for a in data["access_record"]] == [
        ("identity_read", "admin-pengaduan"),
        ("data_exported", "admin-pengaduan"),
    ]
    assert chain(db_engine)[-1][4]["via"] == "meja_depan"
    assert "example.id" not in json.dumps(chain(db_engine))
    as_staff(client, app, "admin-pengaduan", ("admin-pengaduan",), nonce="another-sign-in")
    stale = client.post(
        "/staf/data-pelapor/unduh", data={"csrf": csrf_of(client.get("/staf").text), "reporter": ref.group(1)}
    )
    assert stale.status_code == 404  # a reference from another sign-in
    with session_scope(db_engine) as session:
        assert reporter_audit.verify(session).ok


@pytest.mark.parametrize(
    ("user", "groups"), [("koordinator", ("koordinator",)), ("opd-pupr", ("opd-pupr",)), ("analis", ("analis",))]
)
def test_the_front_desk_pages_refuse_other_roles(
    client: TestClient,
    app: FastAPI,
    db_engine: Engine,
    filed: tuple[list[str], list[str]],
    user: str,
    groups: tuple[str, ...],
) -> None:
    as_staff(client, app, user, groups)
    assert client.get("/staf/data-pelapor").status_code == 403
    asked = client.post("/staf/data-pelapor", data={"csrf": "x", "email": "siti.rahmawati@example.id"})
    assert asked.status_code == 403 and "Siti" not in asked.text
    assert client.post("/staf/data-pelapor/unduh", data={"csrf": "x", "reporter": "1"}).status_code == 403
    assert chain(db_engine) == []


def test_the_front_desk_pages_need_a_staff_sign_in_and_the_forms_their_csrf(
    client: TestClient, app: FastAPI, db_engine: Engine, citizen: Person, filed: tuple[list[str], list[str]]
) -> None:
    client.cookies.set(SESSION_COOKIE, citizen.token)  # a reporter's session is not a staff one
    to_sign_in = client.get("/staf/data-pelapor", follow_redirects=False)
    assert to_sign_in.status_code == 303 and to_sign_in.headers["location"].startswith("/staf/masuk")
    posted = client.post("/staf/data-pelapor", data={"email": citizen.email}, follow_redirects=False)
    assert posted.status_code == 303
    as_staff(client, app, "admin-pengaduan", ("admin-pengaduan",))
    assert client.post("/staf/data-pelapor", data={"email": citizen.email}).status_code == 403
    assert client.post("/staf/data-pelapor/unduh", data={"reporter": "1"}).status_code == 403
    assert chain(db_engine) == []
