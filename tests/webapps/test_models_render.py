"""The models open in the Modeler's own libraries (issue 21, item 3): every .bpmn, .dmn and .form of bpmn/ is opened
in a real headless Chromium by the libraries Camunda Modeler is built from (bpmn-js and dmn-js, each with its camunda
moddle, and form-js's editor), from their prebuilt bundles in node_modules served by a local HTTP server (nothing
fetched from outside). Each must import without a warning or a console error and draw every flow node, lane and
sequence flow, every decision in the DRD and every rule in its table, every form field; broken copies show that each
check fails. Screenshots: tests/webapps/screenshots/<test>/, fitted to a 1600x1000 page, and a second one at 1:1
("-1-1") when the model is larger."""

import json
import mimetypes
import re
import shutil
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chromium.webdriver import ChromiumDriver
from selenium.webdriver.remote.webdriver import WebDriver

from tests.chromium import chromium
from tests.support.servers import serving
from tests.webapps.conftest import SCREENSHOTS

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "bpmn"
NODE_MODULES = ROOT / "node_modules"
HARNESS = ROOT / "tests" / "resources" / "render"
# What the server hands out: the harness page and the libraries' prebuilt bundles, nothing else of node_modules.
ROUTES = {
    "/harness/": HARNESS,
    "/bpmn-js/": NODE_MODULES / "bpmn-js" / "dist",
    "/dmn-js/": NODE_MODULES / "dmn-js" / "dist",
    "/form-js/": NODE_MODULES / "@bpmn-io" / "form-js" / "dist",
    "/camunda-bpmn-moddle/": NODE_MODULES / "camunda-bpmn-moddle" / "resources",
    "/camunda-dmn-moddle/": NODE_MODULES / "camunda-dmn-moddle" / "resources",
    "/models/": MODELS,
}
CONTENT_TYPES = {".bpmn": "application/xml", ".dmn": "application/xml", ".form": "application/json"}
# A page to read a diagram in; a model larger at 1:1 gets a second screenshot at its own size (up to MAX_SIDE).
WIDTH, HEIGHT = 1600, 1000
MAX_SIDE = 8000


class ModelServer(ThreadingHTTPServer):
    """Serves ROUTES and any folder a test adds (`routes`) on 127.0.0.1; remembers what it could not find."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ModelHandler)
        self.routes: dict[str, Path] = dict(ROUTES)
        self.not_found: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def file_for(self, url_path: str) -> Path | None:
        for prefix, folder in self.routes.items():
            if url_path.startswith(prefix):
                path = (folder / url_path.removeprefix(prefix)).resolve()
                if path.is_relative_to(folder.resolve()) and path.is_file():
                    return path
        return None


class _ModelHandler(BaseHTTPRequestHandler):
    server: ModelServer

    def do_GET(self) -> None:
        url_path = self.path.split("?")[0]
        path = self.server.file_for(url_path)
        if path is None:
            self.server.not_found.append(url_path)
            self.send_error(404)
            return
        body = path.read_bytes()
        content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        self.send_response(200)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    missing = [str(folder) for folder in ROUTES.values() if not folder.is_dir()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `npm ci` (make setup)", pytrace=False)
    with serving(ModelServer()) as served:
        yield served


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    browser = chromium(WIDTH, HEIGHT)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()


class Modeler:
    """One model opened on the harness page: `open` imports it, `call` runs a harness function, `shot` keeps a PNG."""

    def __init__(self, driver: WebDriver, server: ModelServer, folder: Path) -> None:
        self.driver = driver
        self.server = server
        self.folder = folder
        self._count = 0

    def open(self, model_url: str, kind: str) -> dict[str, Any]:
        self.server.not_found.clear()
        self.viewport(WIDTH, HEIGHT)
        self.driver.get(f"{self.server.url}/harness/{kind}.html")
        moddle = {"bpmn": ["/camunda-bpmn-moddle/camunda.json"], "dmn": ["/camunda-dmn-moddle/camunda.json"]}
        arguments = [model_url, *moddle.get(kind, [])]
        return self.result(f"open{kind.capitalize()}", *arguments)

    def result(self, function: str, *arguments: str) -> dict[str, Any]:
        """What an open function of the harness resolved to: error, warnings, problems and what was drawn."""
        result = self.call(function, *arguments)
        assert isinstance(result, dict), f"{function} returned {result!r}"
        return result

    def call(self, function: str, *arguments: str) -> Any:
        script = f"""
            const done = arguments[arguments.length - 1];
            Promise.resolve()
                .then(() => window.harness.{function}(...Array.from(arguments).slice(0, -1)))
                .then(done, (error) => done({{error: String(error), warnings: [], problems: []}}));
        """
        return self.driver.execute_async_script(script, *arguments)

    def viewport(self, width: int, height: int) -> None:
        """The page's own size (a window's size would include the browser's frame)."""
        assert isinstance(self.driver, ChromiumDriver)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    def shot(self, name: str) -> Path:
        """The model fitted to the 1600x1000 page; then, when it does not fit at 1:1, all of it at 1:1."""
        self.call("fit")
        path = self._save(name)
        size = self.call("size")
        width, height = min(size["width"], MAX_SIDE), min(size["height"], MAX_SIDE)
        if width > WIDTH or height > HEIGHT:
            self.viewport(max(width, WIDTH), max(height, HEIGHT))
            self.call("fit")
            self._save(f"{name}-1-1")
            self.viewport(WIDTH, HEIGHT)
            self.call("fit")
        return path

    def _save(self, name: str) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def modeler(driver: WebDriver, server: ModelServer, request: pytest.FixtureRequest) -> Modeler:
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Modeler(driver, server, folder)


