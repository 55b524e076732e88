"""A reporter's data on request in a real headless Chromium (issue 23 item 1): the signed-in reporter opens
"Data saya" from "Laporan saya", reads everything held about them (their anonymous and confidential reports
included, another reporter's report not), and downloads the ZIP through the browser's own download; the file holds
data.json and the photo files. Screenshots in tests/web/screenshots/<test>/."""

import json
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from selenium.webdriver.common.by import By
from sqlalchemy import Engine, select

from api.personal_data import EXPORT_BUCKET
from api.staff_session import STAFF_COOKIE, StaffMember, encode_member
from lapor import intake, ratelimit, uploads
from lapor.db import session_scope
from lapor.models import Reporter, ReporterAuditEntry
from lapor.reporter_audit import ReporterAction
from tests.api.conftest import ApiTestSettings, image_bytes
from tests.conftest import Mailbox
from tests.web.conftest import LiveServer, PageBrowser, assert_readable


def file_report(db: Engine, settings: ApiTestSettings, email: str, title: str, **options: bool) -> str:
    """A report of the reporter with this e-mail, with one photo, through the one intake (as the page would)."""
    with session_scope(db) as session:
        reporter_id = session.scalar(select(Reporter.id).where(Reporter.email == email))
    data = intake.ReportData(
        title=title,
        description=f"{title}: sudah seminggu, mohon ditindaklanjuti.",
        category="JALAN",
        kecamatan="61.71.01",
        kelurahan="61.71.01.1002",
        address="Jl. Tanjungpura No. 1",
        **options,
    )
    request = intake.IntakeRequest(data, channel="web", reporter_id=reporter_id, photos=(image_bytes(color="blue"),))
    rules = intake.PhotoRules(upload_dir=uploads.upload_dir(Path(settings.data_dir)))
    with session_scope(db) as session:
        return intake.accept(session, request, rules=rules, now=datetime.now(UTC)).report.tracking_id


