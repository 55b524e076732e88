"""Correction and erasure on Data saya in a real headless Chromium (issue 23 item 2): the reporter replaces their
e-mail address with a code sent to the new address (a wrong code first: refused, attempts counted), sees the new
address on the page, then erases their personal data and is signed out. Screenshots in
tests/web/screenshots/<test>/."""

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import Engine, select, update

from lapor.db import session_scope
from lapor.models import Report, Reporter
from tests.api.conftest import ApiTestSettings
from tests.conftest import Mailbox, body_of
from tests.web.conftest import PageBrowser, assert_readable
from tests.web.test_accessibility import assert_accessible
from tests.web.test_data_request import file_report


@pytest.fixture
def live_settings(live_settings: ApiTestSettings) -> ApiTestSettings:
    """The engine is nowhere (a closed port): a report that reached it cannot be erased from it now."""
    return live_settings.model_copy(update={"engine_url": "http://127.0.0.1:9/engine-rest"})


def test_a_reporter_corrects_their_email_and_erases_their_data_on_data_saya(
    browser: PageBrowser, mailbox: Mailbox, db_engine: Engine, live_settings: ApiTestSettings
) -> None:
    old, new = "siti.lama@example.id", "siti.baru@example.id"
    browser.register(mailbox, "Siti Rahmawati", old)
    mine = file_report(db_engine, live_settings, old, "Lampu jalan padam")
    browser.open("/data-saya")
    browser.wait_text("Ganti email atau nomor ponsel")
    browser.fill("email", new)
    browser.shot("ganti-kontak-diisi")
    sent_before = len(mailbox.messages)
    browser.submit("Kirim kode ke kontak baru")
    browser.wait_text("Kode telah dikirim ke email baru Anda")
    assert [str(m["To"]) for m in mailbox.messages[sent_before:]] == [new]  # the new address only
    code = mailbox.last_code(new)
    browser.fill("code", "000000" if code != "000000" else "111111")
    browser.submit("Ganti kontak")
    browser.wait_text("Sisa percobaan: 4")
    assert_accessible(browser, "kode-salah")  # axe-core: no serious or critical violation (test_accessibility)
    browser.fill("code", code)
    browser.submit("Ganti kontak")
    browser.wait_text("Alamat email Anda telah diganti.")
    browser.shot("kontak-diganti", full_page=True)
    text = browser.text()
    assert new in text and old not in text and "Kontak pelapor diganti" in text
    assert_readable(browser.driver.page_source)
    told = [m for m in mailbox.messages if str(m["To"]) == old][-1]
    assert "telah diganti" in body_of(told) and new not in body_of(told)

    browser.submit("Hapus data pribadi saya")  # the box not ticked: refused
    browser.wait_text("Centang kotak ini")
    assert_accessible(browser, "hapus-belum-dicentang")
    browser.driver.find_element(By.ID, "yakin-hapus").click()
    browser.submit("Hapus data pribadi saya")
    browser.wait_text("Data pribadi Anda telah dihapus")
    assert_accessible(browser, "data-dihapus")
    assert "1 laporan Anda tetap tercatat tanpa identitas Anda; 1 yang masih berjalan" in browser.text()
    browser.open("/data-saya")
    browser.wait_text("Masuk")  # signed out: the sign-in page
    assert "Data saya" not in browser.driver.title
    browser.open(f"/lacak/{mine}")
    assert "Siti" not in browser.text()
    with session_scope(db_engine) as session:
        her = session.scalars(select(Reporter)).one()
        assert (her.name, her.email, her.erased_at is not None) == ("", None, True)


def test_an_erasure_while_the_engine_does_not_answer_is_refused_beside_the_button(
    browser: PageBrowser, mailbox: Mailbox, db_engine: Engine, live_settings: ApiTestSettings
) -> None:
    """Her report reached the engine, which holds what staff typed about it; the engine does not answer, so nothing
    is erased and the page says so where she pressed the button, in words she can act on."""
    email = "rina.hapus@example.id"
    browser.register(mailbox, "Rina Marlina", email)
    mine = file_report(db_engine, live_settings, email, "Sampah menumpuk di parit")
    with session_scope(db_engine) as session:
        session.execute(update(Report).where(Report.tracking_id == mine).values(process_instance_id="instance-1"))
    browser.open("/data-saya")
    browser.wait_text("Hapus data pribadi saya")
    browser.driver.find_element(By.ID, "yakin-hapus").click()
    browser.submit("Hapus data pribadi saya")
    browser.wait_text("belum dapat dihapus karena mesin proses laporan sedang tidak menjawab")
    browser.shot("hapus-ditolak-mesin-proses", full_page=True)
    assert_accessible(browser, "hapus-ditolak")
    text = browser.text()
    assert "Tidak ada data yang dihapus" in text and "Rina Marlina" in text and email in text
    assert "127.0.0.1:9" not in text and "unreachable" not in text  # the reason is the log's, not hers
    with session_scope(db_engine) as session:
        her = session.scalars(select(Reporter)).one()
        assert (her.name, her.email, her.erased_at) == ("Rina Marlina", email, None)
