"""Photos from real phones on the citizen page (issue 22): with JavaScript the browser shrinks a large photo to
2048 px before it is sent and shows the upload's progress on a slow connection (390 px and desktop), a refusal
replaces the form in place and a dropped connection is explained next to the photos; without JavaScript the plain
form sends the photo as taken and the server shrinks it. Screenshots in tests/web/screenshots/<test>/."""

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor import uploads
from lapor.models import Photo
from tests.api.conftest import REPORT_FIELDS
from tests.conftest import Mailbox
from tests.web.conftest import PHONE_WIDTH, LiveServer, PageBrowser, web_register

# DevTools' "Fast 3G", the issue's mobile connection: ~1.6 Mbit/s down, ~750 kbit/s up, 150 ms round trip.
FAST_3G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}


class Received:
    """The photos as the server received them, before it decodes them (size in pixels, bytes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.photos: list[tuple[tuple[int, int], int]] = []
        clean = uploads.clean_image

        def recording(data: bytes, **limits: int) -> uploads.CleanImage:
            with Image.open(io.BytesIO(data)) as image:
                self.photos.append((image.size, len(data)))
            return clean(data, **limits)

        monkeypatch.setattr(uploads, "clean_image", recording)


def large_photo(path: Path) -> Path:
    """A 48 MP portrait phone photo (6000x8000) with photo-like detail, as taken."""
    tile = Image.merge("RGB", [Image.effect_noise((600, 800), 64) for _ in range(3)])
    tile.resize((6000, 8000), Image.Resampling.BILINEAR).save(path, format="JPEG", quality=90)
    return path


def sign_in(browser: PageBrowser, client: TestClient, mailbox: Mailbox, email: str) -> None:
    """The session cookie of a reporter registered on the pages (the registration has its own browser test)."""
    token = web_register(client, mailbox, "Siti Rahmawati", email)
    browser.open("/")
    browser.driver.add_cookie({"name": "lapor_sesi", "value": token, "path": "/"})


def fill_report(browser: PageBrowser, photo: Path) -> None:
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    browser.fill("title", REPORT_FIELDS["title"])
    browser.fill("description", REPORT_FIELDS["description"])
    browser.select("category", "Jalan dan Jembatan")
    browser.driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
    browser.fill("address", REPORT_FIELDS["address"])
    browser.driver.find_element(By.NAME, "photos").send_keys(str(photo))


def stored_sizes(live: LiveServer) -> list[tuple[int, int]]:
    context = live.app.state.context
    with Session(context.db) as session:
        paths = [uploads.path_of(context.upload_dir, p.sha256, p.content_type) for p in session.scalars(select(Photo))]
    sizes = []
    for path in paths:
        with Image.open(path) as stored:
            sizes.append(stored.size)
    return sizes


PROGRESS_SHOWN = """
const panel = document.querySelector('.kemajuan'), bar = document.getElementById('kemajuan-kirim');
return Boolean(panel && !panel.hidden && bar && bar.value > 0 && bar.value < 100);
"""


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_large_photo_is_shrunk_in_the_browser_and_its_upload_shows_progress(
    browser: PageBrowser,
    live: LiveServer,
    client: TestClient,
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received = Received(monkeypatch)
    photo = large_photo(tmp_path / "IMG_20261207_101500.jpg")
    sign_in(browser, client, mailbox, "siti.fotobesar@example.id")
    fill_report(browser, photo)
    browser.shot("formulir-foto-besar", full_page=True)
    browser.driver.execute_cdp_cmd("Network.enable", {})  # type: ignore[attr-defined]
    browser.driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)  # type: ignore[attr-defined]
    browser.submit("Kirim laporan")
    WebDriverWait(browser.driver, 60).until(lambda d: d.execute_script(PROGRESS_SHOWN))
    bar = browser.driver.find_element(By.ID, "kemajuan-kirim")
    label = browser.driver.execute_script("return arguments[0].labels[0].textContent", bar)
    assert label == "Kemajuan pengiriman laporan"  # the bar's accessible name, in Indonesian
    assert "Mengunggah" in browser.text() and "MB" in browser.text()
    assert browser.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").get_attribute("disabled")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", bar)
    browser.shot("mengunggah")
    browser.wait_text("Laporan Anda telah diterima", timeout=90)
    assert "/lacak/" in browser.driver.current_url
    browser.shot("terkirim", full_page=True)
    [(size, length)] = received.photos
    assert max(size) <= 2048 and size == (1536, 2048), size  # shrunk in the browser, portrait kept
    assert length < photo.stat().st_size / 5, (length, photo.stat().st_size)
    assert stored_sizes(live) == [(1536, 2048)]


@pytest.mark.parametrize("browser_javascript", [False])
def test_without_javascript_the_plain_form_sends_the_photo_as_taken_and_the_server_shrinks_it(
    browser: PageBrowser,
    live: LiveServer,
    client: TestClient,
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received = Received(monkeypatch)
    photo = large_photo(tmp_path / "IMG_20261207_101600.jpg")
    sign_in(browser, client, mailbox, "siti.tanpaskrip@example.id")
    fill_report(browser, photo)
    assert not browser.driver.find_element(By.CSS_SELECTOR, ".kemajuan").is_displayed()
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima", timeout=60)
    browser.shot("terkirim-tanpa-javascript", full_page=True)
    assert received.photos == [((6000, 8000), photo.stat().st_size)]
    assert stored_sizes(live) == [(1536, 2048)]


def test_a_refusal_after_the_upload_shows_next_to_its_field_in_place_and_the_form_sends_again(
    browser: PageBrowser, live: LiveServer, client: TestClient, mailbox: Mailbox, tmp_path: Path
) -> None:
    """With JavaScript the server's refusal replaces the form where it stands (the page is not reloaded), with the
    message next to its field and the typed fields kept; the new form shrinks and sends like the first."""
    photo = large_photo(tmp_path / "IMG_20261207_101700.jpg")
    sign_in(browser, client, mailbox, "siti.ditolak@example.id")
    fill_report(browser, photo)
    browser.fill("incident_date", "01012099")  # a day in the future, refused by the server after the upload
    browser.driver.execute_script("window.halamanYangSama = true")
    browser.submit("Kirim laporan")
    browser.wait_text("Tanggal kejadian tidak boleh di masa depan", timeout=60)
    assert browser.driver.execute_script("return window.halamanYangSama === true"), "the page was reloaded"
    assert browser.driver.find_element(By.ID, "galat-incident_date").is_displayed()
    assert browser.value("title") == REPORT_FIELDS["title"] and browser.value("address") == REPORT_FIELDS["address"]
    assert browser.driver.switch_to.active_element.get_attribute("role") == "alert"  # focus on the notice
    browser.shot("ditolak-di-tempat", full_page=True)
    browser.fill("incident_date", "01122026")
    browser.driver.find_element(By.NAME, "photos").send_keys(str(photo))
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima", timeout=60)
    assert stored_sizes(live) == [(1536, 2048)]


def test_a_dropped_connection_is_explained_next_to_the_photos_and_the_form_can_send_again(
    browser: PageBrowser, live: LiveServer, client: TestClient, mailbox: Mailbox, tmp_path: Path
) -> None:
    photo = large_photo(tmp_path / "IMG_20261207_101800.jpg")
    sign_in(browser, client, mailbox, "siti.terputus@example.id")
    fill_report(browser, photo)
    browser.driver.execute_cdp_cmd("Network.enable", {})  # type: ignore[attr-defined]
    browser.driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)  # type: ignore[attr-defined]
    browser.submit("Kirim laporan")
    WebDriverWait(browser.driver, 60).until(lambda d: d.execute_script(PROGRESS_SHOWN))
    offline = {**FAST_3G, "offline": True}
    browser.driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)  # type: ignore[attr-defined]
    browser.wait_text("Pengiriman terputus. Periksa sambungan internet Anda, lalu kirim lagi.", timeout=60)
    assert browser.driver.find_element(By.ID, "galat-photos").is_displayed()
    assert not browser.driver.find_element(By.CSS_SELECTOR, ".kemajuan").is_displayed()
    button = browser.driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert button.is_enabled()
    browser.shot("sambungan-terputus", full_page=True)
    browser.driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)  # type: ignore[attr-defined]
    browser.submit("Kirim laporan")  # the chosen photo is still there: sent again
    browser.wait_text("Laporan Anda telah diterima", timeout=90)
    # DevTools' offline mode fails the page's request, but bytes already under way may still reach the server and
    # make a first report: what is checked here is the page's side.
    assert set(stored_sizes(live)) == {(1536, 2048)}