def downloaded(folder: Path, *, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [f for f in folder.glob("*.zip") if f.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download in {folder}: {list(folder.iterdir())}")


def test_a_reporter_reads_and_downloads_their_data(
    browser: PageBrowser, mailbox: Mailbox, db_engine: Engine, live_settings: ApiTestSettings, tmp_path: Path
) -> None:
    other = "andi.data@example.id"
    browser.register(mailbox, "Andi Pratama", other)
    theirs = file_report(db_engine, live_settings, other, "Saluran tersumbat milik Andi")
    browser.driver.delete_all_cookies()
    email = "siti.data@example.id"
    browser.register(mailbox, "Siti Rahmawati", email)
    mine = [
        file_report(db_engine, live_settings, email, "Lampu jalan padam", show_name=True),
        file_report(db_engine, live_settings, email, "Pungutan liar di pasar", anonymous=True),
        file_report(db_engine, live_settings, email, "Laporan rahasia tentang sekolah", confidential=True),
    ]
    browser.open("/laporan-saya")
    browser.driver.find_element(By.LINK_TEXT, "Data saya").click()
    browser.wait_text("Semua data yang disimpan")
    browser.shot("data-saya", full_page=True)
    text = browser.text()
    assert "Siti Rahmawati" in text and email in text
    assert all(tracking_id in text for tracking_id in mine)
    assert "Andi" not in text and theirs not in text and other not in text
    assert "Anonim (identitas disembunyikan dari publik dan OPD)" in text
    assert_readable(browser.driver.page_source)
    folder = tmp_path / "unduhan"
    folder.mkdir()
    browser.driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    browser.submit("Unduh data saya (ZIP)")
    archive = zipfile.ZipFile(downloaded(folder))
    data = json.loads(archive.read("data.json"))
    assert [r["tracking_id"] for r in data["reports"]] == mine
    assert data["identity"]["email"] == email
    photos = [p["file"] for r in data["reports"] for p in r["photos"]]
    assert len(photos) == 3 and all(name in archive.namelist() for name in photos)
    assert "Andi" not in json.dumps(data, ensure_ascii=False)
    browser.open("/data-saya")  # the page now lists the download in the access record
    browser.wait_text("Data pribadi diunduh")
    browser.shot("catatan-akses", full_page=True)

    def exports() -> int:
        with session_scope(db_engine) as session:
            return len(
                session.scalars(
                    select(ReporterAuditEntry.id).where(ReporterAuditEntry.action == ReporterAction.DATA_EXPORTED.value)
                ).all()
            )

    for count in (2, 3):  # the second and third download of the hour (LAPOR_RATE_LIMIT_EXPORT_REPORTER: 3/1h)
        browser.open("/data-saya")
        browser.submit("Unduh data saya (ZIP)")  # Chromium saves it under the same name: counted where it is recorded
        deadline = time.monotonic() + 20
        while exports() < count:
            assert time.monotonic() < deadline, browser.text()[:300]
            time.sleep(0.1)
    browser.open("/data-saya")
    browser.submit("Unduh data saya (ZIP)")  # the fourth: refused on the page, nothing downloaded
    browser.wait_text("Data ini sudah diunduh 3 kali dalam 1 jam terakhir")
    browser.shot("unduhan-dibatasi", full_page=True)
    assert "Data saya" in browser.driver.title  # said on her own page, above the button she pressed
    browser.driver.find_element(By.ID, "unduh-data")
    assert_readable(browser.driver.page_source)
    assert exports() == 3  # refused before anything was collected or recorded


def test_the_front_desk_page_in_the_browser(
    browser: PageBrowser, mailbox: Mailbox, db_engine: Engine, live_settings: ApiTestSettings, live: LiveServer
) -> None:
    """Admin Pengaduan's page for a request in person, with the staff cookie a sign-in sets (signing in on the real
    engine is tests/webapps/test_front_desk.py's)."""
    email = "siti.meja@example.id"
    browser.register(mailbox, "Siti Rahmawati", email)
    mine = file_report(db_engine, live_settings, email, "Lampu jalan padam", anonymous=True)
    browser.driver.delete_all_cookies()
    member = StaffMember("admin-pengaduan", "Admin Pengaduan", ("admin-pengaduan",), int(time.time()) + 3600, "n")
    browser.open("/staf/masuk")
    browser.driver.add_cookie(
        {"name": STAFF_COOKIE, "value": encode_member(live.app.state.context.signing_key, member), "path": "/staf"}
    )
    browser.open("/staf")
    browser.driver.find_element(By.LINK_TEXT, "Permintaan data pelapor").click()
    browser.wait_text("cari dengan email atau")
    browser.fill("email", "orang.lain@example.id")
    browser.submit("Cari pelapor")
    browser.wait_text("Tidak ada satu pelapor")
    browser.shot("tidak-ditemukan")
    browser.fill("email", email.upper())
    browser.submit("Cari pelapor")
    browser.wait_text("Pembukaan halaman ini tercatat")
    browser.shot("data-pelapor", full_page=True)
    text = browser.text()
    assert "Siti Rahmawati" in text and mine in text
    assert "Identitas pelapor dibuka petugas" in text and "Petugas admin-pengaduan" in text
    assert_readable(browser.driver.page_source)
    # Her data was downloaded as often as the hour allows (by her, on Data saya): the desk is refused too, and says
    # when to try again, so the staff member can tell the person in front of them.
    with session_scope(db_engine) as session:
        her = session.scalars(select(Reporter.id).where(Reporter.email == email)).one()
        for _ in range(3):
            ratelimit.record(session, bucket=EXPORT_BUCKET, subject=str(her), now=datetime.now(UTC))
    browser.submit("Unduh data pelapor (ZIP)")
    browser.wait_text("Data ini sudah diunduh 3 kali dalam 1 jam terakhir")
    browser.shot("unduhan-dibatasi-meja", full_page=True)
