"""docker-compose.yml: validated by Compose when a client is installed, and checked for what the city relies on."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lapor.settings import Settings
from tests.deploy.composefile import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    MissingVariableError,
    build_context,
    dockerfile,
    dockerignore_rules,
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
SERVICES = {"engine-db", "engine-1", "engine-2", "db", "migrate", "api", "workers", "proxy", "mailpit"}
ENGINE_NODES = ("engine-1", "engine-2")
PYTHON_SERVICES = ("migrate", "api", "workers")
CONFIG_FILES = {"./deploy/Caddyfile"}  # read-only files from the checkout; all state is in named volumes
ONE_SHOT_JOBS = {"migrate"}
# What the project left behind when it moved to Operaton: none of it may come back into the stack. (The brackets
# keep these words out of `git grep` for the old stack.)
GONE = re.compile(r"z[e]ebe|c[a]munda|o[p]ensearch|e[l]asticsearch|g[r]pc|26500", re.IGNORECASE)
ENGINE_YAML = ROOT / "engine" / "src" / "main" / "resources" / "application.yaml"
# Engine logins: the administrator only for the migrate job, a service account of its own for each other service.
ENGINE_LOGINS = {
    "migrate": ("${LAPOR_ENGINE_ADMIN_USER:-lapor-admin}", "LAPOR_ENGINE_ADMIN_PASSWORD"),
    "api": ("svc-api", "LAPOR_API_ENGINE_PASSWORD"),
    "workers": ("svc-workers", "LAPOR_WORKER_ENGINE_PASSWORD"),
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


def _referenced(value: str) -> set[str]:
    return {ref.name for ref in references(value)}


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
        [*cli, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "--profile", "staging", "config", "-q"],
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


def test_the_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


def test_nothing_of_camunda_8_is_left(compose: dict[str, Any]) -> None:
    """No image, service, variable or port of the old engine and its search store; not even in a comment."""
    for name, service in compose["services"].items():
        assert not GONE.search(name), name
        assert not GONE.search(service.get("image", "")), f"{name}: {service.get('image')}"
    for text in strings(compose):
        assert not GONE.search(text), text
    assert not GONE.search(COMPOSE_FILE.read_text())
    assert not [key for key in example_env() if GONE.search(key)]
    assert not GONE.search(ENV_EXAMPLE.read_text())


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


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    healthy = {"condition": "service_healthy"}
    assert services["engine-1"]["depends_on"] == {"engine-db": healthy}
    # The second node waits for the first, which creates the schema of an empty database alone.
    assert services["engine-2"]["depends_on"] == {"engine-db": healthy, "engine-1": healthy}
    assert services["migrate"]["depends_on"] == {"db": healthy, "engine-1": healthy, "engine-2": healthy}
    assert services["proxy"]["depends_on"] == {"api": healthy}
    for name in ("api", "workers"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["migrate"]["command"][-1] == "python -m lapor.migrate && python -m lapor.deploy"


def test_state_lives_in_named_volumes(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source in CONFIG_FILES:
                assert volume.endswith(":ro") and (ROOT / source).is_file(), f"{name}: {volume}"
                continue
            assert not source.startswith((".", "/")), f"{name}: bind mount {source}"
            assert source in declared, f"{name}: volume {source} is not declared"
            used.add(source)
    assert used == declared
    for name in ("db", "engine-db"):
        assert [v.split(":")[1] for v in services[name]["volumes"]] == ["/var/lib/postgresql/data"], name
    assert services["db"]["volumes"] != services["engine-db"]["volumes"]


def test_storage_and_engine_sit_on_internal_networks(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    networks = compose["networks"]
    for internal in ("engine", "engine-data", "data"):
        assert networks[internal] == {"internal": True}, internal
    assert services["db"]["networks"] == ["data"]
    assert services["engine-db"]["networks"] == ["engine-data"]
    # The nodes' other network publishes engine-1's web port on loopback and lets the proxy reach Tasklist.
    for node in ENGINE_NODES:
        assert set(services[node]["networks"]) == {"engine", "engine-data", "engine-web"}, node
    assert [name for name, s in services.items() if "engine-web" in s.get("networks", [])] == [*ENGINE_NODES, "proxy"]
    # Only the engine reaches its database; the Python services reach the engine's REST API and their own database.
    on_engine_data = [name for name, s in services.items() if "engine-data" in s.get("networks", [])]
    assert on_engine_data == ["engine-db", *ENGINE_NODES]
    for name in PYTHON_SERVICES:
        assert {"engine", "data"} <= set(services[name]["networks"]), name
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


def test_the_engine_and_database_secrets_are_required(services: dict[str, dict[str, Any]]) -> None:
    """`${VAR:?}` on every password the stack cannot run without: the two databases and the engine logins."""
    required = {
        ("db", "POSTGRES_PASSWORD"),
        ("engine-db", "POSTGRES_PASSWORD"),
        *((node, "LAPOR_ENGINE_DB_PASSWORD") for node in ENGINE_NODES),
        *((node, "LAPOR_ENGINE_ADMIN_PASSWORD") for node in ENGINE_NODES),
        *((name, "LAPOR_ENGINE_PASSWORD") for name in PYTHON_SERVICES),
        ("migrate", "LAPOR_WORKER_ENGINE_PASSWORD"),
        ("migrate", "LAPOR_API_ENGINE_PASSWORD"),
    }
    for name, key in required:
        refs = list(references(environment(services[name])[key]))
        assert len(refs) == 1 and refs[0].op == ":?", f"{name}: {key}"
    # Both databases' passwords are distinct variables, so one leaked password does not open the other database.
    assert _referenced(environment(services["engine-db"])["POSTGRES_PASSWORD"]) == {"LAPOR_ENGINE_DB_PASSWORD"}
    assert _referenced(environment(services["db"])["POSTGRES_PASSWORD"]) == {"POSTGRES_PASSWORD"}


def test_env_example_names_every_variable_and_holds_no_secret() -> None:
    example = example_env()
    for ref in references(load()):
        assert ref.name in example or ref.name in ("LAPOR_IMAGE", "LAPOR_ENGINE_IMAGE"), (
            f"{ref.name} is missing from .env.example"
        )
    for key, value in example.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example must leave {key} empty"


def test_the_example_alone_does_not_start_the_stack() -> None:
    with pytest.raises(MissingVariableError):
        for text in strings(load()):
            interpolate(text, example_env())


def test_env_stays_out_of_git_and_the_images(services: dict[str, dict[str, Any]]) -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    contexts = {build_context(service) for service in services.values() if "build" in service}
    assert contexts == {ROOT, ROOT / "engine"}
    for context in contexts:
        rules = dockerignore_rules(context)
        assert rules[0] == "*", context  # an allow-list: nothing gets in unless named
        assert not any(".env" in rule for rule in rules if rule.startswith("!")), context


# -- the engine ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("node", ENGINE_NODES)
def test_the_engine_is_built_from_engine_dockerfile(services: dict[str, dict[str, Any]], node: str) -> None:
    engine = services[node]
    assert dockerfile(engine) == ROOT / "engine" / "Dockerfile"
    assert dockerfile(engine).is_file()
    assert (build_context(engine) / "pom.xml").is_file()
    assert ONLY_A_REFERENCE.match(engine["image"])  # a local tag, or a prebuilt image from .env


@pytest.mark.parametrize("node", ENGINE_NODES)
def test_the_engine_settings_are_the_ones_application_yaml_reads(
    services: dict[str, dict[str, Any]], node: str
) -> None:
    read = set(re.findall(r"\$\{(LAPOR_[A-Z_]+)", ENGINE_YAML.read_text()))
    java = (
        ENGINE_YAML.parents[1] / "java" / "id" / "go" / "pontianak" / "lapor" / "engine" / "LaporEngineApplication.java"
    )
    read |= set(re.findall(r'"(LAPOR_[A-Z_]+)"', java.read_text()))  # the application class reads a few itself
    env = environment(services[node])
    assert {key for key in env if key.startswith("LAPOR_")} <= read
    assert env["LAPOR_ENVIRONMENT"] == "production"  # so the engine refuses the default admin password
    assert {"LAPOR_ENGINE_DB_URL", "LAPOR_ENGINE_DB_PASSWORD", "LAPOR_ENGINE_ADMIN_PASSWORD"} <= env.keys()
    assert env["LAPOR_ENGINE_ADDRESS"] == "0.0.0.0"  # noqa: S104 - inside the container; published on loopback only
    database = environment(services["engine-db"])
    url = f"jdbc:postgresql://engine-db:5432/{database['POSTGRES_DB']}"
    assert env["LAPOR_ENGINE_DB_URL"] == url
    assert env["LAPOR_ENGINE_DB_USER"] == database["POSTGRES_USER"]
    assert env["LAPOR_ENGINE_DB_PASSWORD"] == database["POSTGRES_PASSWORD"]
    # Tasklist's content security policy admits the proof photo from the API's address: the same on both sides.
    assert env["LAPOR_PUBLIC_BASE_URL"] == environment(services["api"])["LAPOR_PUBLIC_BASE_URL"]


def test_two_engine_nodes_share_one_database_under_their_own_names(services: dict[str, dict[str, Any]]) -> None:
    first, second = (environment(services[node]) for node in ENGINE_NODES)
    assert first["LAPOR_ENGINE_NODE"] != second["LAPOR_ENGINE_NODE"]
    assert {key: value for key, value in first.items() if key != "LAPOR_ENGINE_NODE"} == {
        key: value for key, value in second.items() if key != "LAPOR_ENGINE_NODE"
    }
    # A node that loses an acquisition race backs off; a dead node's jobs run elsewhere within minutes.
    assert first["LAPOR_ENGINE_JOB_BACKOFF"] and first["LAPOR_ENGINE_JOB_LOCK_TIME"]
    # Both answer to `engine` on the engine network, the name in LAPOR_ENGINE_URL.
    for node in ENGINE_NODES:
        assert services[node]["networks"]["engine"] == {"aliases": ["engine"]}, node


@pytest.mark.parametrize("node", ENGINE_NODES)
def test_the_engine_health_check_needs_no_login(services: dict[str, dict[str, Any]], node: str) -> None:
    """The REST API refuses calls without Basic auth; the check asks a webapp page on the port the engine uses."""
    command = " ".join(services[node]["healthcheck"]["test"][1:])
    port = environment(services[node])["LAPOR_ENGINE_PORT"]
    assert f"/dev/tcp/127.0.0.1/{port}" in command
    assert "/operaton/app/" in command and "/engine-rest" not in command
    assert " 200" in command


@pytest.mark.parametrize("env", [{}, example_env()], ids=["defaults", "env-example"])
def test_only_the_proxy_is_published_beyond_loopback(services: dict[str, dict[str, Any]], env: dict[str, str]) -> None:
    for name, service in services.items():
        if name == "proxy":
            continue
        for port in published_ports(service, env):
            assert port.host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    assert sorted(port.container_port for port in published_ports(services["proxy"], env)) == [80, 443]
    engine_port = int(environment(services["engine-1"])["LAPOR_ENGINE_PORT"])
    assert [port.container_port for port in published_ports(services["engine-1"], env)] == [engine_port]
    for name in ("db", "engine-db", "engine-2", "migrate", "api", "workers"):
        assert "ports" not in services[name], name


def test_the_engine_port_is_published_on_loopback_literally(services: dict[str, dict[str, Any]]) -> None:
    """No variable can move the engine's web port off 127.0.0.1: the address is written out, not interpolated."""
    (port,) = services["engine-1"]["ports"]
    assert str(port).startswith("127.0.0.1:")


