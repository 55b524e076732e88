"""The citizen's pages for people who use a screen reader or only a keyboard (issue 22, item 7): axe-core (npm, run
in the real headless Chromium from node_modules, nothing fetched) finds no serious or critical violation on any
citizen page, at a phone's width and on a desktop; a report is submitted with the keyboard alone."""

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.models import Report
from lapor.settings import ROOT
from tests.api.conftest import REPORT_FIELDS, image_bytes
from tests.conftest import Mailbox
from tests.web.conftest import PHONE_WIDTH, LiveServer, PageBrowser
from tests.web.test_browser import TITLE, fill_report, register_in_browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What blocks a person from using the page; "moderate" and "minor" findings are reported in the test's output.
BLOCKING = ("serious", "critical")


def axe_violations(browser: PageBrowser) -> list[dict[str, object]]:
    """axe-core's violations on the open page (WCAG 2.x A/AA and best practices), injected through the driver: the
    page's own policy allows no script of ours, and none is needed on it."""
    driver = browser.driver
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then((r) => done(JSON.stringify(r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary).slice(0, 5),
          })))))
          .catch((e) => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));
        """
    )
    violations: list[dict[str, object]] = json.loads(result)
    return violations


def assert_accessible(browser: PageBrowser, name: str) -> None:
    browser.shot(name, full_page=True)
    violations = axe_violations(browser)
    for v in violations:
        print(f"{name}: {v['impact']} {v['id']}: {v['help']}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name}: " + json.dumps(blocking, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_every_citizen_page_has_no_serious_or_critical_axe_violation(
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path, browser_width: int
) -> None:
    for path, name in [("/", "beranda"), ("/daftar", "daftar"), ("/masuk", "masuk"), ("/lacak", "lacak-cari")]:
        browser.open(path)
        assert_accessible(browser, name)
    register_in_browser(browser, mailbox, "Siti Rahmawati", f"siti.aksesibel{browser_width}@example.id")
    assert_accessible(browser, "laporan-saya-kosong")
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    assert_accessible(browser, "lapor")
    browser.submit("Kirim laporan")  # empty: the browser's own messages; the page must stay accessible
    assert_accessible(browser, "lapor-kosong")
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    fill_report(browser, photo)
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima")
    assert_accessible(browser, "lacak-laporan")
    browser.open("/laporan-saya")
    browser.wait_text(TITLE)
    assert_accessible(browser, "laporan-saya")
    browser.open("/data-saya")
    browser.wait_text("Data saya")
    assert_accessible(browser, "data-saya")
    browser.open("/laporan")
    assert_accessible(browser, "umpan-laporan")


def test_a_report_form_refused_by_the_server_stays_accessible(
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path
) -> None:
    """The messages next to the fields are tied to them (aria-describedby) and the page stays valid for axe."""
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.aksesibel.galat@example.id")
    fake = tmp_path / "foto.jpg"
    fake.write_text("bukan foto")
    fill_report(browser, fake)
    browser.submit("Kirim laporan")
    browser.wait_text("Periksa kembali isian yang ditandai di bawah.")
    assert_accessible(browser, "lapor-ditolak")


def focused(browser: PageBrowser) -> tuple[str, str]:
    """The element that has the keyboard's focus: its tag and name (or its text for a button)."""
    element = browser.driver.switch_to.active_element
    return element.tag_name, element.get_attribute("name") or element.text


def tab_to(browser: PageBrowser, name: str, *, most: int = 60) -> None:
    """Press Tab until the field of this name has the focus, as a keyboard user moves through the form."""
    for _ in range(most):
        if focused(browser)[1] == name:
            return
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached {name!r}; the focus is on {focused(browser)}")


def type_keys(browser: PageBrowser, *keys: str) -> None:
    ActionChains(browser.driver).send_keys(*keys).perform()


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_report_is_submitted_with_the_keyboard_alone(
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path, live: LiveServer, browser_width: int
) -> None:
    register_in_browser(browser, mailbox, "Rudi Hartono", f"rudi.papanketik{browser_width}@example.id")
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    browser.driver.find_element(By.TAG_NAME, "body").click()  # the page has the focus, nothing in it yet
    tab_to(browser, "report_type")
    type_keys(browser, Keys.SPACE)  # the first choice: pengaduan
    tab_to(browser, "title")
    type_keys(browser, TITLE)
    tab_to(browser, "description")
    type_keys(browser, REPORT_FIELDS["description"])
    tab_to(browser, "category")
    type_keys(browser, "Jalan")  # a select takes the option's first letters
    tab_to(browser, "lokasi")
    type_keys(browser, "Benua Melayu Laut")
    tab_to(browser, "address")
    type_keys(browser, REPORT_FIELDS["address"])
    tab_to(browser, "photos")
    # The file picker is the system's own dialog, which a keyboard drives; the driver hands it the chosen file.
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    browser.driver.switch_to.active_element.send_keys(str(photo))
    browser.shot("terisi-dengan-papan-ketik", full_page=True)
    assert browser.value("category") == "JALAN", browser.value("category")
    assert browser.value("lokasi").endswith("61.71.01.1002"), browser.value("lokasi")
    for _ in range(30):
        tag, text = focused(browser)
        if tag == "button" and text == "Kirim laporan":
            break
        type_keys(browser, Keys.TAB)
    assert focused(browser) == ("button", "Kirim laporan"), focused(browser)
    type_keys(browser, Keys.ENTER)
    browser.wait_text("Laporan Anda telah diterima")
    browser.shot("terkirim", full_page=True)
    with Session(live.app.state.context.db) as session:
        (report,) = session.scalars(select(Report).where(Report.title == TITLE)).all()
        assert (report.category, report.kelurahan_code) == ("JALAN", "61.71.01.1002")


def test_axe_finds_a_field_without_its_label(browser: PageBrowser, mailbox: Mailbox) -> None:
    """The check can fail: the title field's label removed from the page is a critical violation."""
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.tanpalabel@example.id")
    browser.open("/lapor")
    browser.wait_text("Buat laporan")
    browser.driver.execute_script("document.querySelector('label[for=title]').remove()")
    found = {(v["id"], v["impact"]) for v in axe_violations(browser)}
    assert ("label", "critical") in found, found
