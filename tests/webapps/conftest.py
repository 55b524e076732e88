"""A real headless Chromium (Debian's chromium + chromium-driver) driving Tasklist and Cockpit; nothing is downloaded
at run time. Screenshots of every step go to tests/webapps/screenshots/<test>/ (ignored by git)."""

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chromium.webdriver import ChromiumDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from engine import LocalEngine
from tests.chromium import chromium

SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass
class WebappBrowser:
    """One logged-out browser on the engine's webapps; `shot` saves a screenshot of the current page."""

    driver: WebDriver
    engine: LocalEngine
    folder: Path
    _count: int = 0

    def open(self, app: str, fragment: str = "") -> None:
        self.driver.get(f"{self.engine.base_url}/operaton/app/{app}/default/{fragment}")

    def login(self, app: str, user: str, password: str | None = None) -> None:
        """Log in through the webapp's form. The form can be drawn again while the app still starts (its plugins and
        translations load after the first paint), which drops what was typed; the typing is then checked and done
        again. A login that still does not go through fails with what the page said."""
        self.open(app)
        seen: list[str] = []
        for attempt in range(1, 4):
            self.wait_text("Masuk")  # the login button, in Bahasa Indonesia (id.json)
            self.wait_idle()
            try:
                form = self.driver.find_element(By.CSS_SELECTOR, "form[name=signinForm]")
                name = form.find_element(By.CSS_SELECTOR, "input[type=text]")
                secret = form.find_element(By.CSS_SELECTOR, "input[type=password]")
                for field, value in ((name, user), (secret, password or user)):
                    field.clear()
                    field.send_keys(value)
                self.shot(f"{app}-login-{user}")
                typed = (name.get_attribute("value"), bool(secret.get_attribute("value")))
                if typed != (user, True):
                    seen.append(f"attempt {attempt}: the form held {typed[0]!r} after typing {user!r}")
                    continue
                form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            except StaleElementReferenceException:
                seen.append(f"attempt {attempt}: the form was drawn again while typing")
                continue
            try:
                WebDriverWait(self.driver, 20).until(
                    lambda d: not d.find_elements(By.CSS_SELECTOR, "input[type=password]")
                )
                return
            except TimeoutException:
                self.shot(f"{app}-login-{user}-not-taken")
                page = " ".join(self.text().split())[:400]
                seen.append(f"attempt {attempt}: still on the login form; the page said: {page!r}")
        raise AssertionError(f"{user} could not log in to {app}: " + "; ".join(seen))

    def wait_idle(self, *, timeout: float = 20) -> None:
        """Wait until the AngularJS app has no request in flight (its views are drawn once their data is in)."""
        script = """
            const ng = window.angular;
            const injector = ng && ng.element(document.documentElement).injector();
            return injector ? injector.get('$http').pendingRequests.length : -1;
        """
        WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script(script) == 0)

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

    def viewport(self, width: int, height: int) -> None:
        """The page's own size, as a screen of that size shows it (the window's size would include no browser frame)."""
        assert isinstance(self.driver, ChromiumDriver)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    def shot(self, name: str) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def browser(engine: LocalEngine, request: pytest.FixtureRequest) -> Iterator[WebappBrowser]:
    driver = chromium(1400, 1000)
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    session = WebappBrowser(driver, engine, folder)
    try:
        yield session
    finally:
        session.shot("end")
        print(f"screenshots: {folder}")
        driver.quit()
