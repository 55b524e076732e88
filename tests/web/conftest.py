"""Citizen web page fixtures: the API app of tests/api on the test database, page helpers, and a real headless
Chromium (Debian's chromium + chromium-driver, as tests/webapps) on the app served by uvicorn on 127.0.0.1.
Screenshots go to tests/web/screenshots/<test>/ (ignored by git)."""

import html
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine

from api.main import create_app
from lapor import intake, reports, uploads
from lapor.db import session_scope
from lapor.models import MessageKind, PhotoKind, ReportMessage, ReportStatus
from lapor.ratelimit import Limit
from lapor.vocabulary import Actor
from tests.api import conftest as api_fixtures
from tests.api.conftest import REPORT_FIELDS, ApiTestSettings, image_bytes, photo_files, set_status
from tests.chromium import chromium
from tests.conftest import Mailbox

# The API tests' fixtures (the app on the emptied test database, its settings, clock and limits, the SMS gateway).
api_clock = api_fixtures.api_clock
app = api_fixtures.app
client = api_fixtures.client
db_engine = api_fixtures.db_engine
limits = api_fixtures.limits
settings = api_fixtures.settings
sms_gateway = api_fixtures.sms_gateway

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE_WIDTH = 390


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def text_of(page: str) -> str:
    """The page's text as a reader sees it (tags out, entities decoded, spaces folded)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def web_register(client: TestClient, mailbox: Mailbox, name: str, email: str) -> str:
    """Register on the pages; the client keeps the session cookie. Returns the token in the cookie."""
    form = client.get("/daftar")
    started = client.post("/daftar", data={"csrf": csrf_of(form.text), "name": name, "email": email, "phone": ""})
    assert started.status_code == 200, text_of(started.text)
    registration = re.search(r'name="registration_id" value="([^"]+)"', started.text)
    assert registration
    verified = client.post(
        "/verifikasi",
        data={
            "csrf": csrf_of(started.text),
            "registration_id": registration.group(1),
            "code": mailbox.last_code(email),
        },
        follow_redirects=False,
    )
    assert verified.status_code == 303, text_of(verified.text)
    token = client.cookies.get("lapor_sesi")
    assert token
    return token


# The report form filled in as REPORT_FIELDS say, the place as the form's one "lokasi" choice.
FORM = {**REPORT_FIELDS, "lokasi": f"{REPORT_FIELDS['kecamatan']}/{REPORT_FIELDS['kelurahan']}"}


def web_submit(client: TestClient, **fields: str) -> str:
    """Send the report form (FORM, changed by `fields`) with one photo; the tracking id of the receipt."""
    page = client.get("/lapor")
    answer = client.post(
        "/lapor", data={**FORM, "csrf": csrf_of(page.text), **fields}, files=photo_files(1), follow_redirects=False
    )
    assert answer.status_code == 303, text_of(answer.text)
    found = re.fullmatch(r"/lacak/([A-Z0-9-]+)\?pesan=terkirim", answer.headers["location"])
    assert found
    return found.group(1)


def section(page: str, heading: str) -> str:
    """The text of the page's section under this <h2>, as a reader sees it ("" when there is none)."""
    for part in page.split("<section")[1:]:
        if f"<h2>{heading}</h2>" in part:
            return text_of("<section" + part.split("</section>")[0])
    return ""


# ISO timestamps, status and message codes: what a reader must never see on a page.
_RAW = re.compile(r"\d{4}-\d{2}-\d{2}T\d|\b[A-Z]{3,}_[A-Z_]+\b|\b(return|documentation)_note\b|\bopd_\w+")


def assert_readable(page: str) -> None:
    found = _RAW.search(text_of(page))
    assert found is None, f"raw value on the page: {found.group(0) if found else ''}"


# -- reports in the states the reporter acts on, as the engine's workers leave them ------------------------------
def add_message(db: Engine, tracking_id: str, *, author: Actor, kind: MessageKind, text: str, at: datetime) -> None:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.add(ReportMessage(report_id=report.id, author=author.value, kind=kind.value, text=text, created_at=at))


def return_to_reporter(db: Engine, tracking_id: str, *, note: str | None, due: datetime, at: datetime) -> None:
    """Admin Pengaduan returns the report: status DIKEMBALIKAN, the supplement deadline, the note for the reporter."""
    set_status(db, tracking_id, ReportStatus.DIKEMBALIKAN, at=at, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db) as session:
        reports.get_by_tracking_id(session, tracking_id).supplement_due_at = due
    if note is not None:
        add_message(db, tracking_id, author=Actor.ADMIN_PENGADUAN, kind=MessageKind.RETURN_NOTE, text=note, at=at)


