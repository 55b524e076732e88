"""Correction and erasure of a reporter's data (issue 23 item 2) over HTTP.

Correction: the code goes to the new contact only, the old one is told; a wrong code counts and locks as at
registration; another reporter cannot confirm it, nor can it sign anybody in. Erasure: afterwards no text column of
any table, no file under the data directory, no public or staff page and no log line holds the reporter's name,
e-mail, phone or token; the other reporter's data is untouched; November's recap is the same workbook apart from its
generation time; the erasure is on the reporter's chain without identity."""

import json
import logging
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Engine, String, Text, select

from api.web.session import SESSION_COOKIE
from lapor import data_request, ratelimit, recap, reporter_audit, reports
from lapor.db import Base, session_scope
from lapor.models import (
    MessageKind,
    OutboxKind,
    OutboxMessage,
    RateLimitHit,
    RegistrationCode,
    Reporter,
    ReporterAuditEntry,
    ReporterToken,
    ReportMessage,
    ReportStatus,
)
from lapor.settings import get_settings
from lapor.vocabulary import Actor
from tests.api.conftest import START, ApiTestSettings, Person, SmsGateway, register, set_status, submit
from tests.api.test_personal_data import as_staff
from tests.api.test_staff_page import add_message, staff_link
from tests.conftest import Mailbox, body_of, free_port
from tests.web.conftest import csrf_of

NEW_EMAIL = "siti.baru@example.id"


def start(client: TestClient, person: Person, **contact: str) -> str:
    started = client.post("/reporters/me/contact", json=contact, headers=person.auth)
    assert started.status_code == 202, started.text
    assert started.json()["contact"] == next(iter(contact))
    return str(started.json()["correction_id"])


def confirm(client: TestClient, person: Person, correction_id: str, code: str) -> tuple[int, dict]:
    answer = client.post(
        f"/reporters/me/contact/{correction_id}/verification", json={"code": code}, headers=person.auth
    )
    return answer.status_code, answer.json()


# -- correction ----------------------------------------------------------------------------------------------------
def test_a_new_email_is_proved_by_a_code_sent_to_it_and_the_old_one_is_told(
    client: TestClient, citizen: Person, mailbox: Mailbox, db_engine: Engine
) -> None:
    before = len(mailbox.messages)
    correction_id = start(client, citizen, email=NEW_EMAIL.upper())
    sent = mailbox.messages[before:]
    assert [str(m["To"]) for m in sent] == [NEW_EMAIL]  # to the new address only, normalised
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == citizen.email  # not yet
    status, body = confirm(client, citizen, correction_id, mailbox.last_code(NEW_EMAIL))
    assert status == 200, body
    assert body["email"] == NEW_EMAIL and body["name"] == citizen.name
    told = mailbox.messages[before + 1 :]
    assert [str(m["To"]) for m in told] == [citizen.email]
    assert "Alamat email akun pelapor Anda" in body_of(told[0]) and NEW_EMAIL not in body_of(told[0])
    # The same token still works; the chain says which contact changed, never the address.
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == NEW_EMAIL
    with session_scope(db_engine) as session:
        entries = session.scalars(select(ReporterAuditEntry).order_by(ReporterAuditEntry.id)).all()
        assert [(e.action, json.loads(e.detail)["contact"]) for e in entries] == [("contact_corrected", "email")]
        assert citizen.email not in entries[0].detail and NEW_EMAIL not in entries[0].detail
        assert reporter_audit.verify(session).ok
    # Signing in with the new address finds her; the old one is nobody's now.
    again = register(client, mailbox, Person("Siti R", NEW_EMAIL, ""))  # a sign-in never renames
    assert client.get("/reporters/me", headers=again.auth).json()["name"] == citizen.name