@pytest.fixture
def scratch(server: ModelServer, tmp_path: Path) -> Iterator[Path]:
    """A folder of the test's own models, served under /scratch/."""
    server.routes["/scratch/"] = tmp_path
    yield tmp_path
    del server.routes["/scratch/"]


def assert_clean(name: str, library: str, result: dict[str, Any], served: ModelServer) -> None:
    """Nothing the page asked for missing, and the import resolved with no warning and no console error."""
    assert not served.not_found, f"{name}: the page asked for files the server does not have: {served.not_found}"
    assert result["error"] is None, f"{name}: {library} could not import it: {result['error']}"
    warnings = "; ".join(result["warnings"])
    assert not result["warnings"], f"{name}: {library} reported {len(result['warnings'])} warning(s): {warnings}"
    assert not result["problems"], f"{name}: the browser reported, in {library}: {'; '.join(result['problems'])}"


def check_bpmn(modeler: Modeler, name: str, url: str) -> None:
    result = modeler.open(url, "bpmn")
    modeler.shot(name.removesuffix(".bpmn"))
    assert_clean(name, "bpmn-js", result, modeler.server)
    assert result["processes"], f"{name}: no process"
    assert result["expected"] > 0 and result["shapes"] > 0, f"{name}: nothing drawn ({result})"
    assert not result["missing"], f"{name}: not drawn (no diagram shape): {', '.join(result['missing'])}"
    assert not result["misSized"], f"{name}: drawn stretched (events are 36x36, gateways 50x50 in the Modeler): " + (
        ", ".join(result["misSized"])
    )


def check_dmn(modeler: Modeler, name: str, url: str) -> None:
    result = modeler.open(url, "dmn")
    stem = name.removesuffix(".dmn")
    modeler.shot(f"{stem}-drd")
    assert_clean(name, "dmn-js", result, modeler.server)
    assert result["decisions"], f"{name}: no decision"
    assert result["view"] == "drd", f"{name}: opens on {result['view']}, not the decision diagram (DRD)"
    assert not result["notInDrd"], f"{name}: not drawn in the DRD: {', '.join(result['notInDrd'])}"
    for decision in result["decisions"]:
        table = modeler.result("openDecision", decision["id"])
        modeler.shot(f"{stem}-{decision['id']}")
        assert_clean(f"{name} decision {decision['id']}", "dmn-js", table, modeler.server)
        if decision["rules"] is not None:
            assert table["type"] == "decisionTable", f"{name}: {decision['id']} opened as {table['type']}"
            assert table["rows"] == decision["rules"], (
                f"{name}: {decision['id']} has {decision['rules']} rules, the table shows {table['rows']}"
            )


def check_form(modeler: Modeler, name: str, url: str) -> None:
    result = modeler.open(url, "form")
    modeler.shot(name.removesuffix(".form"))
    assert_clean(name, "form-js", result, modeler.server)
    assert result["fields"] > 0, f"{name}: no form field"
    assert not result["missing"], f"{name}: form fields not drawn: {', '.join(result['missing'])}"


CHECKS = {".bpmn": check_bpmn, ".dmn": check_dmn, ".form": check_form}


def model_files() -> list[Path]:
    """Every model in bpmn/: a new one is checked without touching this file."""
    return sorted(path for path in MODELS.iterdir() if path.suffix in CHECKS)


@pytest.mark.parametrize("model", model_files(), ids=lambda path: path.name)
def test_model_opens_in_the_modelers_libraries(model: Path, modeler: Modeler) -> None:
    CHECKS[model.suffix](modeler, model.name, f"/models/{model.name}")


