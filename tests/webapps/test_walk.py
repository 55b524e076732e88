"""One report walked across every role, as each person uses the system, in Bahasa Indonesia (issue 18): the citizen on
a 390 px phone on the web page, Admin Pengaduan, the kepala bidang and PUPR's liaison in Tasklist at 1366x768. At
each hand-off the test asserts what the next person sees and needs, and what the mail catcher holds for them.
Screenshots of every step: tests/webapps/screenshots/test_one_report_walks_across_every_role/ (Tasklist) and
tests/web/screenshots/test_one_report_walks_across_every_role/ (the citizen's phone)."""

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, func, select

from engine import LocalEngine
from lapor import masterdata
from lapor.db import session_scope
from lapor.models import OutboxMessage
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient, Task
from lapor.settings import Settings
from tests.api.conftest import ApiTestSettings, image_bytes
from tests.api.test_engine import cancel_afterwards, svc_api, workers_on
from tests.chromium import chromium
from tests.conftest import WEB_PORT, Mailbox, body_of, eventually
from tests.web import conftest as web_fixtures
from tests.web.conftest import PageBrowser
from tests.web.test_browser import fill_report, register_in_browser
from tests.webapps.conftest import WebappBrowser
from tests.webapps.test_webapps import card_of, claim_if_needed, complete_in_tasklist, filter_fragment
from workers.deps import Deps

pytestmark = pytest.mark.engine

# The citizen page's fixtures (the API app on the emptied test database, served by uvicorn) on the port the engine's
# Tasklist admits images from (tests/conftest.py WEB_URL), so the documentation form can show the proof photo.
api_clock = web_fixtures.api_clock
app = web_fixtures.app
db_engine = web_fixtures.db_engine
limits = web_fixtures.limits
settings = web_fixtures.settings
sms_gateway = web_fixtures.sms_gateway
live_settings = web_fixtures.live_settings
live = web_fixtures.live
cancel_afterwards = cancel_afterwards
svc_api = svc_api

REPORTER_EMAIL = "dewi.jalan@example.id"
OPD_PUPR_EMAIL = "pupr@pontianak.go.id"
RETURN_NOTE = "Mohon tambahkan foto lubang dari dekat dan patokan terdekat (nama toko atau nomor rumah)."
REJECTION = "Lubangnya masih ada di depan toko nomor 12, hanya ditimbun tanah."
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
RAW_CODES = re.compile(r"\bopd-[a-z-]+\b|\b61\.71\.\d{2}\b|OPD[^:\n]*: [A-Z][A-Z-]+$|\bJALAN\b", re.MULTILINE)
# Tasklist's own words that would show if a label were left untranslated.
ENGLISH = re.compile(
    r"\b(Claim|Unclaim|Complete|Save|Due date|Follow-up|Created|Add comment|Start process|Create task|Filter tasks|"
    r"Description|History|Form|Assignee|undefined|null)\b"
)


@pytest.fixture
def live_port() -> int:
    return WEB_PORT


@pytest.fixture
async def walk_workers(
    engine: LocalEngine,
    provisioned: Settings,
    db_engine: Engine,
    mailbox: Mailbox,
    live_settings: ApiTestSettings,
) -> AsyncIterator[Deps]:
    """The workers on the page's database and files, signing links for its address (as one deployment shares them)."""
    async with workers_on(engine, provisioned, db_engine, mailbox, live_settings) as deps:
        yield deps


@pytest.fixture
def phone(request: pytest.FixtureRequest) -> Iterator[PageBrowser]:
    """The reporter's phone: the citizen page at 390 px."""
    driver = chromium(800, 900)
    folder = web_fixtures.SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = PageBrowser(driver, f"http://127.0.0.1:{WEB_PORT}", folder, phone=True)
    session.emulate_phone()
    try:
        yield session
    finally:
        session.shot("akhir")
        driver.quit()


def screen_is_for_people(text: str, where: str) -> None:
    """No ISO moment, no raw code, no English label on a screen a person reads."""
    for pattern in (ISO_MOMENT, RAW_CODES, ENGLISH):
        found = pattern.search(text)
        assert found is None, f"{where}: {found.group(0)!r} on the screen:\n{text}"


