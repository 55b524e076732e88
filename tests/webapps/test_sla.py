"""Cockpit's SLA view for supervisors (issue 20, item 2), in a real browser: the koordinator sees on the dashboard the
exact figures and at-risk list of the seeded set (tests/support/sla_seed.py, worked out by hand), the CSV holds the
same rows, and an OPD login gets 403 from /lapor/sla. The API runs live on WEB_URL with its clock at the seed's
"now", where the test engine's SlaController reads it. Screenshots: tests/webapps/screenshots/test_sla_*/."""

import csv
import io
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, update

from api.main import create_app
from engine import LocalEngine
from lapor.db import session_scope
from lapor.models import Report
from lapor.process import EngineClient
from lapor.ratelimit import Limit
from lapor.settings import Settings
from tests.api.conftest import ApiTestSettings, Clock
from tests.conftest import ADMIN, WEB_PORT, WEB_URL
from tests.support.sla_seed import NOW, REPORTER_NAME, seed_reports
from tests.web import conftest as web_fixtures
from tests.webapps.conftest import WebappBrowser

pytestmark = pytest.mark.engine

api_clock = web_fixtures.api_clock
db_engine = web_fixtures.db_engine
limits = web_fixtures.limits
settings = web_fixtures.settings
sms_gateway = web_fixtures.sms_gateway
live_settings = web_fixtures.live_settings

# What the koordinator must read, worked out by hand in tests/support/sla_seed.py (now: Monday 21 December 2026).
AT_RISK = [
    ("SLA-C", "Belum didisposisi", "Admin Pengaduan Daerah", "admin-pengaduan", "Verifikasi oleh Admin Pengaduan",
     "Rabu, 2 Desember 2026 pukul 23.59 WIB", "terlambat 13 hari kerja"),
    ("SLA-B", "Dinas Lingkungan Hidup", "Dinas Lingkungan Hidup", "–", "Tanggapan OPD (status Proses)",
     "Kamis, 3 Desember 2026 pukul 23.59 WIB", "terlambat 12 hari kerja"),
    ("SLA-L", "Belum didisposisi", "Admin Pengaduan Daerah", "–", "Verifikasi oleh Admin Pengaduan",
     "Kamis, 3 Desember 2026 pukul 23.59 WIB", "terlambat 12 hari kerja"),
    ("SLA-J", "Belum didisposisi", "Admin Pengaduan Daerah", "–", "Verifikasi oleh Admin Pengaduan",
     "Jumat, 18 Desember 2026 pukul 23.59 WIB", "terlambat 1 hari kerja"),
    ("SLA-G", "Dinas Pekerjaan Umum dan Penataan Ruang", "Admin Pengaduan Daerah", "–",
     "Dokumentasi penyelesaian oleh Admin Pengaduan", "Senin, 21 Desember 2026 pukul 23.59 WIB", "hari ini"),
    ("SLA-D", "Belum didisposisi", "Admin Pengaduan / Analis / Kepala Bidang", "–", "Disposisi ke OPD",
     "Rabu, 23 Desember 2026 pukul 23.59 WIB", "2 hari kerja"),
]  # fmt: skip


@pytest.fixture
def live_port() -> int:
    return WEB_PORT


@pytest.fixture
def sla_api(
    live_settings: ApiTestSettings, db_engine: Engine, limits: dict[str, Limit], api_clock: Clock
) -> Iterator[None]:
    """The API on WEB_URL (where the test engine's SlaController looks), its clock at the seed's now."""
    api_clock.now = NOW
    application = create_app(live_settings, db=db_engine, run_dispatcher=False, limits=limits, clock=api_clock)
    yield from web_fixtures.serve(application, WEB_PORT)


