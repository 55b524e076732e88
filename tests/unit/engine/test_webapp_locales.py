"""The webapps' Bahasa Indonesia (engine/src/main/resources/.../app/<app>/locales/id.json) against the English locale
shipped in Operaton's webapp jar: every key present (no raw keys), placeholders and markup kept, coverage floors."""

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENGINE_DIR = Path(__file__).resolve().parents[3] / "engine"
APPS_DIR = ENGINE_DIR / "src/main/resources/META-INF/resources/webjars/operaton/app"
WEBJAR_LOCALES = "META-INF/resources/webjars/operaton/app/{app}/locales/en.json"

# English words and symbols that stay as they are in Indonesian: product names, data types, loanwords of the trade.
SAME_IN_INDONESIAN = {
    *("", "s", "<", "<=", ">", ">=", "ID", "ID*", "OK", "Ok", "null", "YYYY-MM-DDTHH:mm:ss"),
    *("Admin", "Cockpit", "Tasklist", "Operaton Cockpit", "Optimize", "Diagram", "Label", "Status", "Total"),
    *("Boolean", "Double", "Integer", "Long", "Short", "String", "Filter", "Operator", "Endpoint", "Payload"),
    *("Batch", "Deployment", "Deploy", "Job", "Tenant", "Tenant: ID", "GLOBAL"),
}
# Labels in Bahasa Indonesia (or the same in both languages) per app, and the total. Raise a floor when translating
# more; a drop fails. Cockpit keeps only the file format names CSV and JSON (PLGN_REP_CSV, PLGN_REP_JSON) in English.
FLOORS = {"tasklist": 411, "welcome": 171, "admin": 574, "cockpit": 2457}
TOTALS = {"tasklist": 411, "welcome": 171, "admin": 574, "cockpit": 2459}
# Labels of this project's own scripts (app/<app>/scripts/lapor-*.js), in id.json beside Operaton's.
OWN_LABEL_PREFIX = "LAPOR_"


def operaton_version() -> str:
    match = re.search(r"<operaton.version>([^<]+)</operaton.version>", (ENGINE_DIR / "pom.xml").read_text())
    assert match, "engine/pom.xml names no operaton.version"
    return match.group(1)


def webjar() -> zipfile.ZipFile:
    """Operaton's webapp jar from Maven's local repository, or from inside the built engine jar."""
    version = operaton_version()
    name = f"operaton-webapp-webjar-{version}.jar"
    in_m2 = Path.home() / ".m2/repository/org/operaton/bpm/webapp/operaton-webapp-webjar" / version / name
    if in_m2.exists():
        return zipfile.ZipFile(in_m2)
    engine_jar = ENGINE_DIR / "target" / "lapor-engine.jar"
    if engine_jar.exists():
        with zipfile.ZipFile(engine_jar) as outer:
            return zipfile.ZipFile(io.BytesIO(outer.read(f"BOOT-INF/lib/{name}")))
    pytest.fail(f"{name} not found: build the engine first (.venv/bin/python -m engine build)", pytrace=False)


@pytest.fixture(scope="module")
def english() -> Iterator[dict[str, dict[str, str]]]:
    with webjar() as jar:
        yield {
            app: json.loads(jar.read(WEBJAR_LOCALES.format(app=app)).decode("utf-8-sig"))["labels"] for app in TOTALS
        }


def indonesian(app: str) -> dict[str, str]:
    labels: dict[str, str] = json.loads((APPS_DIR / app / "locales" / "id.json").read_text("utf-8"))["labels"]
    return labels


def untranslated(english: dict[str, str], labels: dict[str, str]) -> list[str]:
    return [key for key, text in english.items() if labels[key] == text and text.strip() not in SAME_IN_INDONESIAN]


@pytest.mark.parametrize("app", sorted(TOTALS))
def test_every_english_key_has_an_indonesian_label(app: str, english: dict[str, dict[str, str]]) -> None:
    """A key missing from id.json would show raw (angular-translate), since config.js offers `id` only."""
    labels = indonesian(app)
    assert sorted(set(english[app]) - set(labels)) == []
    # A stale key means the jar changed: translate the new ones. Only the project's own labels are extra.
    assert sorted(key for key in set(labels) - set(english[app]) if not key.startswith(OWN_LABEL_PREFIX)) == []
    assert len(english[app]) == TOTALS[app]
    config = (APPS_DIR / app / "scripts" / "config.js").read_text()
    assert "availableLocales: ['id'], fallbackLocale: 'id'" in config


@pytest.mark.parametrize("app", sorted(TOTALS))
def test_translations_keep_placeholders_and_markup(app: str, english: dict[str, dict[str, str]]) -> None:
    labels = indonesian(app)

    def shape(text: str) -> tuple[list[str], list[str]]:
        return sorted(re.findall(r"\{\{[^}]*\}\}", text)), sorted(
            re.findall(r"</?(?:a|b|i|em|strong|br|p|span|div|code|ul|li)\b", text)
        )

    broken = [key for key, text in english[app].items() if shape(labels[key]) != shape(text)]
    assert broken == []


@pytest.mark.parametrize("app", sorted(TOTALS))
def test_translation_coverage_stays_above_its_floor(app: str, english: dict[str, dict[str, str]]) -> None:
    left = untranslated(english[app], indonesian(app))
    translated = TOTALS[app] - len(left)
    assert translated >= FLOORS[app], f"{app}: {translated}/{TOTALS[app]} in Bahasa Indonesia; still English: {left}"
    if FLOORS[app] == TOTALS[app]:
        assert left == []


def test_supervisors_daily_cockpit_views_are_translated(english: dict[str, dict[str, str]]) -> None:
    """Dashboard, processes, definition and instance views, incidents, jobs, decisions, deployments, batches."""
    out_of_scope = ("PLGN_CS_", "PLGN_MIG_", "PLGN_MOD_", "PLGN_CLUP_", "PLGN_REP_", "REPORTS_")
    left = untranslated(english["cockpit"], indonesian("cockpit"))
    assert [key for key in left if not key.startswith(out_of_scope)] == []


@pytest.mark.parametrize("app", sorted(TOTALS))
def test_the_projects_own_labels_are_used_by_its_scripts(app: str, english: dict[str, dict[str, str]]) -> None:
    """A LAPOR_ label is never one of Operaton's keys, and some script of the app (or app/lapor/) asks for it."""
    own = [key for key in indonesian(app) if key.startswith(OWN_LABEL_PREFIX)]
    assert [key for key in own if key in english[app]] == []
    scripts = [*(APPS_DIR / app / "scripts").glob("*.js"), *(APPS_DIR / "lapor").glob("*.js")]
    code = "".join(path.read_text() for path in scripts)
    assert [key for key in own if f"'{key}'" not in code] == []


def test_the_claim_hint_names_the_claim_button_as_tasklist_shows_it() -> None:
    labels = indonesian("tasklist")
    assert f"“{labels['CLAIM_TASK']}”" in labels["LAPOR_CLAIM_TO_FILL"]
    assert labels["LAPOR_SEARCH_TRACKING_ID"] == "Nomor laporan"
