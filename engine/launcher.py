"""Starts and stops the local orchestration cluster: OpenSearch, then Zeebe, Operate, Tasklist, REST API."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import structlog

from engine.errors import EngineError
from engine.fetch import EngineDistribution, fetch
from engine.java import JavaRuntime, find_java

log = structlog.get_logger(__name__)

CAMUNDA_USER = "demo"  # the default user Camunda 8.6 creates for Operate, Tasklist and the REST API
CAMUNDA_PASSWORD = "demo"  # noqa: S105 - public default of a local, loopback-only cluster


@dataclass(frozen=True)
class EnginePorts:
    rest: int = 8080  # REST API, Operate and Tasklist
    grpc: int = 26500
    management: int = 9600
    command: int = 26501
    internal: int = 26502
    opensearch: int = 9200

    @classmethod
    def for_tests(cls, shift: int | None = None) -> "EnginePorts":
        """Other ports than the local stack's, so tests run beside it; LAPOR_TEST_PORT_SHIFT (0-40) moves them
        again for a second suite running at the same time (the OpenSearch runner only binds 92xx)."""
        s = int(os.environ.get("LAPOR_TEST_PORT_SHIFT", "0")) if shift is None else shift
        if not 0 <= s <= 40:
            raise EngineError("LAPOR_TEST_PORT_SHIFT must be between 0 and 40")
        return cls(18080 + s, 36500 + s, 19600 + s, 36501 + s, 36502 + s, 9250 + s)

    def described(self) -> dict[int, str]:
        return {
            self.rest: "REST API, Operate and Tasklist",
            self.grpc: "Zeebe gRPC gateway",
            self.management: "engine health/management",
            self.command: "Zeebe command API",
            self.internal: "Zeebe internal API",
            self.opensearch: "OpenSearch",
        }


@dataclass
class LocalEngine:
    """One local cluster. `test_mode` pins nothing but enables the controllable engine clock."""

    data_dir: Path
    ports: EnginePorts = field(default_factory=EnginePorts)
    test_mode: bool = False
    heap: str = "2g"
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, init=False, repr=False)

    # -- addresses ----------------------------------------------------------------------------------------
    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rest}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.ports.grpc}"

    @property
    def cluster_name(self) -> str:
        """Unique per data dir, so the launcher never mistakes another OpenSearch on the same port for its own."""
        return "lapor-" + hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:10]  # noqa: S324

    @property
    def opensearch_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.opensearch}"

    def addresses(self) -> dict[str, str]:
        return {
            "Operate": f"{self.rest_url}/operate (login {CAMUNDA_USER}/{CAMUNDA_PASSWORD})",
            "Tasklist": f"{self.rest_url}/tasklist (login {CAMUNDA_USER}/{CAMUNDA_PASSWORD})",
            "REST API": f"{self.rest_url}/v2",
            "gRPC": self.grpc_address,
            "OpenSearch": self.opensearch_url,
        }

    # -- lifecycle ----------------------------------------------------------------------------------------
    def __enter__(self) -> "LocalEngine":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, *, timeout: float = 300.0, distribution: EngineDistribution | None = None) -> None:
        """Fetch if needed, start both processes, return once the cluster answers; EngineError if not."""
        dist = distribution or fetch()
        java = find_java(minimum=21, purpose=f"Camunda {dist.camunda_home.name} and OpenSearch")
        self._check_ports_free()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        try:
            self._start_opensearch(dist, java)
            self._wait(self._opensearch_ready, "OpenSearch", "opensearch.log", deadline)
            self._start_camunda(dist, java)
            self._wait(self._camunda_ready, "Camunda", "camunda.log", deadline)
        except BaseException:
            self.stop()
            raise
        log.info("engine.ready", **self.addresses())

    def stop(self) -> None:
        """Stop Camunda first (it flushes to OpenSearch), then OpenSearch; nothing is left running."""
        for name in ("camunda", "opensearch"):
            proc = self._procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            log.info("engine.stopped", component=name)

    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs.values())

    # -- internals ----------------------------------------------------------------------------------------
    def _check_ports_free(self) -> None:
        for port, what in self.ports.described().items():
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    raise EngineError(
                        f"Port {port} ({what}) is already in use. Stop whatever holds it "
                        f"(`ss -ltnp 'sport = :{port}'` shows it), or a local engine that is still running."
                    ) from None

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> None:
        logfile = (self.data_dir / "logs" / f"{name}.log").open("ab")
        self._procs[name] = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
        )
        logfile.close()

    def _start_opensearch(self, dist: EngineDistribution, java: JavaRuntime) -> None:
        base = self.data_dir / "opensearch"
        # The runner binds HTTP to the first free port above -baseHttpPort.
        cmd = [
            str(java.java), "-Xms512m", "-Xmx1g", "-cp", f"{dist.opensearch_lib}/*",
            "org.codelibs.opensearch.runner.OpenSearchRunner",
            "-basePath", str(base), "-numOfNode", "1", "-clusterName", self.cluster_name,
            "-baseHttpPort", str(self.ports.opensearch - 1),
        ]  # fmt: skip
        self._spawn("opensearch", cmd, {**os.environ, "JAVA_HOME": str(java.home)}, self.data_dir)

    def _start_camunda(self, dist: EngineDistribution, java: JavaRuntime) -> None:
        config = self.data_dir / "camunda-lapor.yaml"
        config.write_text(json.dumps(self.camunda_config(), indent=2))  # JSON is valid YAML for Spring
        env = {
            **os.environ,
            "JAVA_HOME": str(java.home),
            "JAVA_OPTS": f"-Xms512m -Xmx{self.heap} -XX:+ExitOnOutOfMemoryError",
            "SPRING_CONFIG_ADDITIONAL_LOCATION": str(config),
            "SPRING_PROFILES_ACTIVE": "broker,operate,tasklist,auth",
        }
        self._spawn("camunda", [str(dist.camunda_home / "bin" / "camunda")], env, dist.camunda_home)

    def camunda_config(self) -> dict[str, object]:
        """Spring configuration of the 8.6 single application on OpenSearch, bound to loopback only."""
        p, os_url = self.ports, self.opensearch_url
        opensearch = {"url": os_url, "clusterName": self.cluster_name}
        zeebe_records = {"url": os_url, "clusterName": self.cluster_name, "prefix": "zeebe-record"}
        webapp = {
            "database": "opensearch",
            "opensearch": opensearch,
            "zeebeOpensearch": zeebe_records,
            "zeebe": {"gatewayAddress": self.grpc_address},
            # Local-only cluster: scripts and tests call the REST API with the session cookie, no CSRF token.
            "csrfPreventionEnabled": False,
        }
        return {
            "server": {"address": "127.0.0.1", "port": p.rest},
            "management": {"server": {"address": "127.0.0.1", "port": p.management}},
            "zeebe": {
                "clock": {"controlled": self.test_mode},
                "broker": {
                    "data": {"directory": str(self.data_dir / "zeebe")},
                    "gateway": {"network": {"host": "127.0.0.1", "port": p.grpc}},
                    "network": {
                        "host": "127.0.0.1",
                        "commandApi": {"port": p.command},
                        "internalApi": {"port": p.internal},
                    },
                    "exporters": {
                        "opensearch": {
                            "className": "io.camunda.zeebe.exporter.opensearch.OpensearchExporter",
                            "args": {
                                "url": os_url,
                                "bulk": {"size": 1, "delay": 1},
                                "index": {"prefix": "zeebe-record"},
                            },
                        }
                    },
                },
            },
            "camunda": {
                "rest": {"query": {"enabled": True}},
                "database": {"type": "opensearch", "url": os_url, "clusterName": self.cluster_name},
                # The archiver's ILM step needs the OpenSearch ISM plugin, which the embedded node lacks.
                "operate": {**webapp, "archiver": {"ilmEnabled": False}},
                "tasklist": {**webapp, "archiverEnabled": False},
            },
        }

    def _opensearch_ready(self) -> bool:
        response = httpx.get(f"{self.opensearch_url}/_cluster/health", timeout=5)
        if response.status_code != 200:
            return False
        health = response.json()
        if health.get("cluster_name") != self.cluster_name:
            raise EngineError(
                f"Another OpenSearch ({health.get('cluster_name')}) answers on port {self.ports.opensearch}; "
                "stop it, or set LAPOR_TEST_PORT_SHIFT for a second test run."
            )
        return bool(health.get("status") in ("green", "yellow"))

    def _camunda_ready(self) -> bool:
        health = httpx.get(f"http://127.0.0.1:{self.ports.management}/actuator/health/readiness", timeout=5)
        if health.status_code != 200:
            return False
        with httpx.Client(base_url=self.rest_url, timeout=10) as client:
            login = client.post("/api/login", params={"username": CAMUNDA_USER, "password": CAMUNDA_PASSWORD})
            if login.status_code != 204:
                return False
            topology = client.get("/v2/topology")
            if topology.status_code != 200:
                return False
            partitions = [p for b in topology.json().get("brokers", []) for p in b.get("partitions", [])]
            webapps = all(client.get(path).status_code == 200 for path in ("/operate/login", "/tasklist/login"))
            return webapps and any(p.get("role") == "leader" and p.get("health") == "healthy" for p in partitions)

    def _wait(self, probe: Callable[[], bool], name: str, logname: str, deadline: float) -> None:
        proc = self._procs[name.lower()]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EngineError(f"{name} exited with code {proc.returncode} while starting.\n{self._tail(logname)}")
            try:
                if probe():
                    log.info("engine.component_ready", component=name)
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)
        raise EngineError(f"{name} did not become ready in time.\n{self._tail(logname)}")

    def _tail(self, logname: str, lines: int = 25) -> str:
        path = self.data_dir / "logs" / logname
        if not path.exists():
            return f"(no log at {path})"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"Last lines of {path}:\n" + "\n".join(text)