@pytest.fixture
def seeded(engine: LocalEngine, provisioned: Settings, db_engine: Engine, sla_api: None) -> Iterator[str]:
    """The seeded set, SLA-C running in the engine at its verification task, claimed by the user admin-pengaduan."""
    with session_scope(db_engine) as session:
        seed_reports(session)
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as rest:
        later = {"value": "2027-06-30T23:59:59.000+0700", "type": "Date"}
        # Raw: started mid-way with the listeners and input mappings skipped, which no application call does.
        started = rest.request(
            "POST",
            "/process-definition/key/lapor-pengaduan/start",
            json={
                "businessKey": "SLA-C",
                "variables": {
                    "trackingId": {"value": "SLA-C", "type": "String"},
                    "reportType": {"value": "pengaduan", "type": "String"},
                    "verificationDueAt": later,
                    "verificationReminderAt": later,
                },
                "startInstructions": [{"type": "startBeforeActivity", "activityId": "VerifyReportTask"}],
                "skipCustomListeners": True,
                "skipIoMappings": True,
            },
        )
        instance = str(started["id"])
        [task] = rest.tasks(process_instance_id=instance)
        rest.claim(task.id, "admin-pengaduan")
        with session_scope(db_engine) as session:
            session.execute(update(Report).where(Report.tracking_id == "SLA-C").values(process_instance_id=instance))
        try:
            yield instance
        finally:
            rest.cancel(instance)


def cells(browser: WebappBrowser, css: str) -> list[list[str]]:
    script = """
        return [...document.querySelectorAll(arguments[0])].map(
            row => [...row.querySelectorAll('td')].map(cell => cell.innerText.trim()));
    """
    rows: list[list[str]] = browser.driver.execute_script(script, css)
    return rows


def fetch(browser: WebappBrowser, path: str) -> dict[str, object]:
    """A GET from the page, with its session (what the plugin does)."""
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'})
          .then(async r => done({status: r.status, type: r.headers.get('content-type') || '',
                                 disposition: r.headers.get('content-disposition') || '',
                                 bytes: [...new Uint8Array(await r.arrayBuffer())].slice(0, 3), text: ''}))
          .catch(e => done({status: -1, text: String(e)}));
    """
    text_script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done).catch(e => done(String(e)));
    """
    browser.driver.set_script_timeout(30)
    result: dict[str, object] = browser.driver.execute_async_script(script, path)
    result["text"] = browser.driver.execute_async_script(text_script, path)
    return result


