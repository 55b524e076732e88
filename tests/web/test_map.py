"""The map of the report form and the tracking page (issue 22, item 1) in a real headless Chromium: Leaflet served by
the app, tiles from a local tile server (nothing fetched from outside), a pin dropped with a tap and dragged, "Gunakan
lokasi saya" with the phone's position, a point outside the city refused next to the map, the pin on the tracking
page; at 390 px and on a desktop. Without JavaScript the map stays hidden and the form is as before (the other tests
of tests/web submit without touching it)."""

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN
from lapor.models import Report, ReportStatus
from tests.api import conftest as api_fixtures
from tests.api.conftest import ApiTestSettings, Person, image_bytes, set_status, submit
from tests.conftest import Mailbox, free_port
from tests.web.conftest import PHONE_WIDTH, LiveServer, PageBrowser
from tests.web.test_accessibility import assert_accessible
from tests.web.test_browser import TITLE, fill_report, register_in_browser

citizen = api_fixtures.citizen  # a registered reporter of the API tests, whose reports fill the feed


class TileServer:
    """Answers every tile with the same small PNG and remembers what was asked."""

    def __init__(self) -> None:
        out = io.BytesIO()
        Image.new("RGB", (256, 256), (205, 225, 200)).save(out, format="PNG")
        tile = out.getvalue()
        asked: list[str] = []
        self.asked = asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tiles/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.server.shutdown()


@pytest.fixture
def live_settings(settings: ApiTestSettings, live_port: int, tiles: TileServer) -> ApiTestSettings:
    return settings.model_copy(
        update={"public_base_url": f"http://127.0.0.1:{live_port}", "map_tile_url": tiles.url, "map_attribution": "Uji"}
    )


def map_ready(browser: PageBrowser) -> None:
    """The map is shown and at least one tile has loaded from the tile server."""
    WebDriverWait(browser.driver, 20).until(
        lambda d: d.execute_script(
            "const m = document.getElementById('peta');"
            "return m && !m.hidden && document.querySelectorAll('#peta-kanvas img.leaflet-tile-loaded').length > 0"
        )
    )


def coordinates(browser: PageBrowser) -> tuple[float, float]:
    lat, lon = (float(part) for part in browser.value("koordinat").split(","))
    return lat, lon


def in_city(point: tuple[float, float]) -> bool:
    return LAT_MIN <= point[0] <= LAT_MAX and LON_MIN <= point[1] <= LON_MAX


def tap_map(browser: PageBrowser, dx: int, dy: int) -> None:
    canvas = browser.driver.find_element(By.ID, "peta-kanvas")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    ActionChains(browser.driver).move_to_element_with_offset(canvas, dx, dy).click().perform()


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_a_pin_dropped_and_dragged_on_the_map_is_the_reports_point(
    browser: PageBrowser, mailbox: Mailbox, tiles: TileServer, tmp_path: Path, live: LiveServer, browser_width: int
) -> None:
    register_in_browser(browser, mailbox, "Siti Rahmawati", f"siti.peta{browser_width}@example.id")
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(image_bytes(size=(640, 480), color="gray"))
    fill_report(browser, photo)
    map_ready(browser)
    assert tiles.asked and all(path.startswith("/tiles/") for path in tiles.asked)
    assert browser.value("koordinat") == ""
    tap_map(browser, 10, 10)
    dropped = coordinates(browser)
    assert in_city(dropped), dropped
    browser.shot("pin-dijatuhkan")
    marker = browser.driver.find_element(By.CSS_SELECTOR, "#peta-kanvas .leaflet-marker-icon")
    ActionChains(browser.driver).drag_and_drop_by_offset(marker, 40, 25).perform()
    dragged = coordinates(browser)
    assert in_city(dragged) and dragged != dropped, (dropped, dragged)
    assert dragged[1] > dropped[1] and dragged[0] < dropped[0], "east and south, as dragged right and down"
    browser.shot("pin-digeser", full_page=True)
    assert_accessible(browser, "formulir-dengan-peta")
    browser.submit("Kirim laporan")
    browser.wait_text("Laporan Anda telah diterima")
    with Session(live.app.state.context.db) as session:
        report = session.scalars(select(Report).where(Report.title == TITLE)).one()
        assert (round(report.latitude or 0, 6), round(report.longitude or 0, 6)) == dragged
    # The tracking page shows the same point on the map.
    map_ready(browser)
    shown = browser.driver.execute_script(
        "const m = document.querySelector('#peta-kanvas .leaflet-marker-icon'); return m !== null"
    )
    assert shown
    browser.shot("lacak-dengan-peta", full_page=True)


