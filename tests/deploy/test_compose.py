"""docker-compose.yml: validated by Compose when a client is installed, and checked for what the city relies on."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.fetch import CAMUNDA_VERSION
from engine.launcher import LocalEngine
from lapor.settings import Settings
from tests.deploy.composefile import (
    ROOT,
    MissingVariableError,
    environment,
    example_env,
    interpolate,
    load,
    published_ports,
    references,
    strings,
)

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEYS?($|_)", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/:@\s]+:(?P<password>[^@\s]+)@")
ONLY_A_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$")
PYTHON_SERVICES = ("migrate", "api", "workers")
ONE_SHOT_JOBS = {"migrate", "disable-demo-users"}
# Zeebe gRPC, command and internal APIs, REST API / web apps, management, OpenSearch.
ENGINE_PORTS = {26500, 26501, 26502, 8080, 9600, 9200, 9300}
NEVER_PUBLISHED = {26500, 26501, 26502, 9600, 9200, 9300}
# Read with getattr (workers/health.py, api/deps.py, lapor/files.py) until lapor/settings.py declares them.
PENDING_SETTINGS = {
    "worker_health_host",
    "worker_health_port",
    "worker_stall_seconds",
    "file_signing_key",
    "staff_api_tokens",
    "national_api_tokens",
    "sms_webhook_secret",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _required_variables() -> dict[str, str]:
    return {ref.name: f"test-{ref.name.lower()}" for ref in references(load()) if ref.required}


# -- Compose itself ------------------------------------------------------------------------------------------------
def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")  # Debian's docker-compose 1.29 validates offline too
    return [legacy] if legacy else None


def _run_config(tmp_path: Path, values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cli = _compose_cli()
    if cli is None:
        if os.environ.get("CI") == "true":  # .ci/run installs Debian's docker-compose: CI always validates
            pytest.fail("no Docker Compose client in CI", pytrace=False)
        pytest.skip("no Docker Compose client (docker compose or docker-compose); the structural checks still run")
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    clean_env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}  # no secrets leak in
    return subprocess.run(
        [*cli, "--env-file", str(env_file), "--profile", "staging", "config", "-q"],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_validates_the_file(tmp_path: Path) -> None:
    result = _run_config(tmp_path, _required_variables())
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    result = _run_config(tmp_path, {})
    assert result.returncode != 0
    assert "in .env" in result.stderr  # the `${VAR:?set VAR in .env}` message


# -- structure ---------------------------------------------------------------------------------------------------
def test_only_known_top_level_keys(compose: dict[str, Any]) -> None:
    unknown = {key for key in compose if not key.startswith("x-")} - {"services", "networks", "volumes"}
    assert not unknown


def test_every_service_has_a_health_check(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if name in ONE_SHOT_JOBS:
            # It exits when done; a health check would only report "unhealthy" while it migrates.
            assert check == {"disable": True}, name
            continue
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries", "start_period"} <= check.keys(), name


def test_restart_policies(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        expected = "on-failure" if name in ONE_SHOT_JOBS else "unless-stopped"
        assert service.get("restart") == expected, name


def test_api_and_workers_start_after_a_successful_migration(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "workers"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "camunda": {"condition": "service_healthy"},
        "disable-demo-users": {"condition": "service_completed_successfully"},
    }
    assert services["disable-demo-users"]["depends_on"] == {"camunda": {"condition": "service_healthy"}}
    assert services["camunda"]["depends_on"] == {"opensearch": {"condition": "service_healthy"}}
    assert services["migrate"]["command"][-1] == "python -m lapor.migrate && python -m lapor.deploy"


def test_state_lives_in_named_volumes(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert used == declared
    for name in ("postgres", "opensearch", "camunda"):
        assert any(not v.startswith((".", "/")) for v in services[name]["volumes"]), name


def test_storage_and_engine_sit_on_internal_networks(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    networks = compose["networks"]
    assert networks["engine"] == {"internal": True}
    assert networks["data"] == {"internal": True}
    assert services["postgres"]["networks"] == ["data"]
    assert services["opensearch"]["networks"] == ["engine"]
    # The engine's only other network exists to publish its web port on loopback; nothing else joins it.
    assert set(services["camunda"]["networks"]) == {"engine", "camunda-web"}
    assert [name for name, s in services.items() if "camunda-web" in s.get("networks", [])] == ["camunda"]
    for name, service in services.items():
        assert set(service.get("networks", ["default"])) <= set(networks), name


def test_mailpit_runs_only_in_staging(services: dict[str, dict[str, Any]]) -> None:
    profiled = {name: service["profiles"] for name, service in services.items() if "profiles" in service}
    assert profiled == {"mailpit": ["staging"]}


# -- secrets -----------------------------------------------------------------------------------------------------
def test_no_secret_is_hard_coded(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert ONLY_A_REFERENCE.match(value), f"{name}: {key} must come from .env, not {value!r}"
            url_password = URL_PASSWORD.search(value)
            if url_password:
                assert ONLY_A_REFERENCE.match(url_password["password"]), f"{name}: {key} has a password in its URL"
    for anchor, values in compose.items():
        if anchor.startswith("x-") and isinstance(values, dict):
            for key, value in values.items():
                if SECRET_NAME.search(key) and isinstance(value, str):
                    assert ONLY_A_REFERENCE.match(value), f"{anchor}: {key}"


def test_secret_references_are_required_or_empty_by_default() -> None:
    for ref in references(load()):
        if SECRET_NAME.search(ref.name):
            assert ref.required or ref.arg == "", f"${{{ref.name}}} defaults to a value: {ref.arg!r}"


def test_env_example_names_every_variable_and_holds_no_secret() -> None:
    example = example_env()
    for ref in references(load()):
        assert ref.name in example or ref.name == "LAPOR_IMAGE", f"{ref.name} is missing from .env.example"
    for key, value in example.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example must leave {key} empty"


def test_the_example_alone_does_not_start_the_stack() -> None:
    with pytest.raises(MissingVariableError):
        for text in strings(load()):
            interpolate(text, example_env())


def test_env_stays_out_of_git_and_the_image() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    allowed = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    assert (ROOT / ".dockerignore").read_text().splitlines()[1] == "*"
    assert not any(".env" in line for line in allowed)


# -- the engine --------------------------------------------------------------------------------------------------
def test_the_camunda_image_is_the_version_the_local_engine_runs(services: dict[str, dict[str, Any]]) -> None:
    assert services["camunda"]["image"] == f"camunda/camunda:{CAMUNDA_VERSION}"


@pytest.mark.parametrize("env", [{}, example_env()], ids=["defaults", "env-example"])
def test_no_engine_port_is_published_beyond_loopback(services: dict[str, dict[str, Any]], env: dict[str, str]) -> None:
    for name, service in services.items():
        for port in published_ports(service, env):
            assert port.host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            if name in ("camunda", "opensearch"):
                assert port.container_port in ENGINE_PORTS - NEVER_PUBLISHED, f"{name} publishes {port}"
    assert "ports" not in services["opensearch"]


def test_camunda_config_matches_the_local_engine(tmp_path: Path) -> None:
    compose_config = yaml.safe_load((ROOT / "deploy" / "camunda" / "application.yaml").read_text())
    local = LocalEngine(data_dir=tmp_path).camunda_config()
    local_broker: Any = local["zeebe"]
    local_camunda: Any = local["camunda"]
    exporter = compose_config["zeebe"]["broker"]["exporters"]["opensearch"]
    local_exporter = local_broker["broker"]["exporters"]["opensearch"]
    assert exporter["className"] == local_exporter["className"]
    assert exporter["args"]["index"] == local_exporter["args"]["index"]
    assert compose_config["camunda"]["database"]["type"] == local_camunda["database"]["type"]
    assert compose_config["camunda"]["rest"] == local_camunda["rest"]
    for app in ("operate", "tasklist"):
        ours, theirs = compose_config["camunda"][app], local_camunda[app]
        assert ours["database"] == theirs["database"]
        assert ours["csrfPreventionEnabled"] == theirs["csrfPreventionEnabled"]
        assert ours["zeebeOpensearch"]["prefix"] == theirs["zeebeOpensearch"]["prefix"]
    assert not [key for key in _keys(compose_config) if re.search("password|userid", key, re.IGNORECASE)]


def _keys(tree: Any) -> list[str]:
    if not isinstance(tree, dict):
        return []
    return [key for key, value in tree.items() for key in (key, *_keys(value))]


def test_the_users_operate_86_adds_on_its_own_are_disabled(services: dict[str, dict[str, Any]]) -> None:
    job = services["disable-demo-users"]
    body = json.loads(job["entrypoint"][job["entrypoint"].index("-d") + 1])
    assert body["query"] == {"terms": {"userId": ["view", "act"]}}
    assert "{bcrypt}disabled" in body["script"]["source"]  # not a bcrypt hash: no password matches it
    assert example_env()["CAMUNDA_ADMIN_USER"] not in {"view", "act", "demo"}


# -- the Python services -----------------------------------------------------------------------------------------
def test_python_services_share_one_image_and_the_lapor_settings(services: dict[str, dict[str, Any]]) -> None:
    first = services[PYTHON_SERVICES[0]]
    fields = set(Settings.model_fields) | PENDING_SETTINGS
    for name in PYTHON_SERVICES:
        service = services[name]
        assert service["image"] == first["image"] and service["build"] == first["build"], name
        env = environment(service)
        assert env and all(key.startswith("LAPOR_") for key in env), name
        unknown = {key for key in env if key.removeprefix("LAPOR_").lower() not in fields}
        assert not unknown, f"{name}: {unknown} are not settings of lapor/settings.py"
    shared = environment(first)
    for name in PYTHON_SERVICES:
        assert shared.items() <= environment(services[name]).items(), name