# -- the proxy ---------------------------------------------------------------------------------------------------
CADDYFILE = ROOT / "deploy" / "Caddyfile"


def test_the_proxy_caps_bodies_terminates_tls_and_spreads_over_the_replicas(
    services: dict[str, dict[str, Any]],
) -> None:
    proxy = services["proxy"]
    assert re.match(r"^caddy:\d", proxy["image"])  # the official image, pinned to a release line
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = CADDYFILE.read_text()
    env = environment(proxy)
    # The body cap: above the API's own limit (so its 413 explains itself), far below what would hurt.
    cap = re.fullmatch(r"(\d+)MB", env["LAPOR_PROXY_MAX_BODY"])
    assert cap and Settings().max_body_bytes < int(cap[1]) * 1_000_000 <= 64 * 1_000_000
    assert "max_size {$LAPOR_PROXY_MAX_BODY}" in caddyfile
    # TLS: automatic certificates for the two public names (Caddy serves HTTPS for a named site by default).
    assert "{$LAPOR_PUBLIC_HOST} {" in caddyfile and "{$LAPOR_STAFF_HOST} {" in caddyfile
    assert "http://" not in caddyfile.split("{$LAPOR_PUBLIC_HOST}")[0].split("email")[0]
    # Every API replica behind it, and both engine nodes for Tasklist with a sticky cookie.
    assert services["api"]["deploy"]["replicas"] == 2 and services["workers"]["deploy"]["replicas"] == 2
    assert "dynamic a api 8000" in caddyfile
    assert "engine-1:8080 engine-2:8080" in caddyfile and "lb_policy cookie" in caddyfile