def test_a_phone_is_added_through_an_sms_code(client: TestClient, citizen: Person, sms_gateway: SmsGateway) -> None:
    correction_id = start(client, citizen, phone="0812-9999-0077")
    code = sms_gateway.last_code("+6281299990077")
    status, body = confirm(client, citizen, correction_id, code)
    assert status == 200 and body["phone"] == "+6281299990077" and body["email"] == citizen.email


def test_wrong_codes_lock_the_correction_as_at_registration(
    client: TestClient, citizen: Person, mailbox: Mailbox
) -> None:
    correction_id = start(client, citizen, email=NEW_EMAIL)
    right = mailbox.last_code(NEW_EMAIL)
    wrong = "000000" if right != "000000" else "111111"
    answers = [confirm(client, citizen, correction_id, wrong) for _ in range(5)]
    assert [(s, b["error"]["code"]) for s, b in answers] == [(400, "invalid_code")] * 5
    assert [b["error"]["details"]["attempts_left"] for _, b in answers] == [4, 3, 2, 1, 0]
    status, body = confirm(client, citizen, correction_id, right)
    assert (status, body["error"]["code"]) == (410, "code_locked")
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == citizen.email


def test_another_reporter_cannot_confirm_it_nor_sign_in_with_it(
    client: TestClient, citizen: Person, other_citizen: Person, mailbox: Mailbox
) -> None:
    correction_id = start(client, citizen, email=NEW_EMAIL)
    code = mailbox.last_code(NEW_EMAIL)
    status, body = confirm(client, other_citizen, correction_id, code)
    assert (status, body["error"]["code"]) == (404, "correction_not_found")
    # The correction's code is no registration: it issues no token, for the new address or anybody.
    signed_in = client.post(f"/reporters/registrations/{correction_id}/verification", json={"code": code})
    assert signed_in.status_code == 404
    assert client.post("/reporters/me/contact/x/verification", json={"code": code}).status_code == 401
    assert client.get("/reporters/me", headers=other_citizen.auth).json()["email"] == other_citizen.email
    # Still hers to confirm.
    assert confirm(client, citizen, correction_id, code)[0] == 200


def test_a_contact_of_another_reporter_is_refused_once_proved(
    client: TestClient, citizen: Person, other_citizen: Person, mailbox: Mailbox
) -> None:
    correction_id = start(client, citizen, email=other_citizen.email)  # no hint yet that it is taken
    status, body = confirm(client, citizen, correction_id, mailbox.last_code(other_citizen.email))
    assert (status, body["error"]["code"]) == (409, "identity_conflict")
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == citizen.email
    same = client.post("/reporters/me/contact", json={"email": citizen.email}, headers=citizen.auth)
    assert (same.status_code, same.json()["error"]["code"]) == (409, "same_contact")
    both = client.post(
        "/reporters/me/contact", json={"email": NEW_EMAIL, "phone": "081299990077"}, headers=citizen.auth
    )
    assert both.status_code == 422


# -- erasure -------------------------------------------------------------------------------------------------------
def text_values(db: Engine) -> list[tuple[str, str, str]]:
    """Every value of every text or JSON column of every table: (table, column, value)."""
    found = []
    with db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            for row in connection.execute(select(*columns)) if columns else []:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        found.append((table.name, column.name, text))
    return found


def holding(db: Engine, needles: list[str]) -> list[tuple[str, str, str]]:
    lowered = [n.lower() for n in needles]
    return [(t, c, v[:80]) for t, c, v in text_values(db) if any(n in v.lower() for n in lowered)]


def files_holding(root: Path, needles: list[str]) -> list[str]:
    encoded = [n.lower().encode() for n in needles]
    return [
        str(path) for path in root.rglob("*") if path.is_file() and any(n in path.read_bytes().lower() for n in encoded)
    ]


