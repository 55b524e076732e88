"""The front desk in the browser (issue 20, item 4): Admin Pengaduan signs in on /staf/masuk with the Tasklist login,
files a face-to-face report with a scanned letter, and finds it in Tasklist's "Verifikasi" filter. A real headless
Chromium on the API served by uvicorn and the real engine. Screenshots: tests/web/screenshots/<test>/ (the staff
pages) and tests/webapps/screenshots/<test>/ (Tasklist)."""

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import Engine

from engine import LocalEngine
from lapor.process import EngineClient
from tests.api.conftest import ApiTestSettings, image_bytes
from tests.api.test_engine import cancel_afterwards, svc_api
from tests.chromium import chromium
from tests.conftest import WEB_PORT, login
from tests.web import conftest as web_fixtures
from tests.web.conftest import PageBrowser
from tests.webapps.conftest import WebappBrowser
from tests.webapps.test_walk import dispatch_outbox, form_shows, open_in_tasklist, tasklist_screen, walk_workers
from workers.deps import Deps

pytestmark = pytest.mark.engine

# The API on the emptied test database, served on the port the engine's Tasklist links to (tests/conftest.py WEB_URL).
api_clock = web_fixtures.api_clock
app = web_fixtures.app
db_engine = web_fixtures.db_engine
limits = web_fixtures.limits
settings = web_fixtures.settings
sms_gateway = web_fixtures.sms_gateway
live = web_fixtures.live
cancel_afterwards = cancel_afterwards
svc_api = svc_api
walk_workers = walk_workers

TITLE = "Drainase tersumbat di Jl. Gajah Mada"
DESCRIPTION = "Warga datang ke Diskominfo membawa surat: parit tersumbat sampah, air meluap ke jalan setiap hujan."


@pytest.fixture
def live_port() -> int:
    return WEB_PORT


@pytest.fixture
def live_settings(settings: ApiTestSettings, live_port: int, engine: LocalEngine) -> ApiTestSettings:
    """The served API signs staff in against the test engine."""
    return settings.model_copy(
        update={"public_base_url": f"http://127.0.0.1:{live_port}", "engine_url": engine.rest_url}
    )


@pytest.fixture
def desk(request: pytest.FixtureRequest) -> Iterator[PageBrowser]:
    """The front desk's computer: the staff pages at 1280 px."""
    driver = chromium(1280, 900)
    folder = web_fixtures.SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = PageBrowser(driver, f"http://127.0.0.1:{WEB_PORT}", folder)
    try:
        yield session
    finally:
        session.shot("akhir")
        driver.quit()


def sign_in(desk: PageBrowser) -> None:
    desk.open("/staf/laporan-baru")
    desk.wait_text("Masuk petugas")  # sent to the sign-in page, and back to the form afterwards
    desk.fill("user_id", "admin-pengaduan")
    desk.fill("password", "salah")
    desk.submit("Masuk")
    desk.wait_text("ID pengguna atau kata sandi salah")
    assert desk.value("user_id") == "admin-pengaduan" and desk.value("password") == ""
    desk.shot("kata-sandi-salah")
    time.sleep(5.5)  # the engine holds a login up to 5 s after a wrong password (loginDelayMaxTime)
    desk.fill("password", "admin-pengaduan")
    desk.submit("Masuk")
    desk.wait_text("Catat laporan baru")


def fill_face_to_face(desk: PageBrowser, scan: Path) -> None:
    desk.driver.find_element(By.CSS_SELECTOR, "input[name=source][value=tatap_muka]").click()
    desk.fill("reporter_name", "Ibu Marlina")
    desk.fill("reporter_email", "marlina.warga@example.id")
    desk.fill("description", DESCRIPTION)
    desk.select("category", "Jalan dan Jembatan")
    desk.driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
    desk.fill("address", "Jl. Gajah Mada depan ruko nomor 8")
    desk.driver.find_element(By.NAME, "photos").send_keys(str(scan))


