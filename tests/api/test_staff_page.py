"""The staff's report page behind Tasklist's signed `reportSummaryUrl`: the whole report in words, never who
reported it, never the rating; in headless Chromium on a phone, a desktop and paper (screenshots in
tests/api/screenshots/<test>/, ignored by git)."""

import base64
import hashlib
import html
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor import masterdata, reports, signed_links, uploads
from lapor.db import session_scope
from lapor.models import EventKind, MessageKind, Photo, PhotoKind, Reporter, ReportMessage, ReportStatus
from lapor.vocabulary import Actor
from tests.api.conftest import (
    STAFF_TOKEN,
    START,
    ApiTestSettings,
    Clock,
    Person,
    image_bytes,
    photo_files,
    set_status,
    sign_sms,
    submit,
)
from tests.chromium import chromium

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE_WIDTH = 390
# An ISO 8601 date or a clock time with a colon: the page says every moment in words ("pukul 10.15 WIB").
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}(:\d{2})?")
LATITUDE, LONGITUDE = -0.0336, 109.3342

RETURN_NOTE = "Mohon lampirkan foto dari jarak dekat dan patokan terdekat."
SUPPLEMENT = "Foto dari dekat terlampir; patokannya warung kopi di sebelah gerbang sekolah."
COMMENT = "Lubangnya makin lebar setelah hujan semalam."
OPD_RESPONSE = "Tim UPT Jalan dan Jembatan menambal lubang ini paling lambat Jumat depan."
COMPLETION = "Lubang sudah ditambal dengan aspal dingin sepanjang 3 meter."
DOCUMENTATION = "Foto bukti sesuai lokasi; didokumentasikan."
REJECTION = "Masih ada satu lubang di sisi kanan jalan, dekat tiang listrik."
SECOND_COMPLETION = "Lubang di sisi kanan dekat tiang listrik juga sudah ditambal."
ACCEPTANCE = "Jalan sudah rata, terima kasih."