def workbook(path: Path) -> dict[str, bytes]:
    """The recap's members but its document properties (they hold the generation time)."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


RECAP_RUN = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_erasure_leaves_no_identity_anywhere_and_the_recap_unchanged(
    client: TestClient,
    db_engine: Engine,
    settings: ApiTestSettings,
    citizen: Person,
    other_citizen: Person,
    mailbox: Mailbox,
    sms_gateway: SmsGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    phone_code = start(client, citizen, phone="081299990001")
    assert confirm(client, citizen, phone_code, sms_gateway.last_code("+6281299990001"))[0] == 200
    named = submit(
        client,
        citizen,
        title="Lampu padam di depan rumah Siti Rahmawati",
        description="Hubungi saya di siti.rahmawati@example.id atau 0812-9999-0001 untuk lokasi pastinya. Siti",
        show_name=True,
    )
    closed = submit(client, citizen, photos=2, title="Saluran tersumbat")
    comment = client.post(f"/reports/{named}/comments", json={"text": "Saya Siti, mohon segera."}, headers=citizen.auth)
    assert comment.status_code == 201
    add_message(
        db_engine,
        named,
        author=Actor.OPD,
        kind=MessageKind.OPD_RESPONSE,
        text="Terima kasih Bu Siti Rahmawati, tim kami menuju lokasi.",
        when=datetime(2026, 11, 27, 2, tzinfo=UTC),
    )
    set_status(db_engine, named, ReportStatus.PROSES)
    set_status(db_engine, closed, ReportStatus.SELESAI)
    theirs = submit(client, other_citizen, title="Pohon tumbang", show_name=True)
    set_status(db_engine, theirs, ReportStatus.PROSES)
    directory = settings.data_dir / "rekap"

    def produce() -> dict[str, bytes]:
        document = recap.produce_recap(
            session_factory=lambda: session_scope(db_engine), now=RECAP_RUN, directory=directory
        )
        return workbook(Path(document.path))

    recap_before = produce()
    inbox = settings.data_dir / "mail" / "kotak-masuk.txt"  # a local run's mail catcher (api/mailcatcher.py)
    inbox.parent.mkdir(parents=True, exist_ok=True)
    inbox.write_text(f"To: {citizen.email}\nKepada {citizen.name}, kode Anda 123456\nTo: {other_citizen.email}\n")
    limited = [ratelimit._subject_hash("registration:identity", citizen.email)]
    with session_scope(db_engine) as session:
        assert session.scalars(select(RateLimitHit).where(RateLimitHit.subject.in_(limited))).all()
    identity = [citizen.name, citizen.email, "+6281299990001", "081299990001", "0812-9999-0001", citizen.token]
    assert holding(db_engine, identity[:3])  # the search finds what is there
    staff_pages_before = client.get(staff_link(db_engine, named, settings)).text
    assert "siti.rahmawati@example.id" in staff_pages_before  # her own words, before

    erased = client.delete("/reporters/me", headers=citizen.auth)
    assert erased.status_code == 200, erased.text
    assert erased.json() | {"message": ""} == {"reports": 2, "open_reports": 1, "message": ""}

    assert holding(db_engine, identity) == []
    with session_scope(db_engine) as session:
        assert session.scalars(select(RateLimitHit).where(RateLimitHit.subject.in_(limited))).all() == []
    assert inbox.read_text() == f"To: [dihapus]\nKepada [dihapus], kode Anda 123456\nTo: {other_citizen.email}\n"
    assert len([p for p in settings.data_dir.rglob("*") if p.is_file()]) >= 3  # the photos and the recap, searched
    assert files_holding(settings.data_dir, identity) == []
    assert workbook_equal(recap_before, produce())
    assert client.get("/reporters/me", headers=citizen.auth).status_code == 401
    assert client.delete("/reporters/me", headers=citizen.auth).status_code == 401
    pages = [
        client.get("/public/reports?page_size=100").text,
        client.get(f"/reports/{named}").text,
        client.get(f"/reports/{closed}").text,
        client.get(f"/lacak/{named}").text,
        client.get(staff_link(db_engine, named, settings)).text,
        client.get(staff_link(db_engine, closed, settings)).text,
    ]
    as_staff(client, client.app, "admin-pengaduan", ("admin-pengaduan",))  # type: ignore[arg-type]
    desk = client.get("/staf/data-pelapor")
    found = client.post("/staf/data-pelapor", data={"csrf": csrf_of(desk.text), "email": citizen.email, "phone": ""})
    assert found.status_code == 404  # the front desk finds nobody by her contact
    pages.append(desk.text)  # (the 404 page echoes only what the staff member typed)
    assert [page for page in pages if any(n.lower() in page.lower() for n in identity)] == []
    assert any(r.name.startswith("api.") for r in caplog.records)  # the app's own log lines, searched
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert [n for n in identity if n.lower() in logged.lower()] == []
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, named)
        assert report.title == "Lampu padam di depan rumah [dihapus]"
        assert report.status == ReportStatus.PROSES.value and not report.show_reporter_name
        messages = session.scalars(select(ReportMessage).where(ReportMessage.report_id == report.id)).all()
        assert [(m.author, m.text) for m in messages] == [
            ("pelapor", "[dihapus atas permintaan pelapor]"),
            ("opd", "Terima kasih Bu [dihapus], tim kami menuju lokasi."),
        ]
        her = session.scalars(select(Reporter).where(Reporter.erased_at.is_not(None))).one()
        assert (her.name, her.email, her.phone) == ("", None, None)
        assert session.scalars(select(ReporterToken).where(ReporterToken.reporter_id == her.id)).all() == []
        assert session.scalars(select(RegistrationCode).where(RegistrationCode.reporter_id == her.id)).all() == []
        last = reporter_audit.entries(session, her)[-1]
        detail = json.loads(last.detail)
        assert (last.action, last.actor_kind, detail["reports"], detail["open_reports"]) == (
            "erased",
            "pelapor",
            [named, closed],
            [named],
        )
        assert reporter_audit.verify(session).ok
    # The other reporter: untouched, name still public where he chose so.
    assert client.get("/reporters/me", headers=other_citizen.auth).json()["name"] == other_citizen.name
    assert client.get(f"/reports/{theirs}").json()["reporter_name"] == other_citizen.name


def workbook_equal(before: dict[str, bytes], after: dict[str, bytes]) -> bool:
    assert before.keys() == after.keys()
    return all(before[name] == after[name] for name in before)


# -- the operator's command, for a request in writing --------------------------------------------------------------
@pytest.fixture
def command_env(monkeypatch: pytest.MonkeyPatch, settings: ApiTestSettings, mailbox: Mailbox) -> Iterator[None]:
    """The command reads its settings from the environment, as an operator's shell gives them."""
    monkeypatch.setenv("LAPOR_SMTP_PORT", str(mailbox.port))
    monkeypatch.setenv("LAPOR_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_operator_corrects_and_erases_for_a_written_request(
    client: TestClient,
    db_engine: Engine,
    citizen: Person,
    mailbox: Mailbox,
    command_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracking_id = submit(client, citizen, title="Lampu padam")
    found = ["correct", "--email", citizen.email, "--by", "admin-pengaduan"]
    assert data_request.main([*found, "--new-email", NEW_EMAIL], db=db_engine, now=START) == 0
    printed = capsys.readouterr().out
    correction_id = re.search(r"correction (\S+) ", printed).group(1)  # type: ignore[union-attr]
    assert NEW_EMAIL not in printed and citizen.email not in printed
    code = mailbox.last_code(NEW_EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    confirming = [*found, "--correction", correction_id, "--code"]
    assert data_request.main([*confirming, wrong], db=db_engine, now=START) == 1
    assert data_request.main([*confirming, code], db=db_engine, now=START) == 0
    assert "email replaced, old contact told (1 messages" in capsys.readouterr().out
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == NEW_EMAIL
    assert data_request.main(["correct", "--email", NEW_EMAIL, "--by", "x"], db=db_engine) == 2  # what to do?

    erase = ["erase", "--email", NEW_EMAIL, "--by", "admin-pengaduan"]
    assert data_request.main(erase, db=db_engine, now=START) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("reporter #") and "erased: 1 reports kept without identity (1 still open)" in printed
    assert data_request.main(erase, db=db_engine, now=START) == 2  # nobody has the address any more
    assert holding(db_engine, [citizen.name, citizen.email, NEW_EMAIL, citizen.token]) == []
    with session_scope(db_engine) as session:
        her = session.scalars(select(Reporter)).one()
        actions = [(e.action, e.actor_kind, e.actor) for e in reporter_audit.entries(session, her)]
        assert actions == [
            ("contact_corrected", "staf", "admin-pengaduan"),
            ("erased", "staf", "admin-pengaduan"),
        ]
        assert reports.get_by_tracking_id(session, tracking_id).title == "Lampu padam"


def test_an_erasure_is_refused_whole_while_the_engine_does_not_answer(
    client: TestClient,
    db_engine: Engine,
    settings: ApiTestSettings,
    citizen: Person,
    command_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Her report reached the engine, which is away: the API answers 503 with a code, the page says so next to the
    button, the operator's command exits with 3; nothing was erased or queued, and she is still signed in."""
    tracking_id = submit(client, citizen, title=f"Lampu padam depan rumah {citizen.name}")
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, tracking_id).process_instance_id = "instance-on-an-engine-away"
    away = f"http://127.0.0.1:{free_port()}/engine-rest"
    settings.engine_url = away  # the API's own settings (the app holds this object)

    answer = client.delete("/reporters/me", headers=citizen.auth)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "erasure_engine_unavailable"
    client.cookies.set(SESSION_COOKIE, citizen.token)
    page = client.get("/data-saya")
    refused = client.post("/data-saya/hapus", data={"csrf": csrf_of(page.text), "yakin": "ya"})
    client.cookies.clear()
    assert refused.status_code == 503
    assert "belum dapat dihapus karena mesin proses laporan sedang tidak menjawab" in refused.text
    monkeypatch.setenv("LAPOR_ENGINE_URL", away)
    get_settings.cache_clear()
    erase = ["erase", "--email", citizen.email, "--by", "admin-pengaduan"]
    assert data_request.main(erase, db=db_engine, now=START) == 3
    assert "nothing erased: the engine did not answer" in capsys.readouterr().err

    assert client.get("/reporters/me", headers=citizen.auth).json()["name"] == citizen.name
    with session_scope(db_engine) as session:
        her = session.scalars(select(Reporter)).one()
        assert (her.erased_at, her.email) == (None, citizen.email)
        assert reporter_audit.entries(session, her) == []
        assert (
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REDACT_VARIABLE)).all() == []
        )
        assert reports.get_by_tracking_id(session, tracking_id).title.endswith(citizen.name)


def test_nobody_erases_another_reporter(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    """The only erasure a reporter can ask for is their own: the API and the page act on the token's reporter and
    take no id; without a token, with a staff token or without the page's CSRF token nothing happens."""
    assert client.delete("/reporters/me").status_code == 401
    assert client.delete("/reporters/me", headers={"Authorization": "Bearer staff-token-for-tests"}).status_code == 401
    assert client.delete(f"/reporters/{citizen.email}", headers=other_citizen.auth).status_code in (404, 405)
    client.cookies.set(SESSION_COOKIE, citizen.token)
    assert client.post("/data-saya/hapus", data={"yakin": "ya"}).status_code == 403  # no CSRF token
    client.cookies.clear()
    erased = client.delete("/reporters/me", headers=other_citizen.auth)
    assert erased.status_code == 200 and erased.json()["reports"] == 0
    assert client.get("/reporters/me", headers=citizen.auth).json()["email"] == citizen.email  # she is untouched
    with session_scope(db_engine) as session:
        assert session.scalars(select(Reporter.name).where(Reporter.erased_at.is_(None))).all() == [citizen.name]
