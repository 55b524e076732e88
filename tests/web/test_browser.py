"""The citizen web page in a real headless Chromium: register with the code from the mail catcher, submit with a
photo, follow the report on /lacak/...; a refused photo; an empty form stopped by the browser in Indonesian; the
pages at a phone's width (390 px); the hand-offs to the reporter (supplement a returned report, rate and accept or
reject a result) at 390 px and on a desktop."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lapor.models import MessageKind, Report, ReportMessage
from tests.api.conftest import REPORT_FIELDS, image_bytes
from tests.conftest import Mailbox
from tests.web.conftest import (
    PHONE_WIDTH,
    LiveServer,
    PageBrowser,
    assert_readable,
    await_confirmation,
    return_to_reporter,
)

TITLE = REPORT_FIELDS["title"]
SUPPLEMENT_DUE = datetime(2026, 12, 18, 16, 59, tzinfo=UTC)  # Jumat, 18 Desember 2026 pukul 23.59 WIB
CONFIRMATION_DUE = datetime(2026, 12, 7, 16, 59, tzinfo=UTC)  # Senin, 7 Desember 2026 pukul 23.59 WIB


def register_in_browser(browser: PageBrowser, mailbox: Mailbox, name: str, email: str) -> None:
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


def fill_report(browser: PageBrowser, photo: Path | None) -> None:
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


def test_register_submit_with_a_photo_and_track_it(browser: PageBrowser, mailbox: Mailbox, tmp_path: Path) -> None:
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
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path
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


def test_a_hidden_direction_override_in_the_title_is_refused_next_to_the_field(
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path, live: LiveServer
) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.bidi@example.id")
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    fill_report(browser, photo)
    title = browser.driver.find_element(By.NAME, "title")
    # As pasted: "Jalan rusak " then U+202E, which shows the rest reversed.
    browser.driver.execute_script("arguments[0].value = arguments[1]", title, "Jalan rusak \u202egnaduP")
    browser.submit("Kirim laporan")
    browser.wait_text("tak terlihat atau pengatur arah tulisan (U+202E)")
    message = browser.driver.find_element(By.ID, "galat-title")
    assert "hapus karakter itu" in message.text and message.is_displayed()
    browser.shot("judul-berkarakter-tersembunyi", full_page=True)
    with Session(live.app.state.context.db) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
    browser.open("/laporan")
    assert "gnaduP" not in browser.text()


def test_an_empty_form_is_stopped_in_the_browser_in_indonesian_and_sends_nothing(
    browser: PageBrowser, mailbox: Mailbox, live: LiveServer
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
def test_the_pages_fit_a_phone(browser: PageBrowser, mailbox: Mailbox, tmp_path: Path) -> None:
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


# -- hand-offs (issue 18) ------------------------------------------------------------------------------------------
def submit_in_browser(browser: PageBrowser, tmp_path: Path) -> str:
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    fill_report(browser, photo)
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima")
    return str(browser.driver.current_url).rsplit("/lacak/", 1)[1].split("?")[0]


def shoot_checked(browser: PageBrowser, name: str) -> None:
    """A full-page screenshot of a state that fits the screen and shows no raw codes or ISO timestamps."""
    width = browser.driver.execute_script("return window.innerWidth")
    scroll = browser.driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, (name, width, scroll)  # nothing wider than the screen
    assert_readable(browser.driver.page_source)
    browser.shot(name, full_page=True)


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_returned_report_is_supplemented_and_the_page_says_so_at_once(
    browser: PageBrowser, mailbox: Mailbox, live: LiveServer, tmp_path: Path, browser_width: int
) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", f"siti.lengkapi{browser_width}@example.id")
    tracking_id = submit_in_browser(browser, tmp_path)
    note = "Foto lubang belum terlihat jelas; kirim foto dari dekat beserta patokan terdekat."
    at = datetime.now(UTC)  # the live server runs on the wall clock
    return_to_reporter(live.app.state.context.db, tracking_id, note=note, due=SUPPLEMENT_DUE, at=at)
    browser.open(f"/lacak/{tracking_id}")
    browser.wait_text("Lengkapi laporan")
    text = browser.text()
    assert f"Catatan Admin Pengaduan: {note}" in text
    assert "Kirim kelengkapan paling lambat Jumat, 18 Desember 2026 pukul 23.59 WIB." in text
    shoot_checked(browser, "dikembalikan")
    browser.fill("text", "Foto dari dekat terlampir; patokannya gerbang SDN 12.")
    photo = tmp_path / "dekat.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="blue"))
    browser.driver.find_element(By.NAME, "photos").send_keys(str(photo))
    browser.submit("Kirim kelengkapan")
    browser.wait_text("menunggu verifikasi ulang oleh Admin Pengaduan")
    assert not browser.driver.find_elements(By.ID, "lengkapi") and "Batas waktu kelengkapan" not in browser.text()
    assert "Foto dari dekat terlampir" in browser.text()
    shoot_checked(browser, "kelengkapan-terkirim")


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_result_is_rated_by_keyboard_and_accepted_and_another_rejected(
    browser: PageBrowser, mailbox: Mailbox, live: LiveServer, tmp_path: Path, browser_width: int
) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", f"siti.konfirmasi{browser_width}@example.id")
    accepted, rejected = submit_in_browser(browser, tmp_path), submit_in_browser(browser, tmp_path)
    for tracking_id in (accepted, rejected):
        completion = "Lubang sudah ditambal dengan aspal; foto bukti terlampir."
        at = datetime.now(UTC)  # the live server runs on the wall clock
        await_confirmation(live.app, tracking_id, completion=completion, due=CONFIRMATION_DUE, at=at)
    browser.open(f"/lacak/{accepted}")
    browser.wait_text("Konfirmasi hasil tindak lanjut")
    assert "Berikan tanggapan paling lambat Senin, 7 Desember 2026 pukul 23.59 WIB." in browser.text()
    proof = browser.driver.find_element(By.CSS_SELECTOR, "img[alt='Foto bukti penyelesaian 1']")
    assert browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", proof) == 640
    legend = browser.driver.find_element(By.CSS_SELECTOR, "fieldset.penilaian legend")
    assert legend.is_displayed() and legend.text.startswith("Seberapa puas Anda dengan hasilnya?")
    choices = browser.driver.find_elements(By.CSS_SELECTOR, "fieldset.penilaian label.nilai")
    assert [c.text.replace("\n", " ") for c in choices][::5] == ["1 Sangat tidak puas", "Tanpa penilaian"]
    assert choices[4].text.replace("\n", " ") == "5 Sangat puas"
    assert all(c.size["height"] >= 44 and c.size["width"] >= 44 for c in choices), [c.size for c in choices]
    shoot_checked(browser, "menunggu-konfirmasi")

    # Keyboard only: from the comment box back into the rating (on "Tanpa penilaian"), two steps up to 4.
    browser.driver.find_element(By.NAME, "comment").click()
    ActionChains(browser.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    ActionChains(browser.driver).send_keys(Keys.ARROW_UP).send_keys(Keys.ARROW_UP).perform()
    four = browser.driver.find_element(By.CSS_SELECTOR, "input[name=rating][value='4']")
    assert four.is_selected() and browser.driver.switch_to.active_element == four
    drawn = browser.driver.find_element(By.CSS_SELECTOR, "input[name=rating][value='4'] + span")
    assert drawn.value_of_css_property("background-color") == "rgba(179, 18, 27, 1)"  # chosen: filled red
    assert drawn.value_of_css_property("outline-style") == "solid"  # focused: the yellow ring
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", drawn)
    browser.shot("penilaian-dengan-papan-ketik")
    browser.fill("comment", "Sudah rata, terima kasih.")
    browser.submit("Terima hasil")
    browser.wait_text("Anda menerima hasil tindak lanjut ini")
    assert not browser.driver.find_elements(By.ID, "konfirmasi")
    assert "penilaian 4 (Puas)" in browser.text()
    shoot_checked(browser, "hasil-diterima")

    browser.open(f"/lacak/{rejected}")
    browser.wait_text("Konfirmasi hasil tindak lanjut")
    browser.driver.find_element(
        By.XPATH, "//label[contains(@class, 'nilai')][contains(., 'Sangat tidak puas')]"
    ).click()
    browser.submit("Tolak hasil")
    browser.wait_text("laporan dikembalikan ke OPD untuk ditindaklanjuti kembali")
    assert not browser.driver.find_elements(By.ID, "konfirmasi") and "Anda menolak hasil" in browser.text()
    shoot_checked(browser, "hasil-ditolak")
    with Session(live.app.state.context.db) as session:
        ratings = session.execute(
            select(ReportMessage.accepted, ReportMessage.rating)
            .where(ReportMessage.kind == MessageKind.CONFIRMATION.value)
            .order_by(ReportMessage.id)
        )
        assert [tuple(row) for row in ratings] == [(True, 4), (False, 1)]