def await_confirmation(app: FastAPI, tracking_id: str, *, completion: str | None, due: datetime, at: datetime) -> None:
    """The OPD finished with a proof photo, Admin Pengaduan documented it: status MENUNGGU_KONFIRMASI."""
    db = app.state.context.db
    set_status(db, tracking_id, ReportStatus.TERVERIFIKASI, at=at, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        report.opd_code = "PUPR"
        image = uploads.clean_image(image_bytes(size=(640, 480), color="green"))
        intake.add_photos(
            session, app.state.context.upload_dir, report=report, images=[image], now=at, kind=PhotoKind.PROOF
        )
    if completion is not None:
        kind = MessageKind.OPD_COMPLETION
        add_message(db, tracking_id, author=Actor.OPD, kind=kind, text=completion, at=at)
    set_status(db, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, at=at, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db) as session:
        reports.get_by_tracking_id(session, tracking_id).confirmation_due_at = due


# -- the app served over real HTTP, for the browser ---------------------------------------------------------------
@dataclass
class LiveServer:
    url: str
    app: FastAPI


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(app: FastAPI, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def live_port() -> int:
    return _free_port()


@pytest.fixture
def live_settings(settings: ApiTestSettings, live_port: int) -> ApiTestSettings:
    """The pages' photo links are absolute on the public base URL: it must be the address the browser opens."""
    return settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{live_port}"})


@pytest.fixture
def live(
    live_settings: ApiTestSettings, db_engine: object, limits: dict[str, Limit], live_port: int
) -> Iterator[LiveServer]:
    application = create_app(live_settings, db=db_engine, run_dispatcher=False, limits=limits)  # type: ignore[arg-type]
    for _ in serve(application, live_port):
        yield LiveServer(live_settings.public_base_url, application)


# -- the browser ---------------------------------------------------------------------------------------------------
@dataclass
class PageBrowser:
    """One browser on the API's own pages (the citizen page, the staff pages); `shot` saves a screenshot."""

    driver: WebDriver
    base_url: str
    folder: Path
    phone: bool = False
    _count: int = 0

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def wait_text(self, text: str, *, timeout: float = 20) -> None:
        # While the next page loads, the old body goes stale; Chromium may also say "Node with given id does not
        # belong to the document" (a plain WebDriverException). Both mean: look again.
        WebDriverWait(
            self.driver, timeout, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
        ).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)

    def fill(self, name: str, value: str) -> None:
        field = self.driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def select(self, name: str, visible_text: str) -> None:
        from selenium.webdriver.support.select import Select

        Select(self.driver.find_element(By.NAME, name)).select_by_visible_text(visible_text)

    def submit(self, text: str) -> None:
        for button in self.driver.find_elements(By.CSS_SELECTOR, "button[type=submit]"):
            if button.is_displayed() and text in button.text:
                self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
                button.click()
                return
        raise AssertionError(f"no button {text!r} on {self.driver.current_url}")

    def value(self, name: str) -> str:
        return str(self.driver.find_element(By.NAME, name).get_attribute("value"))

    def register(self, mailbox: Mailbox, name: str, email: str) -> None:
        """Register on the page with the code from the mailbox; signed in on "Laporan saya" after."""
        self.open("/daftar")
        self.fill("name", name)
        self.fill("email", email)
        self.submit("Kirim kode verifikasi")
        self.wait_text("Masukkan kode verifikasi")
        self.fill("code", mailbox.last_code(email))
        self.submit("Verifikasi")
        self.wait_text("Laporan saya")

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        if full_page:
            height = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
            if self.phone:
                self.emulate_phone(max(844, height))
            else:
                self.driver.set_window_size(self.driver.get_window_size()["width"], max(800, height + 140))
        self.driver.save_screenshot(str(path))
        if full_page and self.phone:
            self.emulate_phone()
        return path

    def emulate_phone(self, height: int = 844) -> None:
        """A phone's viewport (headless Chromium's windows are never narrower than 500 px)."""
        self.driver.execute_cdp_cmd(  # type: ignore[attr-defined]
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE_WIDTH, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )


@pytest.fixture
def browser_width() -> int:
    return 1280


@pytest.fixture
def browser_javascript() -> bool:
    """Parametrize with False for a browser whose scripts are off (the pages' plain HTML path)."""
    return True


@pytest.fixture
def browser(
    live: LiveServer, request: pytest.FixtureRequest, browser_width: int, browser_javascript: bool
) -> Iterator[PageBrowser]:
    driver = chromium(max(browser_width, 800), 900, javascript=browser_javascript)
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = PageBrowser(driver, live.url, folder, phone=browser_width <= PHONE_WIDTH)
    if session.phone:
        session.emulate_phone()
    try:
        yield session
    finally:
        session.shot("end")
        print(f"screenshots: {folder}")
        driver.quit()
