"""The two images: the Python services' (Dockerfile, with the runtime part of requirements.lock it installs) and
the engine's (engine/Dockerfile, Operaton built with Maven)."""

import importlib.util
import json
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.deploy.composefile import ROOT, dockerignore_rules, load

RUNTIME_CODE = {"alembic.ini", "migrations/", "lapor/", "api/", "workers/", "bpmn/"}
ENGINE = ROOT / "engine"
ROOT_USERS = ("root", "0", "0:0")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _stages(path: Path = ROOT / "Dockerfile") -> list[Stage]:
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
        elif keyword == "FROM":
            base, _, name = rest.partition(" AS ")
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), base.strip())
            stages.append(Stage(base, name.strip() or None, []))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return stages


def test_the_npm_runtime_dependencies_come_from_the_lock_without_scripts_or_dev_tools() -> None:
    (assets,) = [stage for stage in _stages() if stage.name == "assets"]
    assert assets.base.startswith("node:")
    assert assets.all("COPY") == ["package.json package-lock.json ./"]
    (install,) = assets.all("RUN")
    assert "npm ci" in install and "--omit=dev" in install and "--ignore-scripts" in install
    assert json.loads((ROOT / "package.json").read_text())["dependencies"] == {"leaflet": "1.9.4"}


def test_multi_stage_build_on_python_311_slim() -> None:
    stages = _stages()
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    assert stages[-1].base.startswith("python:3.11-slim")
    assert stages[0].base == stages[-1].base  # the venv's python must be the final stage's python


def test_the_builder_installs_the_lock_with_hashes() -> None:
    builder = _stages()[0]
    installs = [run for run in builder.all("RUN") if "pip install" in run]
    assert installs and all("--require-hashes" in run for run in installs)
    assert any("runtime_requirements.py requirements.lock" in run for run in builder.all("RUN"))


def _runs_as_non_root_with_a_health_check(final: Stage) -> None:
    users = final.all("USER")
    assert users and users[-1] not in ROOT_USERS
    keywords = [kw for kw, _ in final.instructions]
    last_user = max(i for i, kw in enumerate(keywords) if kw == "USER")
    assert last_user > max(i for i, kw in enumerate(keywords) if kw in ("COPY", "RUN"))
    assert final.all("HEALTHCHECK")


def test_the_final_stage_runs_as_a_non_root_user_with_a_health_check() -> None:
    _runs_as_non_root_with_a_health_check(_stages()[-1])


def test_the_default_command_is_the_api_factory_as_compose_runs_it() -> None:
    (cmd,) = _stages()[-1].all("CMD")
    assert json.loads(cmd)[:3] == ["uvicorn", "--factory", "api.main:create_app"]
    assert json.loads(cmd) == load()["services"]["api"]["command"]


def test_the_final_stage_has_tzdata_and_only_the_code_that_runs() -> None:
    final = _stages()[-1]
    assert any("apt-get install" in run and "tzdata" in run for run in final.all("RUN"))
    assert any("Asia/Pontianak" in run for run in final.all("RUN"))
    for copy in final.all("COPY"):
        if copy.startswith("--from=builder"):
            continue
        if copy.startswith("--from=assets"):  # Leaflet's dist for the citizen page's map, nothing else of npm
            assert copy.split()[1:] == ["/build/node_modules/leaflet/dist/", "node_modules/leaflet/dist/"], copy
            continue
        sources = copy.split()[:-1]
        assert set(sources) <= RUNTIME_CODE, copy


def _copied_from_the_context(stages: list[Stage]) -> set[str]:
    copied = set()
    for stage in stages:
        for copy in stage.all("COPY"):
            if not copy.startswith("--from="):
                copied.update(copy.split()[:-1])
    return copied


@pytest.mark.parametrize("context", [ROOT, ENGINE], ids=["python", "engine"])
def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies(context: Path) -> None:
    rules = dockerignore_rules(context)
    assert rules[0] == "*"
    allowed = {rule.removeprefix("!") for rule in rules if rule.startswith("!")}
    assert _copied_from_the_context(_stages(context / "Dockerfile")) == allowed