def test_my_location_fills_the_point_and_a_place_outside_the_city_is_refused_next_to_the_map(
    browser: PageBrowser, mailbox: Mailbox, tmp_path: Path
) -> None:
    register_in_browser(browser, mailbox, "Rudi Hartono", "rudi.lokasi@example.id")
    driver = browser.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})  # type: ignore[attr-defined]
    fill_report(browser, None)
    map_ready(browser)
    # Outside the city (Kubu Raya): refused, the field stays empty, the reason is next to the map.
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setGeolocationOverride", {"latitude": -0.15, "longitude": 109.45, "accuracy": 10}
    )
    driver.find_element(By.ID, "lokasi-saya").click()
    WebDriverWait(driver, 10).until(lambda d: "di luar Kota Pontianak" in d.find_element(By.ID, "peta-pesan").text)
    assert browser.value("koordinat") == ""
    browser.shot("lokasi-di-luar-kota", full_page=True)
    # In the city (Tugu Khatulistiwa is just outside; Jl. Gajah Mada is in): the point is taken.
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setGeolocationOverride", {"latitude": -0.0335, "longitude": 109.3357, "accuracy": 10}
    )
    driver.find_element(By.ID, "lokasi-saya").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "koordinat").get_attribute("value"))
    assert coordinates(browser) == (-0.0335, 109.3357)
    assert driver.find_element(By.ID, "peta-pesan").text == ""
    browser.shot("lokasi-saya", full_page=True)


def test_the_form_page_admits_the_tile_server_and_no_other(
    browser: PageBrowser, mailbox: Mailbox, live: LiveServer
) -> None:
    """The page's policy names the configured tile server's origin for images, and scripts of this origin only."""
    register_in_browser(browser, mailbox, "Siti Rahmawati", "siti.kebijakan@example.id")
    cookie = browser.driver.get_cookie("lapor_sesi")
    assert cookie is not None
    with TestClient(live.app) as client:
        client.cookies.set("lapor_sesi", cookie["value"])
        policy = client.get("/lapor").headers["content-security-policy"]
    tile_origin = live.app.state.context.settings.map_tile_url.split("/tiles/")[0]
    assert f"img-src 'self' {tile_origin};" in policy
    assert "script-src 'self'" in policy and "unsafe" not in policy


@pytest.mark.parametrize("browser_width", [PHONE_WIDTH, 1280])
def test_the_public_feed_shows_small_photos_and_its_reports_on_a_map(
    browser: PageBrowser, live: LiveServer, client: TestClient, citizen: Person, browser_width: int
) -> None:
    db = live.app.state.context.db
    points = {
        "Jalan berlubang di Gajah Mada": ("-0.0335", "109.3357"),
        "Lampu padam di Tanjungpura": ("-0.0290", "109.3410"),
    }
    for title, (lat, lon) in points.items():
        set_status(db, submit(client, citizen, title=title, latitude=lat, longitude=lon), ReportStatus.PROSES)
    set_status(db, submit(client, citizen, title="Tanpa titik"), ReportStatus.PROSES)
    set_status(
        db,
        submit(client, citizen, title="Rahasia di peta", confidential=True, latitude="-0.03", longitude="109.34"),
        ReportStatus.PROSES,
    )
    browser.open("/laporan")
    map_ready(browser)
    markers = browser.driver.find_elements(By.CSS_SELECTOR, "#peta-kanvas .leaflet-marker-icon")
    assert sorted(m.get_attribute("title") for m in markers) == sorted(
        points
    )  # not the confidential, not the pointless
    thumbnails = browser.driver.find_elements(By.CSS_SELECTOR, ".daftar-laporan img.kecil")
    assert len(thumbnails) == 3
    WebDriverWait(browser.driver, 10).until(
        lambda d: all(
            d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", t) for t in thumbnails
        )
    )
    assert_accessible(browser, "umpan-dengan-peta")
    markers[0].click()
    # Leaflet fades the popup in (opacity 0 -> 1); until it is shown Selenium reads its link's text as ''.
    link = WebDriverWait(browser.driver, 10).until(
        lambda d: next((a for a in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content a") if a.text), False)
    )
    title = link.text
    assert title in points and "/lacak/" in (link.get_attribute("href") or "")
    WebDriverWait(browser.driver, 5).until(  # the screenshot shows the popup as it ends, not half faded in
        lambda d: d.execute_script("return getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    )
    browser.shot("umpan-penanda-dibuka", full_page=True)
    link.click()
    browser.wait_text("Lokasi")
    assert title in browser.text()
