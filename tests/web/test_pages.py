"""The citizen web page without a browser: sign-up and sign-in, CSRF, cookies and headers, privacy between
reporters, the shared limits, replies, and that the JSON API stays JSON."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api import public
from api.main import create_app
from api.web.render import PAGE_POLICY, map_policy, tile_origin
from lapor import reports, signed_links
from lapor.db import session_scope
from lapor.models import MessageKind, RegistrationCode, Report, ReportMessage, ReportStatus
from lapor.ratelimit import Limit
from lapor.vocabulary import Actor
from tests.api.conftest import (
    REPORT_FIELDS,
    START,
    ApiTestSettings,
    Clock,
    Person,
    photo_files,
    register,
    set_status,
)
from tests.conftest import Mailbox
from tests.web.conftest import (
    FORM,
    add_message,
    assert_readable,
    await_confirmation,
    csrf_of,
    return_to_reporter,
    section,
    text_of,
    web_register,
    web_submit,
)

RETURNED_AT = START + timedelta(days=1)
SUPPLEMENT_DUE = datetime(2026, 12, 18, 16, 59, tzinfo=UTC)  # Jumat, 18 Desember 2026 pukul 23.59 WIB
CONFIRMATION_DUE = datetime(2026, 12, 7, 16, 59, tzinfo=UTC)  # Senin, 7 Desember 2026 pukul 23.59 WIB


def count(db: Engine, model: type) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_register_submit_and_track(client: TestClient, mailbox: Mailbox) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "LAPOR! Pontianak" in home.text
    assert client.get("/lapor", follow_redirects=False).headers["location"] == "/masuk"
    web_register(client, mailbox, "Siti Rahmawati", "siti.web@example.id")
    mine = client.get("/laporan-saya")
    assert "Siti Rahmawati" in mine.text and "Anda belum mengirim laporan." in text_of(mine.text)
    tracking_id = web_submit(client, report_type="aspirasi", confidential="true")
    page = text_of(client.get(f"/lacak/{tracking_id}?pesan=terkirim").text)
    assert "Laporan Anda telah diterima" in page
    assert tracking_id in page and "Belum Terverifikasi" in page and "Aspirasi" in page and "Rahasia" in page
    assert REPORT_FIELDS["title"] in text_of(client.get("/laporan-saya").text)


def test_cookie_is_the_token_httponly_and_lax_and_secure_in_production(
    client: TestClient, mailbox: Mailbox, settings: ApiTestSettings, db_engine: Engine
) -> None:
    token = web_register(client, mailbox, "Siti Rahmawati", "siti.cookie@example.id")
    assert token.startswith("lpr_")
    me = client.get("/reporters/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "siti.cookie@example.id"
    production = create_app(
        settings.model_copy(update={"environment": "production"}), db=db_engine, run_dispatcher=False
    )
    with TestClient(production, base_url="https://testserver") as secure_client:
        form = secure_client.get("/daftar")
        cookie = form.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
        started = secure_client.post(
            "/daftar", data={"csrf": csrf_of(form.text), "name": "Siti", "email": "siti.cookie@example.id"}
        )
        registration = re.search(r'name="registration_id" value="([^"]+)"', started.text)
        assert registration
        verified = secure_client.post(
            "/verifikasi",
            data={
                "csrf": csrf_of(started.text),
                "registration_id": registration.group(1),
                "code": mailbox.last_code("siti.cookie@example.id"),
            },
            follow_redirects=False,
        )
    session_cookie = verified.headers["set-cookie"]
    assert session_cookie.startswith("lapor_sesi=lpr_")
    for attribute in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"):
        assert attribute in session_cookie


def test_pages_have_their_own_policy_and_the_api_keeps_its_own(client: TestClient) -> None:
    for path in ("/", "/daftar", "/masuk", "/laporan", "/lacak/PTK-0000-AAAAAA"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == PAGE_POLICY, path
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        assert "<script" not in answer.text and "style=" not in answer.text
    assert client.get("/statis/lapor.css").headers["content-type"].startswith("text/css")
    # The API's answers stay JSON, also for an error a page would render.
    missing = client.get("/reports/PTK-0000-AAAAAA")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "report_not_found"
    page = client.get("/lacak/PTK-0000-AAAAAA")
    assert page.status_code == 404 and "Laporan dengan nomor pelacakan ini tidak ditemukan." in page.text


def test_the_report_form_alone_runs_this_origins_script_and_works_without_it(
    client: TestClient, mailbox: Mailbox
) -> None:
    """The form's scripts (static/foto.js: photo shrinking and upload progress; sekitar.js: the nearby panel;
    Leaflet and peta.js: the map) all come from this origin and send to this origin only, images also from the
    configured tile server, nothing inline; the form itself is a plain multipart form that posts without them."""
    web_register(client, mailbox, "Siti Rahmawati", "siti.skrip@example.id")
    form = client.get("/lapor")
    policy = form.headers["content-security-policy"]
    tiles = tile_origin(client.app.state.context.settings.map_tile_url)  # type: ignore[attr-defined]
    assert policy == map_policy(tiles + "/", connect=True) and f"img-src 'self' {tiles};" in policy
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.findall(r"<script[^>]*>", form.text) == [
        '<script src="/statis/foto.js" defer>',
        '<script src="/statis/leaflet/leaflet.js" defer>',
        '<script src="/statis/peta.js" defer>',
        '<script src="/statis/sekitar.js" defer>',
    ]
    assert "style=" not in form.text and not re.search(r"<[^>]+\son[a-z]+=", form.text)  # no inline handler
    assert '<form method="post" action="/lapor" enctype="multipart/form-data"' in form.text
    assert '<div class="kemajuan" hidden>' in form.text  # the progress bar shows only once the script runs
    assert '<label for="kemajuan-kirim">Kemajuan pengiriman laporan</label>' in form.text
    script = client.get("/statis/foto.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "var LONGEST_SIDE = 2048;" in script.text and "var QUALITY = 0.75;" in script.text


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    client.get("/daftar")
    for data in ({}, {"csrf": "0" * 64}):
        refused = client.post("/daftar", data={**data, "name": "Siti", "email": "siti.csrf@example.id"})
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert "Formulir tidak sah atau sudah kedaluwarsa" in refused.text
    assert count(db_engine, RegistrationCode) == 0 and mailbox.to("siti.csrf@example.id") == []

    web_register(client, mailbox, "Siti Rahmawati", "siti.csrf@example.id")
    # A token of another session (the visitor form before sign-in) is no token of this one.
    for data in ({}, {"csrf": "0" * 64}):
        refused = client.post("/lapor", data={**FORM, **data}, files=photo_files(1))
        assert refused.status_code == 403, text_of(refused.text)
    assert count(db_engine, Report) == 0
    assert client.post("/keluar", data={}).status_code == 403
    assert client.get("/laporan-saya").status_code == 200  # still signed in


def test_sign_out_revokes_the_token(client: TestClient, mailbox: Mailbox) -> None:
    token = web_register(client, mailbox, "Siti Rahmawati", "siti.keluar@example.id")
    page = client.get("/laporan-saya")
    out = client.post("/keluar", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "lapor_sesi" not in client.cookies
    assert client.get("/reporters/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Replaying the old cookie signs nobody in.
    client.cookies.set("lapor_sesi", token)
    assert client.get("/laporan-saya", follow_redirects=False).headers["location"] == "/masuk"


def test_sign_in_with_the_code_for_a_known_reporter_only(client: TestClient, mailbox: Mailbox) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.masuk@example.id")
    client.cookies.clear()
    for email, expected in (("siti.masuk@example.id", 303), ("belum.terdaftar@example.id", 404)):
        form = client.get("/masuk")
        started = client.post("/masuk", data={"csrf": csrf_of(form.text), "email": email})
        registration = re.search(r'name="registration_id" value="([^"]+)"', started.text)
        assert registration, text_of(started.text)
        code = mailbox.last_code(email)
        data = {"csrf": csrf_of(started.text), "registration_id": registration.group(1), "code": code}
        answer = client.post("/verifikasi", data=data, follow_redirects=False)
        assert answer.status_code == expected, text_of(answer.text)
    assert "Belum ada pelapor terdaftar" in answer.text


def test_refusals_are_indonesian_next_to_the_field_and_keep_the_input(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    invalid = client.post("/daftar", data={"csrf": csrf_of(client.get("/daftar").text), "name": "S", "email": "x@"})
    assert invalid.status_code == 422
    assert 'id="galat-name">Terlalu pendek (minimal 2 karakter).' in invalid.text
    assert 'id="galat-email">alamat email tidak valid' in invalid.text
    web_register(client, mailbox, "Siti Rahmawati", "siti.galat@example.id")
    csrf = csrf_of(client.get("/lapor").text)
    text_as_photo = [("photos", ("foto.jpg", b"bukan gambar, hanya teks", "image/jpeg"))]
    refused = client.post("/lapor", data={**FORM, "csrf": csrf, "title": "Lampu jalan mati total"}, files=text_as_photo)
    assert refused.status_code == 422
    assert 'id="galat-photos">Foto ke-1 bukan gambar JPEG, PNG, atau WebP yang valid.' in refused.text
    assert 'value="Lampu jalan mati total"' in refused.text and REPORT_FIELDS["description"] in refused.text
    # The pair is checked as the API checks it (this kelurahan is not in that kecamatan), before any photo.
    wrong_pair = client.post(
        "/lapor", data={**FORM, "csrf": csrf, "lokasi": "61.71.01/61.71.02.1001"}, files=text_as_photo
    )
    assert wrong_pair.status_code == 422 and 'id="galat-lokasi">' in wrong_pair.text
    no_photo = client.post("/lapor", data={**FORM, "csrf": csrf})
    assert 'id="galat-photos">Lampirkan minimal satu foto.' in no_photo.text
    future = client.post("/lapor", data={**FORM, "csrf": csrf, "incident_date": "2099-01-01"}, files=photo_files(1))
    assert 'id="galat-incident_date">Tanggal kejadian tidak boleh di masa depan.' in future.text
    assert count(db_engine, Report) == 0


def test_coordinates_as_a_map_app_copies_them_and_refused_ones_next_to_the_field(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.peta@example.id")
    csrf = csrf_of(client.get("/lapor").text)
    for typed, message in [
        ("-0.0263", "Tulis koordinat sebagai lintang, bujur"),
        ("di depan masjid", "Tulis koordinat sebagai lintang, bujur"),
        ("-6.2088, 106.8456", "Titik koordinat itu berada di luar Kota Pontianak."),  # Jakarta
    ]:
        refused = client.post("/lapor", data={**FORM, "csrf": csrf, "koordinat": typed}, files=photo_files(1))
        assert refused.status_code == 422, typed
        assert f'id="galat-koordinat">{message}' in refused.text, typed
        assert f'value="{typed}"' in refused.text  # kept for correcting
    assert count(db_engine, Report) == 0

    # Decimal commas, as an Indonesian phone writes them, and the usual dot form both land on the report.
    for typed, point in [("-0,0263 109,3425", (-0.0263, 109.3425)), ("-0.0301, 109.3333", (-0.0301, 109.3333))]:
        tracking_id = web_submit(client, koordinat=typed)
        with session_scope(db_engine) as session:
            report = session.scalars(select(Report).where(Report.tracking_id == tracking_id)).one()
            assert (report.latitude, report.longitude) == point
        page = client.get(f"/lacak/{tracking_id}").text
        assert f"lihat di peta ({point[0]}, {point[1]})" in text_of(page)
        assert f"https://www.openstreetmap.org/?mlat={point[0]}&amp;mlon={point[1]}" in page
    without = web_submit(client)
    assert "lihat di peta" not in text_of(client.get(f"/lacak/{without}").text)


def test_another_reporter_sees_nothing_private_and_cannot_reply(
    client: TestClient, app: object, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.rahasia@example.id")
    secret = web_submit(client, confidential="true", title="Rahasia: pungutan liar di kantor")
    public = web_submit(client, title="Jalan rusak di Jl. Merdeka")
    set_status(db_engine, secret, ReportStatus.DIKEMBALIKAN)
    set_status(db_engine, public, ReportStatus.MENUNGGU_KONFIRMASI)
    with TestClient(app) as other:  # type: ignore[arg-type]
        web_register(other, mailbox, "Andi Pratama", "andi.lain@example.id")
        page = other.get(f"/lacak/{secret}")
        assert page.status_code == 404 and "pungutan liar" not in page.text
        csrf = csrf_of(other.get("/laporan-saya").text)
        supplement = other.post(f"/lacak/{secret}/lengkapi", data={"csrf": csrf, "text": "Saya ikut melengkapi."})
        assert supplement.status_code == 404
        shown = other.get(f"/lacak/{public}")
        assert shown.status_code == 200 and "Siti" not in shown.text and "siti.rahasia" not in shown.text
        assert "Konfirmasi hasil tindak lanjut" not in shown.text
        confirm = other.post(f"/lacak/{public}/konfirmasi", data={"csrf": csrf, "keputusan": "tolak", "rating": "1"})
        assert confirm.status_code == 403 and "Hanya pelapor yang dapat menanggapi laporan ini." in confirm.text
        assert "Rahasia: pungutan liar" not in other.get("/laporan").text
    with session_scope(db_engine) as session:
        assert session.scalar(select(func.count()).select_from(ReportMessage)) == 0


def test_supplement_and_confirmation_with_a_rating(client: TestClient, mailbox: Mailbox, db_engine: Engine) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.balas@example.id")
    tracking_id = web_submit(client)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN)
    page = client.get(f"/lacak/{tracking_id}")
    assert "Lengkapi laporan" in page.text
    empty = client.post(f"/lacak/{tracking_id}/lengkapi", data={"csrf": csrf_of(page.text), "text": " "})
    assert empty.status_code == 422 and 'id="galat-text">Wajib diisi.' in empty.text
    done = client.post(
        f"/lacak/{tracking_id}/lengkapi",
        data={"csrf": csrf_of(page.text), "text": "Lubangnya di sisi kiri jalan."},
        files=photo_files(1),
        follow_redirects=False,
    )
    assert done.status_code == 303, text_of(done.text)
    assert "Lubangnya di sisi kiri jalan." in client.get(done.headers["location"]).text
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI)
    page = client.get(f"/lacak/{tracking_id}")
    csrf = csrf_of(page.text)
    bad = client.post(f"/lacak/{tracking_id}/konfirmasi", data={"csrf": csrf, "keputusan": "terima", "rating": "9"})
    assert bad.status_code == 422 and 'id="galat-rating">Nilai maksimal 5.' in bad.text
    accepted = client.post(
        f"/lacak/{tracking_id}/konfirmasi",
        data={"csrf": csrf, "keputusan": "terima", "rating": "4", "comment": "Sudah ditambal."},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert "Terima kasih atas konfirmasi Anda." in client.get(accepted.headers["location"]).text
    again = client.post(f"/lacak/{tracking_id}/konfirmasi", data={"csrf": csrf, "keputusan": "tolak"})
    assert again.status_code == 409 and "Anda sudah memberi tanggapan" in again.text
    with session_scope(db_engine) as session:
        message = session.scalars(select(ReportMessage).where(ReportMessage.accepted.is_(True))).one()
        assert (message.rating, message.text) == (4, "Sudah ditambal.")


def test_pages_share_the_api_registration_limits(
    settings: ApiTestSettings, db_engine: Engine, mailbox: Mailbox, api_clock: Clock
) -> None:
    limits = {"registration:identity": Limit(2, timedelta(hours=1))}
    with TestClient(create_app(settings, db=db_engine, run_dispatcher=False, limits=limits, clock=api_clock)) as c:
        # Two codes through the JSON API use up the identity's bucket; the page answers as the API would.
        for _ in range(2):
            register(c, mailbox, Person("Siti", "siti.batas@example.id", ""))
        form = c.get("/daftar")
        limited = c.post("/daftar", data={"csrf": csrf_of(form.text), "name": "Siti", "email": "siti.batas@example.id"})
        assert limited.status_code == 429
        assert "Terlalu banyak permintaan. Silakan coba lagi nanti." in limited.text
        assert 'value="siti.batas@example.id"' in limited.text


def test_the_public_feed_filters_by_category_kecamatan_and_status(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.umpan@example.id")
    road = web_submit(client, title="Jalan berlubang di Parit Tokaya")
    waste = web_submit(client, title="Sampah menumpuk di Benua Melayu", category="SAMPAH")
    for tracking_id in (road, waste):
        set_status(db_engine, tracking_id, ReportStatus.PROSES)
    everything = text_of(client.get("/laporan").text)
    assert "Jalan berlubang di Parit Tokaya" in everything and "Sampah menumpuk di Benua Melayu" in everything
    only_waste = client.get("/laporan", params={"kategori": "SAMPAH", "status": "PROSES"})
    assert "Sampah menumpuk" in only_waste.text and "Jalan berlubang" not in only_waste.text
    assert '<option value="SAMPAH" selected>' in only_waste.text  # the filter stays chosen
    assert "Belum ada laporan publik yang cocok." in client.get("/laporan", params={"status": "SELESAI"}).text
    hostile = client.get("/laporan", params={"kategori": "<script>"})
    assert hostile.status_code == 422 and "<script>" not in hostile.text


def test_the_reporter_comments_and_staff_read_the_reporters_words(
    client: TestClient, mailbox: Mailbox, db_engine: Engine, settings: ApiTestSettings
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.komentar@example.id")
    tracking_id = web_submit(client)
    page = client.get(f"/lacak/{tracking_id}")
    assert "Tambah komentar" in page.text
    empty = client.post(f"/lacak/{tracking_id}/komentar", data={"csrf": csrf_of(page.text), "text": "  "})
    assert empty.status_code == 422 and 'id="galat-comment_text">Wajib diisi.' in empty.text
    kept = client.post(
        f"/lacak/{tracking_id}/komentar",
        data={"csrf": csrf_of(page.text), "text": "Lubangnya makin lebar setelah hujan."},
        follow_redirects=False,
    )
    assert kept.status_code == 303
    after = text_of(client.get(kept.headers["location"]).text)
    assert "Komentar Anda disimpan bersama laporan." in after and "Lubangnya makin lebar setelah hujan." in after
    # The staff's report page (signed link in Tasklist's forms) shows the reporter's words, never who they are.
    summary_path = signed_links.sign(
        signed_links.report_summary_path(tracking_id),
        START + timedelta(hours=1),
        key=signed_links.signing_key(settings),
    )
    summary = client.get(summary_path)
    assert summary.status_code == 200
    assert "Komentar pelapor" in summary.text and "Lubangnya makin lebar setelah hujan." in summary.text
    assert "Siti Rahmawati" not in summary.text and "siti.komentar@example.id" not in summary.text


def test_a_crash_on_a_page_is_a_page_and_the_api_stays_json(
    settings: ApiTestSettings, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(public, "last_activity", broken)  # used by the feed of both the API and the page
    with TestClient(create_app(settings, db=db_engine, run_dispatcher=False), raise_server_exceptions=False) as client:
        page = client.get("/laporan")
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "Terjadi kesalahan pada server" in page.text and "boom" not in page.text
        api = client.get("/public/reports")
        assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"


# -- hand-offs: the report returned to the reporter, the result awaiting their confirmation (issue 18) ---------------
def test_a_returned_report_shows_this_rounds_note_and_the_supplement_deadline_to_its_reporter_only(
    client: TestClient, app: FastAPI, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.kembali@example.id")
    tracking_id = web_submit(client)
    earlier = "Sebutkan nomor rumah terdekat."
    return_to_reporter(db_engine, tracking_id, note=earlier, due=SUPPLEMENT_DUE, at=START + timedelta(hours=1))
    set_status(db_engine, tracking_id, ReportStatus.BELUM_TERVERIFIKASI, at=START + timedelta(hours=20))
    note = "Foto lubang belum terlihat jelas; kirim foto dari dekat."
    return_to_reporter(db_engine, tracking_id, note=note, due=SUPPLEMENT_DUE, at=RETURNED_AT)
    internal = "Catatan internal petugas: cek ulang nomor rumah."
    kind = MessageKind.DOCUMENTATION_NOTE
    add_message(db_engine, tracking_id, author=Actor.ADMIN_PENGADUAN, kind=kind, text=internal, at=RETURNED_AT)

    page = client.get(f"/lacak/{tracking_id}").text
    due = "Jumat, 18 Desember 2026 pukul 23.59 WIB"
    assert f"Batas waktu kelengkapan laporan oleh pelapor: {due}" in text_of(page)
    form = section(page, "Lengkapi laporan")
    assert f"Catatan Admin Pengaduan: {note}" in form and earlier not in form
    assert f"Kirim kelengkapan paling lambat {due}" in form
    assert "Bila laporan belum dilengkapi sampai saat itu, laporan ditutup." in form
    # The earlier round's note is kept below, the current one is not listed twice; staff notes never show.
    assert earlier in section(page, "Catatan Admin Pengaduan") and note not in section(page, "Catatan Admin Pengaduan")
    assert internal not in page
    assert_readable(page)
    # The note may say what is missing: nobody but the reporter reads it (the public sees the progress only).
    with TestClient(app) as other:
        assert note not in other.get(f"/lacak/{tracking_id}").text
        web_register(other, mailbox, "Andi Pratama", "andi.kembali@example.id")
        shown = other.get(f"/lacak/{tracking_id}").text
        assert note not in shown and earlier not in shown and "Lengkapi laporan" not in shown
        assert f"Batas waktu kelengkapan laporan oleh pelapor: {due}" in text_of(shown)


def test_after_supplementing_the_form_gives_way_to_received_and_awaiting_verification(
    client: TestClient, mailbox: Mailbox, db_engine: Engine, api_clock: Clock
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.lengkapi@example.id")
    tracking_id = web_submit(client)
    return_to_reporter(db_engine, tracking_id, note="Kirim foto dari dekat.", due=SUPPLEMENT_DUE, at=RETURNED_AT)
    api_clock.advance(timedelta(days=2))
    page = client.get(f"/lacak/{tracking_id}").text
    done = client.post(
        f"/lacak/{tracking_id}/lengkapi",
        data={"csrf": csrf_of(page), "text": "Foto dari dekat terlampir."},
        files=photo_files(1),
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/lacak/{tracking_id}?pesan=dilengkapi"
    # Post/redirect/get: the page after the redirect, and any later reload, already shows the new state, while the
    # engine's worker has not moved the status yet.
    for path in (done.headers["location"], f"/lacak/{tracking_id}"):
        after = client.get(path).text
        assert f"/lacak/{tracking_id}/lengkapi" not in after and not section(after, "Lengkapi laporan")
        assert (
            "Kelengkapan laporan Anda diterima pada 28 November 2026 10.00 WIB "
            "dan menunggu verifikasi ulang oleh Admin Pengaduan."
        ) in text_of(after)
        assert "Batas waktu kelengkapan" not in text_of(after)
        assert "Foto dari dekat terlampir." in section(after, "Pesan Anda")
        assert "Kirim foto dari dekat." in section(after, "Catatan Admin Pengaduan")
    # The engine verifies again; a second return without a note never shows the first round's note as its own.
    set_status(db_engine, tracking_id, ReportStatus.BELUM_TERVERIFIKASI, at=START + timedelta(days=2, hours=1))
    verifying = client.get(f"/lacak/{tracking_id}").text
    assert "Dilengkapi pelapor, menunggu verifikasi ulang" in section(verifying, "Perjalanan laporan")
    assert "menunggu verifikasi ulang oleh Admin Pengaduan" not in text_of(verifying)  # the status says it now
    return_to_reporter(db_engine, tracking_id, note=None, due=SUPPLEMENT_DUE, at=START + timedelta(days=3))
    form = section(client.get(f"/lacak/{tracking_id}").text, "Lengkapi laporan")
    assert "Admin Pengaduan mengembalikan laporan ini" in form and "Kirim foto dari dekat." not in form


@pytest.mark.parametrize(
    ("decision", "line", "moved", "event"),
    [
        (
            "terima",
            "Anda menerima hasil tindak lanjut ini pada 26 November 2026 10.00 WIB. Laporan akan dinyatakan selesai.",
            ReportStatus.SELESAI,
            "Hasil diterima pelapor",
        ),
        (
            "tolak",
            "Anda menolak hasil tindak lanjut ini pada 26 November 2026 10.00 WIB; "
            "laporan dikembalikan ke OPD untuk ditindaklanjuti kembali.",
            ReportStatus.PROSES,
            "Hasil ditolak pelapor",
        ),
    ],
)
def test_after_accepting_or_rejecting_the_form_gives_way_to_what_was_sent(
    client: TestClient,
    app: FastAPI,
    mailbox: Mailbox,
    db_engine: Engine,
    decision: str,
    line: str,
    moved: ReportStatus,
    event: str,
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", f"siti.{decision}@example.id")
    tracking_id = web_submit(client)
    await_confirmation(app, tracking_id, completion="Lubang sudah ditambal.", due=CONFIRMATION_DUE, at=RETURNED_AT)
    page = client.get(f"/lacak/{tracking_id}").text
    assert section(page, "Konfirmasi hasil tindak lanjut")
    answer = client.post(
        f"/lacak/{tracking_id}/konfirmasi",
        data={"csrf": csrf_of(page), "keputusan": decision, "rating": "2"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert f"/lacak/{tracking_id}/konfirmasi" not in after and line in text_of(after)
    assert "Batas waktu konfirmasi pelapor" not in text_of(after)
    assert_readable(after)
    # The engine's worker records what the reporter decided; the timeline says so, the status keeps its name.
    set_status(db_engine, tracking_id, moved, at=START + timedelta(days=2), actor=Actor.PELAPOR)
    later = client.get(f"/lacak/{tracking_id}").text
    assert f"{event} Status: {moved.label}" in section(later, "Perjalanan laporan")
    assert line not in text_of(later)
    assert ("menerima" if decision == "terima" else "menolak") + " hasil · penilaian 2 (Tidak puas)" in section(
        later, "Pesan Anda"
    )


def test_awaiting_confirmation_shows_the_deadline_and_the_proof_photo_next_to_the_completion(
    client: TestClient, app: FastAPI, mailbox: Mailbox
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.bukti@example.id")
    tracking_id = web_submit(client)
    completion = "Lubang sudah ditambal dengan aspal."
    await_confirmation(app, tracking_id, completion=completion, due=CONFIRMATION_DUE, at=RETURNED_AT)
    page = client.get(f"/lacak/{tracking_id}").text
    due = "Senin, 7 Desember 2026 pukul 23.59 WIB"
    assert f"Batas waktu konfirmasi pelapor: {due}" in text_of(page)
    card = section(page, "Konfirmasi hasil tindak lanjut")
    assert f"Berikan tanggapan paling lambat {due}" in card
    assert "Bila tidak ada tanggapan sampai saat itu, laporan dinyatakan selesai secara otomatis." in card
    entry = re.search(r"<li>(?:(?!</li>).)*" + completion + r"(?:(?!</li>).)*</li>", page, re.DOTALL)
    assert entry is not None and 'alt="Foto bukti penyelesaian 1"' in entry.group(0)
    proof = re.search(r'<img src="http://testserver([^"]+)" alt="Foto bukti penyelesaian 1"', entry.group(0))
    assert proof is not None and client.get(proof.group(1).replace("&amp;", "&")).status_code == 200
    assert_readable(page)
    # A result awaiting confirmation without the OPD's text (an older round, a form without it) still shows its proof.
    silent = web_submit(client)
    await_confirmation(app, silent, completion=None, due=CONFIRMATION_DUE, at=RETURNED_AT)
    silent_page = client.get(f"/lacak/{silent}").text
    assert 'alt="Foto bukti penyelesaian 1"' in silent_page
    assert "Foto bukti penyelesaian" in section(silent_page, "Tanggapan OPD")


def test_the_rating_has_words_for_its_ends_and_a_way_to_give_none(
    client: TestClient, app: FastAPI, mailbox: Mailbox
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.nilai@example.id")
    tracking_id = web_submit(client)
    await_confirmation(app, tracking_id, completion="Selesai.", due=CONFIRMATION_DUE, at=RETURNED_AT)
    page = client.get(f"/lacak/{tracking_id}").text
    card = section(page, "Konfirmasi hasil tindak lanjut")
    assert "Seberapa puas Anda dengan hasilnya? (opsional, tidak ditampilkan kepada publik)" in card
    assert "1 Sangat tidak puas 2 Tidak puas 3 Cukup puas 4 Puas 5 Sangat puas Tanpa penilaian" in card
    choices = re.findall(r'<input type="radio" name="rating" value="(\d?)"( checked)?>', page)
    assert choices == [("1", ""), ("2", ""), ("3", ""), ("4", ""), ("5", ""), ("", " checked")]
    # A refused answer keeps the chosen rating.
    refused = client.post(f"/lacak/{tracking_id}/konfirmasi", data={"csrf": csrf_of(page), "rating": "4"})
    assert refused.status_code == 422 and '<input type="radio" name="rating" value="4" checked>' in refused.text


def test_messages_are_grouped_by_who_wrote_them(
    client: TestClient, mailbox: Mailbox, db_engine: Engine, api_clock: Clock
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.pesan@example.id")
    tracking_id = web_submit(client)
    return_to_reporter(db_engine, tracking_id, note="Alamatnya kurang jelas.", due=SUPPLEMENT_DUE, at=RETURNED_AT)
    api_clock.advance(timedelta(days=2))
    page = client.get(f"/lacak/{tracking_id}").text
    client.post(f"/lacak/{tracking_id}/lengkapi", data={"csrf": csrf_of(page), "text": "Di depan SDN 12."})
    for status, actor in ((ReportStatus.BELUM_TERVERIFIKASI, Actor.SISTEM), (ReportStatus.PROSES, Actor.OPD)):
        set_status(db_engine, tracking_id, status, at=START + timedelta(days=3), actor=actor)
    opd, internal = Actor.OPD, MessageKind.DOCUMENTATION_NOTE
    at = START + timedelta(days=3)
    add_message(db_engine, tracking_id, author=opd, kind=MessageKind.OPD_RESPONSE, text="Tim menambal Senin.", at=at)
    add_message(db_engine, tracking_id, author=Actor.ADMIN_PENGADUAN, kind=internal, text="Internal.", at=at)
    client.post(f"/lacak/{tracking_id}/komentar", data={"csrf": csrf_of(page), "text": "Terima kasih."})

    page = client.get(f"/lacak/{tracking_id}").text
    own, answers, notes = (section(page, h) for h in ("Pesan Anda", "Tanggapan OPD", "Catatan Admin Pengaduan"))
    assert "Di depan SDN 12." in own and "Terima kasih." in own
    assert "Tim menambal Senin." not in own and "Alamatnya kurang jelas." not in own
    assert "Tim menambal Senin." in answers and "Terima kasih." not in answers
    assert "Alamatnya kurang jelas." in notes and "Di depan SDN 12." not in notes
    assert "Internal." not in page


def test_the_timeline_says_what_happened_and_keeps_the_status_names(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.linimasa@example.id")
    done, closed = web_submit(client), web_submit(client)
    s, admin = ReportStatus, Actor.ADMIN_PENGADUAN
    steps = {
        done: [
            (s.BELUM_TERVERIFIKASI, Actor.SISTEM),
            (s.DIKEMBALIKAN, admin),
            (s.BELUM_TERVERIFIKASI, Actor.SISTEM),
            (s.TERVERIFIKASI, admin),
            (s.PROSES, Actor.OPD),
            (s.MENUNGGU_KONFIRMASI, admin),
            (s.PROSES, Actor.PELAPOR),
            (s.MENUNGGU_KONFIRMASI, admin),
            (s.SELESAI, Actor.SISTEM),
        ],
        closed: [(s.BELUM_TERVERIFIKASI, Actor.SISTEM), (s.DIKEMBALIKAN, admin), (s.DITUTUP, Actor.SISTEM)],
    }
    for tracking_id, changes in steps.items():
        for hour, (status, actor) in enumerate(changes):
            set_status(db_engine, tracking_id, status, at=START + timedelta(hours=hour), actor=actor)
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, done).opd_code = "PUPR"

    def lines(tracking_id: str) -> list[tuple[str, str]]:
        page = client.get(f"/lacak/{tracking_id}").text
        assert_readable(page)
        found = re.findall(r'<strong>([^<]+)</strong> <span class="status-kecil">Status: ([^<]+)</span>', page)
        return [(label, status) for label, status in found]

    assert lines(done) == [
        ("Laporan diterima, menunggu verifikasi", "Belum Terverifikasi"),
        ("Dikembalikan untuk dilengkapi", "Dikembalikan"),
        ("Dilengkapi pelapor, menunggu verifikasi ulang", "Belum Terverifikasi"),
        ("Diverifikasi dan didisposisikan ke Dinas Pekerjaan Umum dan Penataan Ruang", s.TERVERIFIKASI.label),
        ("Ditanggapi OPD, sedang ditindaklanjuti", "Proses"),
        ("Hasil tindak lanjut disampaikan, menunggu konfirmasi pelapor", "Menunggu Konfirmasi Pelapor"),
        ("Hasil ditolak pelapor", "Proses"),
        ("Hasil tindak lanjut disampaikan, menunggu konfirmasi pelapor", "Menunggu Konfirmasi Pelapor"),
        ("Selesai otomatis (pelapor tidak menanggapi)", "Selesai"),
    ]
    assert lines(closed)[-1] == ("Ditutup karena tidak dilengkapi sampai batas waktu", "Ditutup")