# -- the checks fail on a broken copy of a model (written to the test's own folder, served under /scratch/) --------


def broken_copy(scratch: Path, model: str, old: str, new: str) -> str:
    """A copy of bpmn/<model> with `old` replaced by `new` once; its URL."""
    text = (MODELS / model).read_text(encoding="utf-8")
    assert old in text, f"{model} no longer holds {old!r}: pick another change to break it"
    name = f"broken-{model}"
    (scratch / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return f"/scratch/{name}"


def test_a_flow_to_an_unknown_task_is_reported(modeler: Modeler, scratch: Path) -> None:
    url = broken_copy(scratch, "lapor-rekap-bulanan.bpmn", 'targetRef="ReviewRecapTask"', 'targetRef="NoSuchTask"')
    with pytest.raises(AssertionError, match=r"bpmn-js reported .*unresolved reference <NoSuchTask>"):
        check_bpmn(modeler, "broken-lapor-rekap-bulanan.bpmn", url)


def test_a_misspelt_camunda_attribute_is_reported(modeler: Modeler, scratch: Path) -> None:
    """The camunda moddle is loaded: without it, bpmn-js would take any camunda:* attribute silently."""
    url = broken_copy(scratch, "lapor-rekap-bulanan.bpmn", "camunda:historyTimeToLive=", "camunda:historyTimeToLiv=")
    with pytest.raises(AssertionError, match=r"bpmn-js reported .*unknown attribute <camunda:historyTimeToLiv>"):
        check_bpmn(modeler, "broken-lapor-rekap-bulanan.bpmn", url)


def test_a_flow_node_without_a_diagram_shape_is_reported(modeler: Modeler, scratch: Path) -> None:
    """The engine runs it, the Modeler does not show it: the end event's shape and its flow's edge are gone."""
    text = (MODELS / "lapor-rekap-bulanan.bpmn").read_text(encoding="utf-8")
    without = re.sub(r'\s*<bpmndi:BPMN(Shape|Edge) id="RecapReviewed\w+_di".*?</bpmndi:BPMN\1>', "", text, flags=re.S)
    assert without.count("RecapReviewed") == text.count("RecapReviewed") - 4
    (scratch / "undrawn.bpmn").write_text(without, encoding="utf-8")
    with pytest.raises(
        AssertionError, match=r"not drawn \(no diagram shape\): RecapReviewedEndEvent, RecapReviewedFlow"
    ):
        check_bpmn(modeler, "undrawn.bpmn", "/scratch/undrawn.bpmn")


def test_a_stretched_event_is_reported(modeler: Modeler, scratch: Path) -> None:
    old = '<dc:Bounds x="682" y="317" width="36" height="36" />'
    url = broken_copy(scratch, "lapor-rekap-bulanan.bpmn", old, old.replace('width="36"', 'width="136"'))
    with pytest.raises(AssertionError, match=r"drawn stretched .*: RecapReviewedEndEvent \(136x36\)"):
        check_bpmn(modeler, "broken-lapor-rekap-bulanan.bpmn", url)


def test_a_misspelt_camunda_attribute_of_a_decision_is_reported(modeler: Modeler, scratch: Path) -> None:
    """The camunda DMN moddle is loaded too: a decision's history time to live misspelt is an import warning."""
    url = broken_copy(scratch, "routing-opd.dmn", "camunda:historyTimeToLive=", "camunda:historyTimeToLiv=")
    with pytest.raises(AssertionError, match=r"dmn-js reported .*unknown attribute <camunda:historyTimeToLiv>"):
        check_dmn(modeler, "broken-routing-opd.dmn", url)


def test_a_decision_shape_for_an_unknown_decision_is_reported(modeler: Modeler, scratch: Path) -> None:
    url = broken_copy(scratch, "routing-opd.dmn", 'dmnElementRef="RoutingOpd"', 'dmnElementRef="NoSuchDecision"')
    with pytest.raises(AssertionError, match=r"dmn-js reported .*unresolved reference <NoSuchDecision>"):
        check_dmn(modeler, "broken-routing-opd.dmn", url)


def test_a_form_with_a_duplicate_key_is_reported(modeler: Modeler, scratch: Path) -> None:
    """form-js refuses the schema (its importSchema never warns, it throws)."""
    schema = json.loads((MODELS / "rekap-bulanan.form").read_text(encoding="utf-8"))
    schema["components"].append({**schema["components"][-1], "id": "EvaluationNoteTwinTextarea"})
    (scratch / "broken-rekap-bulanan.form").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"form-js could not import it: .*'evaluationNote' is already claimed"):
        check_form(modeler, "broken-rekap-bulanan.form", "/scratch/broken-rekap-bulanan.form")