def tasklist_screen(browser: WebappBrowser, name: str) -> str:
    """Screenshot the Tasklist screen, check it speaks to people, and that the footer covers nothing at 1366x768."""
    boxes = browser.driver.execute_script(
        """
        document.querySelectorAll('.three-cols-layout-cell.content').forEach(c => { c.scrollTop = c.scrollHeight; });
        const box = e => e && e.getBoundingClientRect().toJSON();
        return {footer: box(document.querySelector('footer[cam-widget-footer]')),
                complete: box(document.querySelector('[cam-tasklist-form] .form-actions .btn-primary'))};
        """
    )
    if boxes["complete"] and boxes["footer"]:
        assert boxes["complete"]["bottom"] <= boxes["footer"]["top"], (name, boxes)
    browser.shot(name)
    text = browser.text()
    screen_is_for_people(text, name)
    return text


async def dispatch_outbox(svc_api: EngineClient, db: Engine) -> None:
    """What the API's outbox dispatcher does in the background: start the process, deliver the reporter's replies.
    A reply can arrive before the process waits for it (the status changes a step earlier); it is tried again."""
    dispatcher = OutboxDispatcher(svc_api, db, base_delay=timedelta(milliseconds=200), lease=timedelta(seconds=1))

    async def delivered() -> bool:
        await dispatcher.run_once()
        with session_scope(db) as session:
            return not session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None)))

    deadline = asyncio.get_running_loop().time() + 60
    while not await delivered():
        assert asyncio.get_running_loop().time() < deadline, "the outbox did not reach the engine in 60 s"
        await asyncio.sleep(0.5)


async def open_in_tasklist(
    browser: WebappBrowser, operaton: EngineClient, user: str, filter_name: str, tracking_id: str, element: str
) -> Task:
    """Log in, open the filter, type the tracking number in the search box and open the report's task from its card."""
    task = await eventually(lambda: next(iter(operaton.tasks(business_key=tracking_id, definition_key=element)), None))
    browser.driver.delete_all_cookies()  # the last person logs out: one computer, several staff
    await asyncio.to_thread(browser.login, "tasklist", user)
    await asyncio.to_thread(browser.open, "tasklist", filter_fragment(operaton, filter_name))
    box = browser.wait_for(".search-field input.main-field")
    box.click()
    box.send_keys(tracking_id, Keys.ENTER)
    card = await asyncio.to_thread(card_of, browser, tracking_id)
    card_text = " ".join(card.text.split())
    assert f"Nomor laporan: {tracking_id}" in card_text, card_text
    browser.shot(f"{user}-kartu")
    # Scrolled to first: with many open tasks the card can sit under Tasklist's fixed footer, as a person scrolls to it.
    link = card.find_element(By.CSS_SELECTOR, "h4 a")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    await asyncio.to_thread(browser.wait_text, tracking_id, timeout=30)
    return task


async def reload_until(phone: PageBrowser, path: str, text: str) -> None:
    """The reporter opens the tracking page again until it shows `text` (the workers record a step a moment later)."""

    def shown() -> bool:
        phone.open(path)
        return text in phone.text()

    await eventually(lambda: shown() or None, within=60, interval=1.0)


def form_shows(browser: WebappBrowser, *texts: str, css: str = "[cam-tasklist-form]") -> str:
    def shown(d: WebDriver) -> str | bool:
        forms = d.find_elements(By.CSS_SELECTOR, css)
        text = forms[0].text if forms else ""
        return all(t in text for t in texts) and str(text)

    text = WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(shown)
    assert isinstance(text, str)
    return text


def type_into(browser: WebappBrowser, css: str, text: str) -> None:
    field = browser.wait_for(css)
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", field)
    field.click()
    field.send_keys(text, Keys.TAB)  # leaving the field hands the text to the form


