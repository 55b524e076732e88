"""A real headless Chromium (Debian's chromium + chromium-driver) driving Tasklist and Cockpit; nothing is downloaded
at run time. Screenshots of every step go to tests/webapps/screenshots/<test>/ (ignored by git)."""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from engine import LocalEngine

CHROMIUM = Path(os.environ.get("LAPOR_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("LAPOR_CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass
class Browser:
    """One logged-out browser on the engine's webapps; `shot` saves a screenshot of the current page."""

    driver: WebDriver
    engine: LocalEngine
    folder: Path
    _count: int = 0

    def open(self, app: str, fragment: str = "") -> None:
        self.driver.get(f"{self.engine.base_url}/operaton/app/{app}/default/{fragment}")

    def login(self, app: str, user: str, password: str | None = None) -> None:
        self.open(app)
        self.wait_text("Masuk")  # the login button, in Bahasa Indonesia (id.json)
        self.driver.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys(user)
        self.driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password or user)
        self.shot(f"{app}-login-{user}")
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(self.driver, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "input[type=password]"))

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def wait_text(self, text: str, *, timeout: float = 20) -> None:
        WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text
        )

    def wait_for(self, css: str, *, timeout: float = 20) -> WebElement:
        WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, css)
        )
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click_text(self, text: str, *, css: str = "a, button", timeout: float = 20) -> None:
        def find(d: WebDriver) -> WebElement | bool:
            for element in d.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed() and text in element.text:
                    return element
            return False

        element = WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(find)
        assert isinstance(element, WebElement)
        # A script click: the fixed footer may cover a button at the bottom of the form.
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)

    def shot(self, name: str) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def browser(engine: LocalEngine, request: pytest.FixtureRequest) -> Iterator[Browser]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} needed: apt-get install chromium chromium-driver", pytrace=False)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    # The city's computers run in WIB; the webapps show dates in the browser's time zone.
    service = Service(str(CHROMEDRIVER), env={**os.environ, "TZ": "Asia/Pontianak"})
    driver = webdriver.Chrome(service=service, options=options)
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = Browser(driver, engine, folder)
    try:
        yield session
    finally:
        session.shot("end")
        print(f"screenshots: {folder}")
        driver.quit()
