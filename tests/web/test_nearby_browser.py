"""The report form's "Laporan serupa di sekitar" in a real headless Chromium, at 390 px and on a desktop: the list
appears as category and place are filled (a report 60 m away, not one 400 m away, of another category or
confidential), and the citizen supports it instead ("Saya juga mengalami"), then stops following it."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy import Engine

from lapor.models import ReportStatus
from tests.api.conftest import Person, register, set_status, submit
from tests.conftest import Mailbox
from tests.web.conftest import PHONE_WIDTH, LiveServer, PageBrowser, assert_readable

HERE = (-0.0263, 109.3425)
METRE = 1 / 111_320


def seed(live: LiveServer, mailbox: Mailbox, db: Engine) -> dict[str, str]:
    """Another citizen's reports around HERE, verified as the process leaves them."""
    with TestClient(live.app) as api:
        owner = register(api, mailbox, Person("Siti Rahmawati", "siti.pelapor@example.id", "+6281299997001"))
        placed = {
            "dekat": {"title": "Lubang 60 m dari sini", "metres": 60},
            "jauh": {"title": "Lubang 400 m dari sini", "metres": 400},
            "sampah": {"title": "Sampah menumpuk 20 m", "metres": 20, "category": "SAMPAH"},
            "rahasia": {"title": "Lubang rahasia 30 m", "metres": 30, "confidential": True},
        }
        ids = {}
        for key, spec in placed.items():
            metres = spec.pop("metres")
            point = {"latitude": round(HERE[0] + float(metres) * METRE, 6), "longitude": HERE[1]}
            ids[key] = submit(api, owner, anonymous=True, **spec, **point)
            set_status(db, ids[key], ReportStatus.PROSES)
    return ids


def fits(browser: PageBrowser, name: str) -> None:
    width = browser.driver.execute_script("return window.innerWidth")
    scroll = browser.driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, (name, width, scroll)
    assert_readable(browser.driver.page_source)


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_nearby_report_is_suggested_and_supported_instead(
    browser: PageBrowser, live: LiveServer, mailbox: Mailbox, db_engine: Engine, tmp_path: Path, browser_width: int
) -> None:
    ids = seed(live, mailbox, db_engine)
    browser.register(mailbox, "Andi Pratama", "andi.tetangga@example.id")
    browser.open("/lapor")
    browser.wait_text("Laporan serupa di sekitar")
    # JavaScript runs (the page's policy allows this origin's script): the fallback button is gone.
    assert not browser.driver.find_elements(By.ID, "cek-sekitar")
    browser.fill("title", "Jalan berlubang lagi")
    browser.select("category", "Jalan dan Jembatan")
    browser.driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
    browser.fill("koordinat", f"{HERE[0]}, {HERE[1]}")
    browser.wait_text("Lubang 60 m dari sini")
    panel = browser.driver.find_element(By.ID, "sekitar").text
    assert "± 60 m dari titik Anda" in panel and "Proses" in panel and "0 warga juga mengalami" in panel
    for hidden in ("400 m", "Sampah", "rahasia"):
        assert hidden not in panel, hidden
    assert "Siti" not in panel
    image = browser.driver.find_element(By.CSS_SELECTOR, "#sekitar img")
    assert browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0
    fits(browser, "formulir")
    browser.driver.execute_script("document.getElementById('sekitar').scrollIntoView()")
    browser.shot("laporan-serupa")
    browser.shot("formulir-dengan-laporan-serupa", full_page=True)

    browser.submit("Saya juga mengalami")
    browser.wait_text("dukungan Anda tercatat")
    assert f"/lacak/{ids['dekat']}" in browser.driver.current_url
    text = browser.text()
    assert "1 warga juga mengalami masalah ini" in text and "Berhenti mengikuti" in text and "Siti" not in text
    fits(browser, "lacak")
    browser.shot("didukung", full_page=True)
    browser.submit("Berhenti mengikuti")
    browser.wait_text("Anda tidak lagi mengikuti laporan ini")
    assert "Ikuti laporan ini" in browser.text()
    browser.shot("berhenti-mengikuti", full_page=True)


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH])
def test_without_javascript_the_button_lists_them_and_keeps_what_was_typed(
    browser: PageBrowser, live: LiveServer, mailbox: Mailbox, db_engine: Engine, browser_width: int
) -> None:
    ids = seed(live, mailbox, db_engine)
    browser.register(mailbox, "Andi Pratama", "andi.tanpajs@example.id")
    browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})  # type: ignore[attr-defined]
    browser.open("/lapor")
    browser.wait_text("Cek laporan serupa di sekitar")
    browser.fill("title", "Jalan berlubang lagi")
    browser.select("category", "Jalan dan Jembatan")
    browser.driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
    browser.fill("koordinat", f"{HERE[0]}, {HERE[1]}")
    assert "Lubang 60 m" not in browser.text()  # nothing runs by itself
    browser.submit("Cek laporan serupa di sekitar")
    browser.wait_text("Lubang 60 m dari sini")
    panel = browser.driver.find_element(By.ID, "sekitar").text
    assert "± 60 m dari titik Anda" in panel and "400 m" not in panel and "Sampah" not in panel
    assert "foto perlu dipilih ulang" in panel
    assert browser.value("title") == "Jalan berlubang lagi" and browser.value("koordinat") == f"{HERE[0]}, {HERE[1]}"
    fits(browser, "formulir-tanpa-js")
    browser.shot("tanpa-javascript", full_page=True)
    browser.submit("Saya juga mengalami")
    browser.wait_text("dukungan Anda tercatat")
    assert f"/lacak/{ids['dekat']}" in browser.driver.current_url