async def test_one_report_walks_across_every_role(
    browser: WebappBrowser,
    phone: PageBrowser,
    live: web_fixtures.LiveServer,
    walk_workers: Deps,
    cancel_afterwards: None,
    svc_api: EngineClient,
    operaton: EngineClient,
    db_engine: Engine,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    browser.viewport(1366, 768)
    # -- the citizen reports a pothole from the phone ----------------------------------------------------------
    await asyncio.to_thread(register_in_browser, phone, mailbox, "Dewi Lestari", REPORTER_EMAIL)
    photo = tmp_path / "lubang.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    await asyncio.to_thread(fill_report, phone, photo)
    phone.submit("Kirim laporan")
    phone.wait_text("Laporan Anda telah diterima")
    tracking_id = str(phone.driver.current_url).rsplit("/lacak/", 1)[1].split("?")[0]
    phone.shot("laporan-terkirim", full_page=True)
    await dispatch_outbox(svc_api, db_engine)

    # -- Admin Pengaduan returns it: the note is for the reporter ----------------------------------------------
    task = await open_in_tasklist(browser, operaton, "admin-pengaduan", "Verifikasi", tracking_id, "VerifyReportTask")
    shown = form_shows(browser, tracking_id, "Batas waktu verifikasi")
    assert "Kelurahan: " + masterdata.get_kelurahan("61.71.01.1002").name in shown
    tasklist_screen(browser, "verifikasi-sebelum-diambil")  # readable before the claim
    claim_if_needed(browser)
    browser.click_text("Tidak lengkap", css="label")
    type_into(browser, "[cam-tasklist-form] textarea", RETURN_NOTE)
    tasklist_screen(browser, "verifikasi-dikembalikan")
    await complete_in_tasklist(browser, operaton, str(task.id))

    # -- the reporter reads what to add, and by when, and adds it ----------------------------------------------
    def returned_mail() -> list[object]:
        return [m for m in mailbox.to(REPORTER_EMAIL, tracking_id) if "perlu dilengkapi" in m["Subject"]]

    mail = body_of((await eventually(returned_mail))[0])  # type: ignore[arg-type]
    assert RETURN_NOTE in mail and re.search(r"paling lambat \w+, \d{1,2} \w+ \d{4} pukul 23\.59 WIB", mail)
    await reload_until(phone, f"/lacak/{tracking_id}", RETURN_NOTE)
    page = phone.text()
    assert re.search(r"\w+, \d{1,2} \w+ \d{4} pukul 23\.59 WIB", page), page
    screen_is_for_people(page, "lacak-dikembalikan")
    phone.shot("lacak-catatan-admin", full_page=True)
    phone.fill("text", "Lubang ada di depan toko Sinar Jaya nomor 12; foto dari dekat terlampir.")
    phone.submit("Kirim kelengkapan")
    phone.wait_text("menunggu verifikasi ulang")
    phone.shot("kelengkapan-terkirim", full_page=True)
    await dispatch_outbox(svc_api, db_engine)

    # -- Admin Pengaduan verifies it now ---------------------------------------------------------------------------
    task = await open_in_tasklist(browser, operaton, "admin-pengaduan", "Verifikasi", tracking_id, "VerifyReportTask")
    claim_if_needed(browser)
    browser.click_text("Lengkap dan kewenangan Pemkot", css="label")
    tasklist_screen(browser, "verifikasi-lengkap")
    await complete_in_tasklist(browser, operaton, str(task.id))

    # -- the kepala bidang forwards it to PUPR ---------------------------------------------------------------------
    task = await open_in_tasklist(browser, operaton, "kepala-bidang", "Disposisi", tracking_id, "DispatchReportTask")
    shown = form_shows(browser, "Usulan OPD", "Batas waktu disposisi")
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in shown, shown
    claim_if_needed(browser)
    type_into(browser, "[cam-tasklist-form] textarea", "Dekat sekolah: mohon didahulukan.")
    tasklist_screen(browser, "disposisi")
    await complete_in_tasklist(browser, operaton, str(task.id))

    def dispatch_mail() -> list[object]:
        return [m for m in mailbox.to(OPD_PUPR_EMAIL, tracking_id) if "Disposisi" in m["Subject"]]

    opd_mail = body_of((await eventually(dispatch_mail))[0])  # type: ignore[arg-type]
    assert "Disposisi oleh: Kepala Bidang Informasi dan Komunikasi Publik (lokal)" in opd_mail, opd_mail
    assert f"/files/reports/{tracking_id}?expires=" in opd_mail and "/lacak/" not in opd_mail
    assert "Dewi" not in opd_mail and REPORTER_EMAIL not in opd_mail

    # -- PUPR answers, then reports completion: first without a photo ------------------------------------------
    task = await open_in_tasklist(browser, operaton, "opd-pupr", "Tugas OPD saya", tracking_id, "OpdResponseTask")
    claim_if_needed(browser)
    browser.click_text("Tanggapi dan tindak lanjuti", css="label")
    type_into(browser, "[cam-tasklist-form] textarea", "Tim PUPR menambal lubang minggu ini.")
    tasklist_screen(browser, "tanggapan-opd")
    await complete_in_tasklist(browser, operaton, str(task.id))

    task = await open_in_tasklist(browser, operaton, "opd-pupr", "Tugas OPD saya", tracking_id, "OpdCompletionTask")
    form_shows(browser, "Laporkan penyelesaian", "Batas waktu penyelesaian")
    browser.click_text("Ambil tugas", css="button")
    await eventually(lambda: operaton.tasks(task_id=task.id, assignee="opd-pupr"))
    type_into(browser, "#completionText", "Lubang sudah ditambal dengan aspal.")
    browser.click_text("Selesaikan", css="button")
    await asyncio.to_thread(browser.wait_text, "Foto bukti penyelesaian wajib dilampirkan")
    error = browser.wait_for("#proofPhotoError")
    assert error.is_displayed()  # next to the field
    tasklist_screen(browser, "penyelesaian-tanpa-foto-ditolak")
    assert operaton.tasks(task_id=task.id)  # nothing recorded: the task is still open
    proof = tmp_path / "bukti.jpg"
    proof.write_bytes(image_bytes(size=(800, 600), color="darkgreen"))
    browser.driver.find_element(By.ID, "proofPhotoUpload").send_keys(str(proof))
    tasklist_screen(browser, "penyelesaian-dengan-foto")
    await complete_in_tasklist(browser, operaton, str(task.id))

    # -- Admin Pengaduan sees the proof photo itself, and documents it ------------------------------------------
    task = await open_in_tasklist(
        browser, operaton, "admin-pengaduan", "Tugas kelompok saya", tracking_id, "DocumentCompletionTask"
    )
    form_shows(browser, "Lubang sudah ditambal dengan aspal.", "Foto bukti penyelesaian dari OPD")
    image = browser.wait_for("[cam-tasklist-form] .fjs-form img")
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    try:
        WebDriverWait(browser.driver, 60).until(lambda d: d.execute_script(loaded, image) == 800)
    except TimeoutException:  # say why: what the photo's address answers outside the browser
        source = str(image.get_attribute("src"))
        answer = await asyncio.to_thread(httpx.get, source, timeout=10)
        shown = f"{answer.status_code} {answer.text[:300]}"
        raise AssertionError(f"proof photo not shown: {source} answers {shown}") from None
    claim_if_needed(browser)
    box = browser.wait_for("[cam-tasklist-form] input[type=checkbox]")
    assert not box.is_selected()
    tasklist_screen(browser, "dokumentasi-foto-bukti")
    browser.click_text("Saya sudah memeriksa foto bukti", css="label")
    await complete_in_tasklist(browser, operaton, str(task.id))

    # -- the reporter sees the result with its photo, and rejects it -------------------------------------------
    await reload_until(phone, f"/lacak/{tracking_id}", "Konfirmasi hasil tindak lanjut")
    result = phone.driver.find_element(By.CSS_SELECTOR, "img[alt='Foto bukti penyelesaian 1']")
    assert phone.driver.execute_script(loaded, result) == 800
    screen_is_for_people(phone.text(), "lacak-hasil")
    phone.shot("hasil-dengan-foto-bukti", full_page=True)
    phone.fill("comment", REJECTION)
    phone.submit("Tolak hasil")
    phone.wait_text("laporan dikembalikan ke OPD")
    phone.shot("hasil-ditolak", full_page=True)
    await dispatch_outbox(svc_api, db_engine)

    # -- PUPR's reopened form: the reason, the last round for reference, and empty fields ----------------------
    def rejection_mail() -> list[object]:
        return [m for m in mailbox.to(OPD_PUPR_EMAIL, tracking_id) if "ditolak" in m["Subject"]]

    assert REJECTION in body_of((await eventually(rejection_mail, within=60))[0])  # type: ignore[arg-type]
    await open_in_tasklist(browser, operaton, "opd-pupr", "Tugas OPD saya", tracking_id, "OpdCompletionTask")
    shown = form_shows(browser, "Hasil sebelumnya ditolak pelapor", REJECTION)
    assert "Lubang sudah ditambal dengan aspal." in browser.wait_for("#previousCompletion").text
    assert browser.wait_for("#completionText").get_attribute("value") == ""
    assert browser.driver.find_element(By.ID, "proofPhotoUpload").get_attribute("value") == ""
    tasklist_screen(browser, "penyelesaian-dibuka-lagi")
