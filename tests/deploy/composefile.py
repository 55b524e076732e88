"""Reading docker-compose.yml the way Compose does, for checks that need no Docker engine."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what Compose publishes on when a port names no host address
_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@dataclass(frozen=True)
class Reference:
    name: str
    op: str | None  # None, ":-", "-", ":?", "?"
    arg: str

    @property
    def required(self) -> bool:
        return self.op in (":?", "?")


class MissingVariableError(KeyError):
    pass


def load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def strings(tree: Any) -> Iterator[str]:
    """Every string value of the parsed file: what Compose interpolates (comments are not)."""
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from strings(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from strings(value)


def references(tree: Any) -> Iterator[Reference]:
    for text in strings(tree):
        for match in _REFERENCE.finditer(text):
            yield Reference(match["name"], match["op"], match["arg"] or "")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise MissingVariableError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        if op == "-" and current is None:
            return arg
        return current or ""

    return _REFERENCE.sub(substitute, value).replace("$$", "$")


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (Compose accepts a mapping or a list of KEY=VALUE)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


@dataclass(frozen=True)
class PublishedPort:
    host_ip: str
    host_port: str
    container_port: int


def published_ports(service: Mapping[str, Any], env: Mapping[str, str]) -> list[PublishedPort]:
    """Ports after interpolation; a port without a host address is published on every interface (0.0.0.0)."""
    published = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            host_ip = interpolate(str(port.get("host_ip", EVERY_INTERFACE)), env)
            published.append(PublishedPort(host_ip, str(port.get("published", "")), int(port["target"])))
            continue
        parts = interpolate(str(port), env).split("/")[0].rsplit(":", 2)
        if len(parts) == 3:
            host_ip, host_port, target = parts
        elif len(parts) == 2:
            host_ip, (host_port, target) = EVERY_INTERFACE, parts
        else:
            host_ip, host_port, target = EVERY_INTERFACE, "", parts[0]
        published.append(PublishedPort(host_ip.strip("[]"), host_port, int(target)))
    return published


def build_context(service: Mapping[str, Any]) -> Path:
    """The directory a service is built from (`build: <dir>` or `build: {context: <dir>}`)."""
    build = service["build"]
    return (ROOT / (build if isinstance(build, str) else build.get("context", "."))).resolve()


def dockerfile(service: Mapping[str, Any]) -> Path:
    """The Dockerfile a service is built from; Compose resolves it against the build context."""
    build = service["build"]
    name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    return (build_context(service) / name).resolve()


def dockerignore_rules(context: Path) -> list[str]:
    """The rules of a build context's .dockerignore, without comments and blank lines."""
    lines = (context / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def example_env() -> dict[str, str]:
    """.env.example as Compose reads a .env file: KEY=VALUE lines, comments and blank lines skipped."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values