# -- builders ------------------------------------------------------------------------------------------------------
def text_of(page: str) -> str:
    """What a reader sees: tags out, entities decoded, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<section class="kartu" id="{section_id}">(.*?)</section>', page, re.S)
    assert found, f"no section {section_id}"
    return text_of(found.group(1))


def photo_links(page: str) -> list[str]:
    return [html.unescape(link) for link in dict.fromkeys(re.findall(r'src="(/files/photos/[^"]+)"', page))]


def staff_link(db: Engine, tracking_id: str, settings: ApiTestSettings, until: datetime | None = None) -> str:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        return signed_links.report_summary_url(report, until or START + timedelta(days=30), "", settings=settings)


def at(days: float, hours: float = 0) -> datetime:
    return START + timedelta(days=days, hours=hours)


def add_message(
    db: Engine,
    tracking_id: str,
    *,
    author: Actor,
    kind: MessageKind,
    text: str,
    when: datetime,
    accepted: bool | None = None,
) -> None:
    """What the status worker (the OPD's answers) and Admin Pengaduan's forms (their notes) write."""
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.add(
            ReportMessage(
                report_id=report.id, author=author.value, kind=kind.value, text=text, accepted=accepted, created_at=when
            )
        )


def add_event(db: Engine, tracking_id: str, kind: EventKind, detail: str, when: datetime) -> None:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        reports.record_event(
            session, report=report, kind=kind, actor=Actor.SISTEM, at=when, task_id=None, detail=detail
        )


def update_report(db: Engine, tracking_id: str, **values: object) -> None:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        for name, value in values.items():
            setattr(report, name, value)


def add_proof_photo(db: Engine, settings: ApiTestSettings, tracking_id: str, *, when: datetime) -> None:
    """The OPD's proof photo, stored as the proof upload stores it (the upload itself is tests/api/test_files.py's)."""
    image = uploads.clean_image(image_bytes("PNG", color="gray"))
    uploads.store(uploads.upload_dir(settings.data_dir), image)
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.add(
            Photo(
                report_id=report.id,
                sha256=image.sha256,
                content_type=image.content_type,
                size_bytes=len(image.data),
                kind=PhotoKind.PROOF.value,
                created_at=when,
            )
        )


def whole_story(client: TestClient, db: Engine, clock: Clock, citizen: Person, settings: ApiTestSettings) -> str:
    """A complaint with every kind of data: returned, supplemented with a photo, commented, dispatched, answered,
    completed with proof, rejected (rating 2), completed again, accepted (rating 5), closed."""
    tracking_id = submit(
        client, citizen, photos=2, show_name=True, latitude=LATITUDE, longitude=LONGITUDE
    )  # the reporter even chose to show their name publicly: staff still never see it
    with session_scope(db) as session:  # a reporter known by e-mail and phone
        report = reports.get_by_tracking_id(session, tracking_id)
        reporter = session.get(Reporter, report.reporter_id)
        assert reporter is not None
        reporter.phone = citizen.phone
    set_status(db, tracking_id, ReportStatus.BELUM_TERVERIFIKASI, at=at(0, 0.01))
    add_event(db, tracking_id, EventKind.REMINDER, "Batas waktu verifikasi laporan", at(1))
    set_status(db, tracking_id, ReportStatus.DIKEMBALIKAN, at=at(1, 1), actor=Actor.ADMIN_PENGADUAN)
    admin, opd = Actor.ADMIN_PENGADUAN, Actor.OPD
    add_message(db, tracking_id, author=admin, kind=MessageKind.RETURN_NOTE, text=RETURN_NOTE, when=at(1, 1))
    clock.now = at(1, 5)
    supplemented = client.post(
        f"/reports/{tracking_id}/supplement", data={"text": SUPPLEMENT}, files=photo_files(1), headers=citizen.auth
    )
    assert supplemented.status_code == 202, supplemented.text
    clock.now = at(1, 6)
    assert client.post(f"/reports/{tracking_id}/comments", json={"text": COMMENT}, headers=citizen.auth).is_success
    set_status(db, tracking_id, ReportStatus.BELUM_TERVERIFIKASI, at=at(1, 6.5))
    set_status(db, tracking_id, ReportStatus.TERVERIFIKASI, at=at(2), actor=Actor.ADMIN_PENGADUAN)
    update_report(db, tracking_id, opd_code="PUPR")
    add_event(db, tracking_id, EventKind.ESCALATION, "Batas waktu tanggapan OPD", at(3))
    set_status(db, tracking_id, ReportStatus.PROSES, at=at(4), actor=Actor.OPD)
    add_message(db, tracking_id, author=opd, kind=MessageKind.OPD_RESPONSE, text=OPD_RESPONSE, when=at(4))
    clock.now = at(6)
    add_proof_photo(db, settings, tracking_id, when=at(6))
    add_message(db, tracking_id, author=opd, kind=MessageKind.OPD_COMPLETION, text=COMPLETION, when=at(6))
    add_message(db, tracking_id, author=admin, kind=MessageKind.DOCUMENTATION_NOTE, text=DOCUMENTATION, when=at(6, 1))
    set_status(db, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, at=at(6, 1), actor=Actor.ADMIN_PENGADUAN)
    clock.now = at(7)
    rejected = client.post(
        f"/reports/{tracking_id}/confirmation",
        json={"accepted": False, "rating": 2, "comment": REJECTION},
        headers=citizen.auth,
    )
    assert rejected.status_code == 202, rejected.text
    set_status(db, tracking_id, ReportStatus.PROSES, at=at(7, 1), actor=Actor.PELAPOR)
    add_message(db, tracking_id, author=opd, kind=MessageKind.OPD_COMPLETION, text=SECOND_COMPLETION, when=at(8))
    set_status(db, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, at=at(8, 1), actor=Actor.ADMIN_PENGADUAN)
    clock.now = at(9)
    accepted = client.post(
        f"/reports/{tracking_id}/confirmation",
        json={"accepted": True, "rating": 5, "comment": ACCEPTANCE},
        headers=citizen.auth,
    )
    assert accepted.status_code == 202, accepted.text
    set_status(db, tracking_id, ReportStatus.SELESAI, at=at(9, 1), actor=Actor.PELAPOR)
    return tracking_id


# -- the page --------------------------------------------------------------------------------------------------------
def test_the_page_shows_the_whole_report_in_words(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings, api_clock: Clock
) -> None:
    tracking_id = whole_story(client, db_engine, api_clock, citizen, settings)
    api_clock.now = at(9, 2)
    response = client.get(staff_link(db_engine, tracking_id, settings))
    assert response.status_code == 200, response.text
    page = response.text

    heading = section(page, "ringkasan")
    for expected in (
        f"Nomor laporan {tracking_id}",
        "Jalan berlubang di depan SDN 12",
        "Selesai",
        "Jenis Pengaduan",
        "Kategori Jalan dan Jembatan",
        "Perangkat daerah Dinas Pekerjaan Umum dan Penataan Ruang",
        "Diterima melalui Situs web / aplikasi",
        "Pelapor Pelapor terdaftar",
        "Tanggal kejadian Jumat, 20 November 2026",
        "Dikirim Kamis, 26 November 2026 pukul 10.00 WIB",
        "Berakhir Sabtu, 5 Desember 2026 pukul 11.00 WIB",
    ):
        assert expected in heading, expected
    assert "Batas waktu" not in heading  # a finished report has no running deadline

    place = section(page, "lokasi")
    assert (
        "Alamat Jl. Tanjungpura No. 1" in place
        and f"Kelurahan {masterdata.get_kelurahan('61.71.01.1002').name}" in place
    )
    assert f"Kecamatan {masterdata.get_kecamatan('61.71.01').name}" in place and "Koordinat -0.0336, 109.3342" in place
    assert 'href="https://www.openstreetmap.org/?mlat=-0.0336&amp;mlon=109.3342#map=18/-0.0336/109.3342"' in page
    assert 'href="https://www.google.com/maps/search/?api=1&amp;query=-0.0336%2C109.3342"' in page

    described = section(page, "uraian")
    assert "Lubang besar di badan jalan, sudah dua minggu" in described
    assert "Foto laporan 1" in described and "Foto laporan 2" in described and "Foto laporan 3" not in described

    conversation = section(page, "pesan")
    admin, opd, pelapor = "Admin Pengaduan Daerah ·", "OPD / Pejabat Penghubung ·", "Pelapor ·"
    story = [
        ("Catatan pengembalian dari Admin Pengaduan", admin, "Jumat, 27 November 2026 pukul 11.00 WIB", RETURN_NOTE),
        ("Kelengkapan dari pelapor", pelapor, "Jumat, 27 November 2026 pukul 15.00 WIB", SUPPLEMENT),
        ("Foto kelengkapan 1", "", "", ""),
        ("Komentar pelapor", pelapor, "Jumat, 27 November 2026 pukul 16.00 WIB", COMMENT),
        ("Tanggapan OPD", opd, "Senin, 30 November 2026 pukul 10.00 WIB", OPD_RESPONSE),
        ("Laporan penyelesaian OPD", opd, "Rabu, 2 Desember 2026 pukul 10.00 WIB", COMPLETION),
        ("Catatan dokumentasi Admin Pengaduan", admin, "Rabu, 2 Desember 2026 pukul 11.00 WIB", DOCUMENTATION),
        ("Alasan penolakan pelapor", pelapor, "Kamis, 3 Desember 2026 pukul 10.00 WIB", REJECTION),
        ("Laporan penyelesaian OPD", opd, "Jumat, 4 Desember 2026 pukul 10.00 WIB", SECOND_COMPLETION),
        ("Pelapor menerima hasil tindak lanjut", pelapor, "Sabtu, 5 Desember 2026 pukul 10.00 WIB", ACCEPTANCE),
    ]
    position = 0
    for parts in story:
        found = conversation.find(" ".join(p for p in parts if p), position)
        assert found >= position, (parts, conversation[position:])
        position = found

    proof = section(page, "bukti")
    assert "Foto bukti penyelesaian 1" in proof
    links = photo_links(page)
    assert len(links) == 4  # two with the report, one with the supplement, the proof
    answers = [client.get(link) for link in links]
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.headers["content-type"] for a in answers] == ["image/jpeg"] * 3 + ["image/png"]

    timeline = section(page, "perjalanan")
    entries = [
        "Kamis, 26 November 2026 pukul 10.00 WIB Status menjadi Belum Terverifikasi · Sistem",
        "Jumat, 27 November 2026 pukul 10.00 WIB Pengingat batas waktu dikirim · Sistem Batas waktu verifikasi laporan",
        "Jumat, 27 November 2026 pukul 11.00 WIB Status menjadi Dikembalikan · Admin Pengaduan Daerah",
        "Sabtu, 28 November 2026 pukul 10.00 WIB Status menjadi Terverifikasi (belum ditindaklanjuti)",
        "Minggu, 29 November 2026 pukul 10.00 WIB Eskalasi ke Koordinator · Sistem Batas waktu tanggapan OPD",
        "Senin, 30 November 2026 pukul 10.00 WIB Status menjadi Proses · OPD / Pejabat Penghubung",
        "Rabu, 2 Desember 2026 pukul 11.00 WIB Status menjadi Menunggu Konfirmasi Pelapor",
        "Kamis, 3 Desember 2026 pukul 11.00 WIB Status menjadi Proses · Pelapor",
        "Sabtu, 5 Desember 2026 pukul 11.00 WIB Status menjadi Selesai · Pelapor",
    ]
    position = 0
    for entry in entries:
        found = timeline.find(entry, position)
        assert found >= position, (entry, timeline[position:])
        position = found


def test_the_page_never_shows_the_reporter_the_rating_a_code_or_an_iso_moment(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings, api_clock: Clock
) -> None:
    tracking_id = whole_story(client, db_engine, api_clock, citizen, settings)
    page = client.get(staff_link(db_engine, tracking_id, settings)).text
    for personal in (citizen.name, "Siti", "Rahmawati", citizen.email, citizen.phone, citizen.phone[3:]):
        assert personal not in page, personal
    # The rating (2, then 5) is the reporter's private word: nothing on the page speaks of it.
    for rating_words in ("rating", "penilaian", "kepuasan", "bintang", "nilai", "/5"):
        assert rating_words not in page.lower(), rating_words
    # Codes: category, OPD (and its Tasklist group), kecamatan and kelurahan; the report type's and status's own.
    for code in ("JALAN", "PUPR", "opd-pupr", "61.71", "SELESAI", "MENUNGGU_KONFIRMASI"):
        assert code not in page, code
    without_signatures = re.sub(r"(expires|signature)=[\w-]+", "", page)
    assert ISO_MOMENT.search(without_signatures) is None, ISO_MOMENT.search(without_signatures)


def test_the_page_allows_no_script_no_framing_no_referrer_and_no_caching(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = submit(client, citizen)
    response = client.get(staff_link(db_engine, tracking_id, settings))
    assert response.status_code == 200
    headers = response.headers
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    style = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert style and response.text.count("<style>") == 1
    inline_hash = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert policy == {
        "default-src": "'none'",
        "style-src": f"'sha256-{inline_hash}'",  # exactly the page's own style, nothing else
        "img-src": "'self'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
    }
    assert headers["Referrer-Policy"] == "no-referrer"  # the URL is a bearer link
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    for active in ("<script", "javascript:", "style=", "<form", "<link", "<iframe", "<object", "<embed", "<base"):
        assert active not in response.text.lower(), active
    assert re.search(r"<[^>]+\son\w+=", response.text) is None  # no event handler attributes


@pytest.mark.parametrize("tamper", ["other-report", "later-expiry", "bad-signature", "no-signature", "expired"])
def test_a_forged_or_expired_link_is_refused(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    settings: ApiTestSettings,
    api_clock: Clock,
    tamper: str,
) -> None:
    tracking_id, other = submit(client, citizen), submit(client, citizen)
    link = staff_link(db_engine, tracking_id, settings, until=START + timedelta(hours=1))
    expires = re.search(r"expires=(\d+)", link)
    assert expires
    forged = {
        "other-report": link.replace(tracking_id, other),
        "later-expiry": link.replace(expires.group(1), str(int(expires.group(1)) + 86400)),
        "bad-signature": link[:-4] + "AAAA",
        "no-signature": urlsplit(link).path,
        "expired": link,
    }[tamper]
    if tamper == "expired":
        api_clock.advance(timedelta(hours=1))
    response = client.get(forged)
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_link"
    assert tracking_id not in response.text and "Lubang" not in response.text


DUE = {  # 10.15 WIB on successive days from Monday 7 December 2026; the verification deadline has passed
    "verification_due_at": (datetime(2026, 11, 25, 3, 15, tzinfo=UTC), "Rabu, 25 November 2026 pukul 10.15 WIB"),
    "supplement_due_at": (datetime(2026, 12, 7, 3, 15, tzinfo=UTC), "Senin, 7 Desember 2026 pukul 10.15 WIB"),
    "disposition_due_at": (datetime(2026, 12, 8, 3, 15, tzinfo=UTC), "Selasa, 8 Desember 2026 pukul 10.15 WIB"),
    "response_due_at": (datetime(2026, 12, 9, 3, 15, tzinfo=UTC), "Rabu, 9 Desember 2026 pukul 10.15 WIB"),
    "completion_due_at": (datetime(2026, 12, 10, 3, 15, tzinfo=UTC), "Kamis, 10 Desember 2026 pukul 10.15 WIB"),
    "documentation_due_at": (datetime(2026, 12, 11, 3, 15, tzinfo=UTC), "Jumat, 11 Desember 2026 pukul 10.15 WIB"),
    "confirmation_due_at": (datetime(2026, 12, 12, 3, 15, tzinfo=UTC), "Sabtu, 12 Desember 2026 pukul 10.15 WIB"),
}
LABELS = {
    "verification_due_at": "verifikasi laporan",
    "supplement_due_at": "kelengkapan laporan oleh pelapor",
    "disposition_due_at": "disposisi ke OPD",
    "response_due_at": "tanggapan OPD",
    "completion_due_at": "penyelesaian tindak lanjut",
    "documentation_due_at": "dokumentasi penyelesaian",
    "confirmation_due_at": "konfirmasi pelapor",
}
B, K, T, P, M = (
    ReportStatus.BELUM_TERVERIFIKASI,
    ReportStatus.DIKEMBALIKAN,
    ReportStatus.TERVERIFIKASI,
    ReportStatus.PROSES,
    ReportStatus.MENUNGGU_KONFIRMASI,
)
VERIFIED = ("verification_due_at", "disposition_due_at")
DISPATCHED = (*VERIFIED, "response_due_at", "completion_due_at")
# (statuses in order, "completion" where the OPD reports it, the columns the steps so far set, the type) -> shown.
# The columns keep a finished step's date: the page shows only the deadlines of the step the report is in.
DEADLINE_CASES = {
    "verification": (([B], ("verification_due_at",), "pengaduan"), ["verification_due_at"]),
    "disposition": (([B], VERIFIED, "pengaduan"), ["disposition_due_at"]),
    "returned": (([B, K], ("verification_due_at", "supplement_due_at"), "pengaduan"), ["supplement_due_at"]),
    "dispatched": (([B, T], DISPATCHED, "pengaduan"), ["response_due_at", "completion_due_at"]),
    "dispatched-aspirasi": (([B, T], DISPATCHED, "aspirasi"), ["response_due_at"]),
    "in-progress": (([B, T, P], DISPATCHED, "pengaduan"), ["completion_due_at"]),
    "completion-reported": (
        ([B, T, P, "completion"], (*DISPATCHED, "documentation_due_at"), "pengaduan"),
        ["documentation_due_at"],
    ),
    "awaiting-confirmation": (([B, T, P, "completion", M], tuple(DUE), "pengaduan"), ["confirmation_due_at"]),
    "rejected-back-to-the-opd": (([B, T, P, "completion", M, P], tuple(DUE), "pengaduan"), ["completion_due_at"]),
    "finished": (([B, T, P, "completion", M, ReportStatus.SELESAI], tuple(DUE), "pengaduan"), []),
    "closed": (([B, K, ReportStatus.DITUTUP], tuple(DUE), "pengaduan"), []),
}


@pytest.mark.parametrize("case", list(DEADLINE_CASES))
def test_the_deadlines_that_still_matter_in_words(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings, case: str
) -> None:
    (steps, columns, report_type), expected = DEADLINE_CASES[case]
    tracking_id = submit(client, citizen, report_type=report_type)
    update_report(db_engine, tracking_id, **{column: DUE[column][0] for column in columns})
    for hour, step in enumerate(steps):
        if step == "completion":
            add_message(
                db_engine,
                tracking_id,
                author=Actor.OPD,
                kind=MessageKind.OPD_COMPLETION,
                text=COMPLETION,
                when=at(0, hour),
            )
        else:
            set_status(db_engine, tracking_id, ReportStatus(step), at=at(0, hour))
    heading = section(client.get(staff_link(db_engine, tracking_id, settings)).text, "ringkasan")
    assert re.findall(r"Batas waktu ([^:]+):", heading) == [LABELS[column] for column in expected]
    for column in expected:
        overdue = " (sudah terlewat)" if column == "verification_due_at" else ""
        assert f"Batas waktu {LABELS[column]}: {DUE[column][1]}{overdue}" in heading


def test_an_anonymous_confidential_report_says_so_and_nothing_more(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = submit(client, citizen, anonymous=True, confidential=True)
    page = client.get(staff_link(db_engine, tracking_id, settings)).text
    heading = section(page, "ringkasan")
    assert "Pelapor Pelapor anonim" in heading and "Pelapor terdaftar" not in page
    assert "Laporan rahasia: tidak ditampilkan kepada publik." in heading
    for personal in (citizen.name, citizen.email):
        assert personal not in page


def test_staff_intake_and_sms_reports_in_words_without_their_senders(
    client: TestClient, db_engine: Engine, settings: ApiTestSettings
) -> None:
    staff = client.post(
        "/intake/staff",
        data={
            "title": "Sampah menumpuk di pinggir parit",
            "description": "Dilaporkan lewat pesan Instagram Diskominfo.",
            "category": "SAMPAH",
            "address": "Gg. Purnama 2",
            "kecamatan": "61.71.01",
            "kelurahan": "61.71.01.1005",
            "source": "media_sosial",
            "reporter_name": "Rina Wulandari",
            "reporter_phone": "0812 5555 0002",
            "report_type": "aspirasi",
        },
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert staff.status_code == 201, staff.text
    page = client.get(staff_link(db_engine, staff.json()["tracking_id"], settings)).text
    heading = section(page, "ringkasan")
    assert "Diterima melalui Petugas, diterima melalui media sosial" in heading
    assert "Jenis Aspirasi" in heading and "Kategori Sampah dan Kebersihan" in heading
    assert "Perangkat daerah belum didisposisi" in heading and "Pelapor Pelapor terdaftar" in heading
    assert "Koordinat" not in page and "Tidak ada foto bersama laporan." in page
    kotabaru = masterdata.get_kelurahan("61.71.01.1005").name
    assert (
        f"https://www.google.com/maps/search/?api=1&amp;query=Gg.%20Purnama%202%2C%20{quote(kotabaru)}%2C%20Pontianak"
        in page
    )
    for personal in ("Rina", "Wulandari", "0812", "+62812", "5555"):
        assert personal not in page, personal

    body = b'{"message_id": "gw-9", "sender": "081255550009", "text": "Lampu jalan di gang kami mati tiga hari"}'
    sms = client.post("/intake/sms", content=body, headers=sign_sms(body))
    assert sms.status_code == 201, sms.text
    page = client.get(staff_link(db_engine, sms.json()["tracking_id"], settings)).text
    assert "Diterima melalui SMS 1708" in section(page, "ringkasan")
    place = section(page, "lokasi")
    assert "Alamat belum diketahui" in place and "Kelurahan belum diketahui (ditentukan saat verifikasi)" in place
    assert "Kategori Lainnya" in section(page, "ringkasan") and "LAINNYA" not in page
    for personal in ("081255550009", "6281255550009", "Pelapor SMS 1708"):
        assert personal not in page, personal


# -- in a browser ----------------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    """The test's app (its database, clock and photos) over real HTTP, for Chromium."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_the_page_in_chromium_on_a_phone_a_desktop_and_paper(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    settings: ApiTestSettings,
    api_clock: Clock,
    live: str,
    request: pytest.FixtureRequest,
) -> None:
    tracking_id = whole_story(client, db_engine, api_clock, citizen, settings)
    api_clock.now = at(9, 2)
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    link = staff_link(db_engine, tracking_id, settings)
    (folder / "halaman.html").write_text(client.get(link).text, encoding="utf-8")
    driver = chromium(1280, 900)
    try:
        driver.get(live + link)
        # The style ran under the page's policy (its hash matches) and every photo loaded under img-src 'self'.
        header = driver.execute_script("return getComputedStyle(document.querySelector('.kepala')).backgroundColor")
        assert header == "rgb(179, 18, 27)"
        images = driver.execute_script("return [...document.images].map(i => i.complete && i.naturalWidth > 0)")
        assert images == [True] * 4
        assert citizen.name not in driver.page_source and citizen.email not in driver.page_source

        def full_page(name: str, width: int, *, mobile: bool = False) -> None:
            metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # type: ignore[attr-defined]
            height = int(driver.execute_script("return document.documentElement.scrollHeight"))
            overflow = driver.execute_script("return document.documentElement.scrollWidth")
            assert overflow <= width, f"{name}: the page is wider ({overflow} px) than the screen ({width} px)"
            driver.execute_cdp_cmd(  # type: ignore[attr-defined]
                "Emulation.setDeviceMetricsOverride", {**metrics, "height": height}
            )
            driver.save_screenshot(str(folder / f"{name}.png"))

        full_page("01-ponsel-390", PHONE_WIDTH, mobile=True)
        full_page("02-desktop-1280", 1280)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})  # type: ignore[attr-defined]
        full_page("03-cetak", 794)  # A4 at 96 dpi
        assert driver.execute_script("return getComputedStyle(document.querySelector('.peta')).display") == "none"
        pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})  # type: ignore[attr-defined]
        printed = base64.b64decode(pdf["data"])
        assert printed.startswith(b"%PDF")
        (folder / "04-cetak.pdf").write_bytes(printed)
    finally:
        driver.quit()
    print(f"screenshots: {folder}")
