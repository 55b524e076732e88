"""The one way the browser tests start a browser: Debian's headless Chromium and its driver (nothing downloaded at
run time), in WIB and in Indonesian, as the city's staff and its citizens run theirs."""

import os
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("LAPOR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("LAPOR_CHROMEDRIVER", "/usr/bin/chromedriver"))
INDONESIAN = Path(os.environ.get("LAPOR_CHROMIUM_ID_PAK", "/usr/lib/chromium/locales/id.pak"))


def chromium(width: int, height: int, *, javascript: bool = True, wait_for_pages: bool = True) -> WebDriver:
    """Headless Chromium; `javascript=False` is a browser with scripts switched off (a page's plain HTML path);
    `wait_for_pages=False` returns from a click at once, however long the page it opens takes (a timed upload)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} needed: apt-get install chromium chromium-driver", pytrace=False)
    if not INDONESIAN.exists():  # else the screenshots show "Choose Files" and "mm/dd/yyyy", which nobody here sees
        pytest.fail(
            f"{INDONESIAN} needed for the browser's own Indonesian: apt-get install chromium-l10n", pytrace=False
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--lang=id-ID",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    if not wait_for_pages:
        options.page_load_strategy = "none"
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    # WIB: the webapps show dates in the browser's time zone. On Linux the browser's own words (the file picker,
    # the date field, its form messages) follow LANGUAGE, not --lang; Indonesian with Debian's chromium-l10n.
    env = {**os.environ, "TZ": "Asia/Pontianak", "LANGUAGE": "id", "LANG": "id_ID.UTF-8"}
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER), env=env), options=options)