def test_the_api_believes_forwarded_addresses_from_the_proxys_network_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    (subnet,) = [entry["subnet"] for entry in compose["networks"]["edge"]["ipam"]["config"]]
    assert environment(services["api"])["LAPOR_TRUSTED_PROXIES"] == subnet
    on_edge = sorted(name for name, s in services.items() if "edge" in s.get("networks", []))
    assert on_edge == ["api", "proxy"]
    assert "trusted_proxies" not in CADDYFILE.read_text()  # nobody in front of the proxy is believed


# -- the Python services -----------------------------------------------------------------------------------------
def test_python_services_share_one_image_and_the_lapor_settings(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    first = services[PYTHON_SERVICES[0]]
    assert dockerfile(first) == ROOT / "Dockerfile"
    fields = set(Settings.model_fields)
    for name in PYTHON_SERVICES:
        service = services[name]
        assert service["image"] == first["image"] and service["build"] == first["build"], name
        env = environment(service)
        assert env and all(key.startswith("LAPOR_") for key in env), name
        unknown = {key for key in env if key.removeprefix("LAPOR_").lower() not in fields}
        assert not unknown, f"{name}: {unknown} are not settings of lapor/settings.py"
    shared = {key: str(value) for key, value in compose["x-lapor-env"].items()}
    for name in PYTHON_SERVICES:
        assert shared.items() <= environment(services[name]).items(), name
    assert "LAPOR_ENGINE_USER" not in shared and "LAPOR_ENGINE_PASSWORD" not in shared


def test_python_services_reach_the_engine_rest_api(services: dict[str, dict[str, Any]]) -> None:
    port = environment(services["engine-1"])["LAPOR_ENGINE_PORT"]
    path = yaml.safe_load(ENGINE_YAML.read_text())["spring"]["jersey"]["application-path"]
    for name in PYTHON_SERVICES:
        assert environment(services[name])["LAPOR_ENGINE_URL"] == f"http://engine:{port}{path}", name


def test_each_python_service_logs_in_with_its_own_engine_account(services: dict[str, dict[str, Any]]) -> None:
    for name, (user, password_variable) in ENGINE_LOGINS.items():
        env = environment(services[name])
        assert env["LAPOR_ENGINE_USER"] == user, name
        assert _referenced(env["LAPOR_ENGINE_PASSWORD"]) == {password_variable}, name
    # The administrator's password reaches only the engine and the migrate job; a service password only its
    # service and the migrate job, which provisions the accounts.
    holders: dict[str, set[str]] = {}
    for name, service in services.items():
        for variable in _referenced(" ".join(environment(service).values())):
            holders.setdefault(variable, set()).add(name)
    assert holders["LAPOR_ENGINE_ADMIN_PASSWORD"] == {*ENGINE_NODES, "migrate"}
    assert holders["LAPOR_WORKER_ENGINE_PASSWORD"] == {"workers", "migrate"}
    assert holders["LAPOR_API_ENGINE_PASSWORD"] == {"api", "migrate"}
    assert holders["LAPOR_ENGINE_DB_PASSWORD"] == {*ENGINE_NODES, "engine-db"}


def test_the_api_runs_the_app_factory(services: dict[str, dict[str, Any]]) -> None:
    command = services["api"]["command"]
    assert command[:3] == ["uvicorn", "--factory", "api.main:create_app"]
