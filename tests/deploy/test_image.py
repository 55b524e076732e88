"""The Dockerfile of the Python services and the runtime part of requirements.lock it installs."""

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.deploy.composefile import ROOT

RUNTIME_CODE = {"alembic.ini", "migrations/", "lapor/", "api/", "workers/", "bpmn/"}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _stages() -> list[Stage]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
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


def test_the_final_stage_runs_as_a_non_root_user_with_a_health_check() -> None:
    final = _stages()[-1]
    users = final.all("USER")
    assert users and users[-1] not in ("root", "0", "0:0")
    keywords = [kw for kw, _ in final.instructions]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw in ("COPY", "RUN"))
    assert final.all("HEALTHCHECK")


def test_the_final_stage_has_tzdata_and_only_the_code_that_runs() -> None:
    final = _stages()[-1]
    assert any("apt-get install" in run and "tzdata" in run for run in final.all("RUN"))
    assert any("Asia/Pontianak" in run for run in final.all("RUN"))
    for copy in final.all("COPY"):
        if copy.startswith("--from=builder"):
            continue
        sources = copy.split()[:-1]
        assert set(sources) <= RUNTIME_CODE, copy


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line.removeprefix("!") for line in lines if line.startswith("!")}
    copied = set()
    for stage in _stages():
        for copy in stage.all("COPY"):
            if not copy.startswith("--from="):
                copied.update(copy.split()[:-1])
    assert copied == allowed


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


# -- deploy/camunda-user.sh ------------------------------------------------------------------------------------
def test_the_user_script_parses_and_hashes_as_spring_security_expects() -> None:
    script = (ROOT / "deploy" / "camunda-user.sh").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / "deploy" / "camunda-user.sh")]).returncode == 0
    snippet = script.split("python -c '", 1)[1].split('\n\' "$1"', 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", snippet, "siti.pupr", "Siti (PUPR)", "USER"],
        input="rahasia-sekali",
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(result.stdout)
    assert document | {"password": ""} == {
        "id": "siti.pupr",
        "userId": "siti.pupr",
        "displayName": "Siti (PUPR)",
        "password": "",
        "roles": ["USER"],
    }
    prefix = "{pbkdf2@SpringSecurity_v5_8}"
    assert document["password"].startswith(prefix)
    raw = bytes.fromhex(document["password"].removeprefix(prefix))
    salt, key = raw[:16], raw[16:]
    assert key == hashlib.pbkdf2_hmac("sha256", b"rahasia-sekali", salt, 310000, 32)