def test_sla_view_for_the_koordinator(browser: WebappBrowser, engine: LocalEngine, seeded: str) -> None:
    browser.login("cockpit", "koordinator")
    section = browser.wait_for(".lapor-sla .tiles", timeout=40)
    tiles = {
        tile.get_attribute("data-tile"): tile.find_element(By.TAG_NAME, "strong").text
        for tile in browser.driver.find_elements(By.CSS_SELECTOR, ".lapor-sla .tile")
    }
    assert tiles == {"open": "9", "late": "4", "soon": "2"}, section.text
    text = browser.driver.find_element(By.CSS_SELECTOR, ".lapor-sla").text
    assert "Periode kepatuhan: 1 Desember 2026 s.d. 31 Desember 2026 (WIB)" in text
    assert "Jatuh tempo dalam 2 hari kerja" in text
    assert REPORTER_NAME not in browser.text()
    rows = cells(browser, ".lapor-sla table.at-risk tbody tr")
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == AT_RISK
    assert rows[0][1] == "Lampu jalan padam di Gang Sepakat"
    instance_link = browser.driver.find_element(By.CSS_SELECTOR, "tr[data-tracking-id='SLA-C'] a.instance")
    assert str(instance_link.get_attribute("href")).endswith(f"#/process-instance/{seeded}/runtime")
    staff_links = [a.get_attribute("href") for a in browser.driver.find_elements(By.CSS_SELECTOR, "a.staff-page")]
    assert [str(link).split("?")[0] for link in staff_links] == [f"{WEB_URL}/files/reports/{r[0]}" for r in AT_RISK]
    opd = {r[0]: r[1:5] for r in cells(browser, ".lapor-sla table.opd tbody tr")}
    assert opd == {
        "Dinas Pekerjaan Umum dan Penataan Ruang": ["2", "0", "1", "2"],
        "Dinas Lingkungan Hidup": ["2", "1", "0", "1"],
        "Dinas Perhubungan": ["1", "0", "0", "1"],
        "Belum didisposisi": ["4", "3", "1", "3"],
        "Semua OPD": ["9", "4", "2", "7"],
    }
    # December's verification so far: D E F G H I met, J missed.
    assert cells(browser, ".lapor-sla table.opd tbody tr[data-opd='Semua OPD']")[0][5] == "85,7%\n6/7"
    bars = browser.driver.find_elements(By.CSS_SELECTOR, ".lapor-sla .chart .bar-row")
    assert [b.text.split("\n")[-1] for b in bars] == ["85,7%", "100,0%", "100,0%", "100,0%", "100,0%"]
    # Medians of December's reports so far: to verification 24 24 24 24 26 48, verified to Proses 24 24 72 144.
    medians = browser.driver.find_element(By.CSS_SELECTOR, ".lapor-sla .medians").text
    assert medians == (
        "Median waktu (semua OPD): laporan masuk sampai diverifikasi 24,0 jam · terverifikasi sampai Proses 48,0 jam"
        " · laporan masuk sampai Selesai –."
    ), medians
    browser.driver.execute_script("window.scrollTo(0, 0)")
    browser.shot("sla-dasbor-atas")
    browser.driver.execute_script("arguments[0].scrollIntoView()", section)
    browser.shot("sla-dasbor")
    browser.driver.execute_script("document.querySelector('.lapor-sla table.at-risk').scrollIntoView({block: 'start'})")
    browser.shot("sla-daftar-berisiko")

    # The CSV holds exactly the rows of the list, for Excel.
    download = fetch(browser, "/lapor/sla.csv")
    assert download["status"] == 200 and "text/csv" in str(download["type"])
    assert "attachment" in str(download["disposition"]) and download["bytes"] == [0xEF, 0xBB, 0xBF]
    table = list(csv.reader(io.StringIO(str(download["text"]).lstrip("\ufeff")), delimiter=";"))
    assert table[0][:3] == ["Nomor laporan", "Judul", "OPD"]
    assert [(r[0], r[1], r[2], r[8], r[9] or "–", r[4], r[5]) for r in table[1:]] == [
        (row[0], row[1], row[2], row[3], row[4], row[5], row[6]) for row in rows
    ]
    assert [int(r[6]) for r in table[1:]] == [-13, -12, -12, -1, 0, 2]
    assert [r[10].split("?")[0] for r in table[1:]] == [str(link).split("?")[0] for link in staff_links]

    # A wider window takes in DISHUB's completion due after the cuti bersama and Christmas.
    field = browser.driver.find_element(By.CSS_SELECTOR, ".lapor-sla input[name=within]")
    field.clear()
    field.send_keys("3")
    browser.driver.find_element(By.CSS_SELECTOR, ".lapor-sla button[type=submit]").click()
    WebDriverWait(browser.driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-tracking-id='SLA-E']"))
    last = cells(browser, ".lapor-sla table.at-risk tbody tr")[-1]
    assert (last[0], last[6], last[7]) == ("SLA-E", "Senin, 28 Desember 2026 pukul 23.59 WIB", "3 hari kerja")
    assert browser.driver.find_element(By.CSS_SELECTOR, "[data-tile=soon] strong").text == "3"
    assert "within=3" in str(browser.driver.find_element(By.CSS_SELECTOR, "a.csv").get_attribute("href"))
    browser.shot("sla-tiga-hari-kerja")

    # The instance link opens the report's instance in Cockpit.
    browser.driver.find_element(By.CSS_SELECTOR, "tr[data-tracking-id='SLA-C'] a.instance").click()
    WebDriverWait(browser.driver, 30).until(lambda d: seeded in d.current_url)
    browser.wait_text("SLA-C", timeout=30)
    browser.shot("sla-instans-proses")


def test_sla_view_is_for_supervisors_only(browser: WebappBrowser, engine: LocalEngine, seeded: str) -> None:
    # No session: 401, for the JSON and the CSV alike.
    for path in ("/lapor/sla", "/lapor/sla.csv"):
        response = httpx.get(f"{engine.base_url}{path}", timeout=30)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized", path
        assert "SLA-" not in response.text
    # An OPD liaison, logged in to Tasklist: 403, and nothing of the list.
    browser.login("tasklist", "opd-dishub")
    for path in ("/lapor/sla", "/lapor/sla.csv?within=20"):
        answer = fetch(browser, path)
        assert answer["status"] == 403, answer
        assert "SLA-" not in str(answer["text"]) and "Koordinator" in str(answer["text"])
    browser.shot("sla-opd-ditolak")
    # Bad parameters come back as the API's 422.
    browser.driver.delete_all_cookies()
    browser.login("cockpit", "koordinator")
    refused = fetch(browser, "/lapor/sla?start=2026-12-10&end=2026-12-01")
    assert refused["status"] == 422 and '"field":"query.end"' in str(refused["text"]), refused
    assert fetch(browser, "/lapor/sla?within=99")["status"] == 422
    assert fetch(browser, "/lapor/sla")["status"] == 200