# -- the runtime part of the lock -----------------------------------------------------------------------------
def _runtime_requirements() -> Any:
    spec = importlib.util.spec_from_file_location("runtime_requirements", ROOT / "deploy" / "runtime_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runtime() -> dict[str, list[str]]:
    module = _runtime_requirements()
    entries = module.runtime_entries(module.parse((ROOT / "requirements.lock").read_text()))
    return {entry.name: entry.lines for entry in entries}


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def test_runtime_keeps_every_main_dependency_and_drops_the_dev_group(runtime: dict[str, list[str]]) -> None:
    project = _pyproject()
    main = {_name(r) for r in project["project"]["dependencies"]}  # type: ignore[index]
    dev = {_name(r) for r in project["dependency-groups"]["dev"]}  # type: ignore[index]
    assert main <= runtime.keys()
    assert not dev & runtime.keys()


def test_every_runtime_pin_keeps_its_hashes(runtime: dict[str, list[str]]) -> None:
    for name, lines in runtime.items():
        assert "==" in lines[0] and any(line.strip().startswith("--hash=sha256:") for line in lines[1:]), name


def test_runtime_is_closed_under_the_installed_packages_dependencies(runtime: dict[str, list[str]]) -> None:
    """What pip --require-hashes will ask for, read from the metadata of the packages installed from the lock."""
    project = _pyproject()
    pending = [Requirement(r) for r in project["project"]["dependencies"]]  # type: ignore[index]
    needed: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = _name(str(requirement))
        if name in needed:
            continue
        needed.add(name)
        for raw in metadata.requires(requirement.name) or []:
            dependency = Requirement(raw)
            extras = ["", *sorted(requirement.extras)]
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                pending.append(dependency)
    assert needed <= runtime.keys(), needed - runtime.keys()


def test_the_script_prints_the_runtime_pins_with_their_hashes(
    capsys: pytest.CaptureFixture[str], runtime: dict[str, list[str]]
) -> None:
    assert _runtime_requirements().main(["runtime_requirements.py", str(ROOT / "requirements.lock")]) == 0
    printed = capsys.readouterr().out.splitlines()
    pins = [line for line in printed if "==" in line and not line.startswith("#")]
    assert len(pins) == len(runtime)
    hashes = [line for line in printed if line.strip().startswith("--hash=")]
    assert len(hashes) == sum(len(lines) - 1 for lines in runtime.values())
    body = printed[1:]  # after the header line
    for line, following in zip(body, [*body[1:], ""], strict=True):
        assert line.endswith(" \\") == following.startswith("    --hash="), line  # continuations end at the last hash


# -- the engine image (engine/Dockerfile) ---------------------------------------------------------------------
def _engine_stages() -> list[Stage]:
    return _stages(ENGINE / "Dockerfile")


def _final_jar() -> str:
    pom = ET.parse(ENGINE / "pom.xml").getroot()
    final_name = pom.find("{http://maven.apache.org/POM/4.0.0}build/{http://maven.apache.org/POM/4.0.0}finalName")
    assert final_name is not None and final_name.text
    return f"{final_name.text}.jar"


def test_the_engine_is_built_with_maven_and_runs_on_a_jre() -> None:
    stages = _engine_stages()
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    assert stages[0].base == "maven:3.9-eclipse-temurin-17"
    assert stages[-1].base == "eclipse-temurin:17-jre"  # the JDK and Maven stay in the builder


def test_the_engine_dependencies_are_a_layer_of_their_own() -> None:
    """The pom alone, then `dependency:go-offline`, then the sources: a source edit does not download the world."""
    builder = _engine_stages()[0]
    steps = [f"{kw} {args}" for kw, args in builder.instructions if kw in ("COPY", "RUN")]
    go_offline = next(i for i, step in enumerate(steps) if "dependency:go-offline" in step)
    package = next(i for i, step in enumerate(steps) if "mvn -B -DskipTests package" in step)
    copies = {step.split()[1]: i for i, step in enumerate(steps) if step.startswith("COPY")}
    assert copies["pom.xml"] < go_offline < copies["src/"] < package


def test_the_engine_image_holds_only_the_jar_and_runs_as_non_root() -> None:
    final = _engine_stages()[-1]
    copies = final.all("COPY")
    assert copies and all(copy.startswith("--from=builder ") for copy in copies)
    assert [copy.split()[1] for copy in copies] == [f"/build/target/{_final_jar()}"]
    _runs_as_non_root_with_a_health_check(final)
    assert any("useradd" in run and "--system" in run for run in final.all("RUN"))


def test_the_engine_listens_on_every_interface_in_the_container_in_pontianak_time() -> None:
    final = _engine_stages()[-1]
    env = dict(item.split("=", 1) for args in final.all("ENV") for item in shlex.split(args))
    assert env["LAPOR_ENGINE_ADDRESS"] == "0.0.0.0"  # noqa: S104 - application.yaml's default, loopback, is unreachable
    assert final.all("EXPOSE") == [env["LAPOR_ENGINE_PORT"]] == ["8080"]
    (entrypoint,) = final.all("ENTRYPOINT")
    command = json.loads(entrypoint)
    assert command[0] == "java" and "-Duser.timezone=Asia/Pontianak" in command
    assert command[-2:] == ["-jar", f"/app/{_final_jar()}"]


def test_the_engine_image_health_check_needs_no_login() -> None:
    (check,) = _engine_stages()[-1].all("HEALTHCHECK")
    command = " ".join(json.loads(check.split("CMD", 1)[1]))
    assert "/operaton/app/" in command and "/engine-rest" not in command  # the REST API wants Basic auth
    assert " 200" in command