async def test_the_front_desk_files_a_face_to_face_report_that_reaches_verification(
    desk: PageBrowser,
    browser: WebappBrowser,
    live: web_fixtures.LiveServer,
    walk_workers: Deps,
    cancel_afterwards: None,
    svc_api: EngineClient,
    operaton: EngineClient,
    db_engine: Engine,
    tmp_path: Path,
    engine: LocalEngine,
) -> None:
    await asyncio.to_thread(sign_in, desk)
    assert "Admin Pengaduan Daerah" in desk.text()  # who is signed in, in the header
    desk.shot("formulir-kosong", full_page=True)
    scan = tmp_path / "pindaian-surat.jpg"
    scan.write_bytes(image_bytes(size=(1240, 1754), color="white", gps=False))  # an A4 page at 150 dpi

    # The title forgotten: the error stands next to it, and everything typed stays.
    await asyncio.to_thread(fill_face_to_face, desk, scan)
    desk.submit("Catat laporan")
    desk.wait_text("Periksa kembali isian yang ditandai")
    assert desk.driver.find_element(By.ID, "galat-title").text
    assert desk.value("reporter_email") == "marlina.warga@example.id" and desk.value("description") == DESCRIPTION
    desk.shot("judul-terlupa", full_page=True)

    desk.fill("title", TITLE)
    desk.driver.find_element(By.NAME, "photos").send_keys(str(scan))  # files are chosen again
    desk.submit("Catat laporan")
    desk.wait_text("Laporan tercatat")
    tracking_id = desk.driver.find_element(By.CSS_SELECTOR, ".nomor-laporan").text
    text = desk.text()
    assert 'filter "Verifikasi"' in text and "Tatap muka" in text and "Pelapor menerima pemberitahuan" in text
    desk.shot("laporan-tercatat", full_page=True)

    await dispatch_outbox(svc_api, db_engine)
    browser.viewport(1366, 768)
    await open_in_tasklist(browser, operaton, "admin-pengaduan", "Verifikasi", tracking_id, "VerifyReportTask")
    shown = form_shows(browser, tracking_id, "Kanal: Petugas, diterima melalui tatap muka", "Foto pendukung: 1")
    assert "Jalan dan Jembatan" in shown
    tasklist_screen(browser, "verifikasi-laporan-meja-depan")
    # The koordinator reads who did what with it: the clerk who filed it, and Admin Pengaduan taking the task.
    task = operaton.tasks(definition_key="VerifyReportTask", business_key=tracking_id)
    with login(engine, "admin-pengaduan") as clerk:
        await asyncio.to_thread(clerk.claim, task[0].id, "admin-pengaduan")
    await asyncio.to_thread(read_the_trail, desk, tracking_id)


def test_a_role_that_may_not_file_is_told_so_in_words(desk: PageBrowser, live: web_fixtures.LiveServer) -> None:
    desk.open("/staf/laporan-baru")
    desk.wait_text("Masuk petugas")
    desk.fill("user_id", "analis")
    desk.fill("password", "analis")
    desk.submit("Masuk")
    desk.wait_text("Tidak diizinkan")
    assert "Peran Anda tidak berhak membuka halaman ini." in desk.text() and "Analis Pengaduan Publik" in desk.text()
    desk.shot("analis-tidak-diizinkan")
    desk.submit("Keluar")
    desk.wait_text("Anda telah keluar")
    desk.open("/staf/laporan-baru")
    desk.wait_text("Masuk petugas")


def read_the_trail(desk: PageBrowser, tracking_id: str) -> None:
    desk.submit("Keluar")
    desk.open("/staf")
    desk.wait_text("Masuk petugas")
    desk.fill("user_id", "koordinator")
    desk.fill("password", "koordinator")
    desk.submit("Masuk")
    desk.wait_text("Jejak audit laporan: nomor laporan")
    desk.fill("nomor", tracking_id)
    desk.submit("Buka jejak audit")
    desk.wait_text("Siapa melakukan apa, kapan")
    rows = [row.text for row in desk.driver.find_elements(By.CSS_SELECTOR, "table.jejak tbody tr")]
    assert "Rantai jejak utuh" in desk.text()
    assert "Petugas: admin-pengaduan Laporan diterima Laporan masuk: Petugas, diterima melalui tatap muka" in rows[0]
    assert any(
        "Petugas: admin-pengaduan Tindakan pada tugas" in row and f"Verifikasi laporan {tracking_id}» diambil" in row
        for row in rows
    ), rows
    assert "marlina" not in desk.text().lower()  # the reporter the clerk typed in is never in the trail
    desk.shot("jejak-audit-koordinator", full_page=True)
