"""The citizen web page in a real headless Chromium: register with the code from the mail catcher, submit with a
photo, follow the report on /lacak/...; a refused photo; an empty form stopped by the browser in Indonesian; the
pages at a phone's width (390 px)."""

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lapor.models import Report
from tests.api.conftest import REPORT_FIELDS, image_bytes
from tests.conftest import Mailbox
from tests.web.conftest import PHONE_WIDTH, Browser, LiveServer

TITLE = REPORT_FIELDS["title"]


def register_in_browser(browser: Browser, mailbox: Mailbox, name: str, email: str) -> None:
    browser.open("/")
    browser.shot("beranda")
    browser.driver.find_element(By.LINK_TEXT, "Daftar sebagai pelapor").click()
    browser.wait_text("Daftar sebagai pelapor")
    browser.fill("name", name)
    browser.fill("email", email)
    browser.shot("daftar")
    browser.submit("Kirim kode verifikasi")
    browser.wait_text("Masukkan kode verifikasi")
    browser.fill("code", mailbox.last_code(email))
    browser.shot("kode")
    browser.submit("Verifikasi")
    browser.wait_text("Laporan saya")
    browser.wait_text(name)


def fill_report(browser: Browser, photo: Path | None) -> None:
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    browser.driver.find_element(By.CSS_SELECTOR, "input[name=report_type][value=pengaduan]").click()
    browser.fill("title", TITLE)
    browser.fill("description", REPORT_FIELDS["description"])
    browser.select("category", "Jalan dan Jembatan")
    browser.driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
    browser.fill("address", REPORT_FIELDS["address"])
    if photo is not None:
        browser.driver.find_element(By.NAME, "photos").send_keys(str(photo))


def test_register_submit_with_a_photo_and_track_it(browser: Browser, mailbox: Mailbox, tmp_path: Path) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.browser@example.id")
    browser.shot("laporan-saya-kosong")
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    fill_report(browser, photo)
    browser.shot("formulir-terisi", full_page=True)
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima")
    assert "/lacak/" in browser.driver.current_url
    tracking_id = browser.driver.current_url.rsplit("/lacak/", 1)[1].split("?")[0]
    text = browser.text()
    assert tracking_id in text and TITLE in text and "Belum Terverifikasi" in text
    # The photo is shown from this origin (the page's policy allows nothing else) and actually loads.
    image = browser.driver.find_element(By.CSS_SELECTOR, ".foto img")
    assert browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 640
    browser.shot("lacak", full_page=True)
    browser.open("/laporan-saya")
    browser.wait_text(TITLE)
    browser.driver.find_element(By.LINK_TEXT, TITLE).click()
    browser.wait_text(tracking_id)
    # Signing out revokes the token: the page no longer knows the reporter.
    browser.open("/laporan-saya")
    browser.submit("Keluar")
    browser.wait_text("Sampaikan laporan Anda")
    browser.open("/laporan-saya")
    browser.wait_text("Masuk")
    assert "/masuk" in browser.driver.current_url


def test_a_refused_photo_is_explained_in_indonesian_and_the_typed_fields_stay(
    browser: Browser, mailbox: Mailbox, tmp_path: Path
) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.fotosalah@example.id")
    fake = tmp_path / "foto.jpg"
    fake.write_text("ini bukan foto, hanya teks yang diberi nama .jpg")
    fill_report(browser, fake)
    browser.submit("Kirim laporan")
    browser.wait_text("Foto ke-1 bukan gambar JPEG, PNG, atau WebP yang valid.")
    assert "Periksa kembali isian yang ditandai di bawah." in browser.text()
    assert browser.value("title") == TITLE
    assert browser.value("description") == REPORT_FIELDS["description"]
    assert browser.value("address") == REPORT_FIELDS["address"]
    assert browser.value("lokasi") == "61.71.01/61.71.01.1002" and browser.value("category") == "JALAN"
    browser.shot("foto-ditolak", full_page=True)


def test_an_empty_form_is_stopped_in_the_browser_in_indonesian_and_sends_nothing(
    browser: Browser, mailbox: Mailbox, live: LiveServer
) -> None:
    """The form's required fields are checked by the phone's own browser before anything is sent; on an Indonesian
    phone it speaks Indonesian (the browser's words, not ours: here from Debian's chromium-l10n)."""
    register_in_browser(browser, mailbox, "Rudi Hartono", "rudi.kosong@example.id")
    with Session(live.app.state.context.db) as session:
        before = session.scalar(select(func.count()).select_from(Report))
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    browser.submit("Kirim laporan")
    browser.shot("formulir-kosong")
    title = browser.driver.find_element(By.NAME, "title")
    message = str(browser.driver.execute_script("return arguments[0].validationMessage;", title))
    photos = browser.driver.find_element(By.NAME, "photos")
    photo_message = str(browser.driver.execute_script("return arguments[0].validationMessage;", photos))
    assert browser.driver.current_url.endswith("/lapor") and "Buat laporan" in browser.text()
    assert message and photo_message, "the browser let an empty form through"
    assert "field" not in message.lower() and "isi" in message.lower(), message  # "Harap isi bidang ini."
    print(f"the browser said: {message!r} and {photo_message!r}")
    assert "file" in photo_message.lower() and "select" not in photo_message.lower(), photo_message
    with Session(live.app.state.context.db) as session:  # nothing reached the server's storage
        assert session.scalar(select(func.count()).select_from(Report)) == before


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH])
def test_the_pages_fit_a_phone(browser: Browser, mailbox: Mailbox, tmp_path: Path) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.ponsel@example.id")
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(800, 600), color="green"))
    fill_report(browser, photo)
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima")
    tracking_page = browser.driver.current_url
    for name, url in (
        ("beranda-390", browser.base_url + "/"),
        ("formulir-390", browser.base_url + "/lapor"),
        ("lacak-390", tracking_page),
    ):
        browser.driver.get(url)
        width = browser.driver.execute_script("return window.innerWidth")
        scroll = browser.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH and scroll <= width, (name, width, scroll)  # nothing wider than the phone
        browser.shot(name, full_page=True)
    # The form's controls are at least the width of the screen's column, big enough to tap.
    browser.driver.get(browser.base_url + "/lapor")
    button = browser.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    assert button.size["height"] >= 44 and button.size["width"] >= PHONE_WIDTH - 80
