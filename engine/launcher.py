"""Starts and stops local Operaton engines (REST API, Tasklist, Cockpit, Admin) from the built jar: one node, or a
cluster of nodes on one PostgreSQL database (job executors and external-task locks coordinate through it)."""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import structlog

from engine.build import build
from engine.errors import EngineError
from engine.java import find_java
from lapor.process import EngineAuthError, EngineClient
from lapor.process import EngineError as EngineCallError

log = structlog.get_logger(__name__)

ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 - local default of a loopback-only engine; production sets its own
TIMEZONE = "Asia/Pontianak"  # timer cycles (the monthly recap at 08:00) are read in the engine's time zone


# One thread for the life of the process starts every child: the kernel's parent-death signal follows the thread
# that forked, so a child started from a short-lived thread (a pool starting nodes side by side) would die with it.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="child-spawner")


def tied_to_parent(command: list[str], *, user: str | None = None) -> list[str]:
    """`command` under util-linux `setpriv --pdeathsig KILL` (as `user` if given): the kernel kills the child
    when the process that started it dies, even by SIGKILL, so a killed test run, bench or fault harness leaves no
    engine or database behind. setpriv sets the signal after changing the user (a change of user clears it).
    Without setpriv (not Linux) the command runs as it is, as `user` through runuser."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ["runuser", "-u", user, "--", *command] if user else command
    who = ["--reuid", user, "--regid", user, "--init-groups"] if user else []
    return [setpriv, *who, "--pdeathsig", "KILL", "--", *command]


def spawn(command: list[str], *, user: str | None = None, **popen: Any) -> "subprocess.Popen[bytes]":
    """subprocess.Popen of `tied_to_parent(command)`, forked by the long-lived spawner thread."""
    full = tied_to_parent(command, user=user)

    def start() -> "subprocess.Popen[bytes]":
        return subprocess.Popen(full, **popen)

    return _SPAWNER.submit(start).result()


def private_copy(jar: Path, data_dir: Path) -> Path:
    """The jar as this engine's own file: a rebuild of engine/target (another run, another engineer) rewrites the
    shared jar in place, and a JVM still reading it then fails to load classes (NoClassDefFoundError in request
    threads, requests that never answer)."""
    copy = data_dir / jar.name
    if copy.absolute() == jar.absolute():
        return jar
    if not copy.exists() or copy.stat().st_size != jar.stat().st_size or copy.stat().st_mtime < jar.stat().st_mtime:
        partial = copy.with_suffix(".part")
        shutil.copy2(jar, partial)
        partial.replace(copy)
    return copy


def port_for_tests(shift: int | None = None) -> int:
    """Another port than the local stack's, so tests run beside it; LAPOR_TEST_PORT_SHIFT moves it again."""
    s = int(os.environ.get("LAPOR_TEST_PORT_SHIFT", "0")) if shift is None else shift
    if not 0 <= s <= 100:
        raise EngineError("LAPOR_TEST_PORT_SHIFT must be between 0 and 100")
    return 18080 + s


@dataclass
class LocalEngine:
    """One engine process. `database_url` is a JDBC URL: an H2 file by default, in-memory H2 for tests."""

    data_dir: Path
    port: int = 8080
    database_url: str | None = None
    database_user: str = "sa"
    database_password: str = ""
    admin_user: str = ADMIN_USER
    admin_password: str = ADMIN_PASSWORD
    node_name: str = "lapor-engine"
    heap: str = "768m"
    job_max_wait_ms: int = 5000
    # Job acquisition (application.yaml, "Scale-out"): None keeps the engine's default. Nodes of a cluster back
    # off after a lost acquisition race, so they share timers instead of colliding on the same ones.
    job_wait_ms: int | None = None
    job_acquisition_size: int | None = None
    job_backoff_ms: int | None = None
    job_max_backoff_ms: int | None = None
    job_lock_ms: int | None = None
    # More environment for the JVM: JAVA_TOOL_OPTIONS, or Spring overrides such as OPERATON_BPM_HISTORYLEVEL.
    extra_env: Mapping[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/engine-rest"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "engine.log"

    def addresses(self) -> dict[str, str]:
        app = f"{self.base_url}/operaton/app"
        return {
            "Tasklist (staff, OPD)": f"{app}/tasklist/default/",
            "Cockpit (supervisors)": f"{app}/cockpit/default/",
            "Admin (users, groups)": f"{app}/admin/default/ (login {self.admin_user}/{self.admin_password})",
            "Engine REST API": f"{self.rest_url} (HTTP Basic)",
        }

    # -- lifecycle ----------------------------------------------------------------------------------------
    def __enter__(self) -> "LocalEngine":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, *, timeout: float = 180.0) -> None:
        """Build if needed, start, and return once REST and Tasklist answer; EngineError (with the log) if not."""
        java = find_java(minimum=17, purpose="The Operaton engine")
        self._check_port_free()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        jar = private_copy(build(java), self.data_dir)
        database_url = self.database_url or f"jdbc:h2:file:{self.data_dir / 'h2' / 'operaton'};DB_CLOSE_ON_EXIT=FALSE"
        env = {
            **os.environ,
            "JAVA_HOME": str(java.home),
            "LAPOR_ENGINE_ADDRESS": "127.0.0.1",
            "LAPOR_ENGINE_PORT": str(self.port),
            "LAPOR_ENGINE_DB_URL": database_url,
            "LAPOR_ENGINE_DB_USER": self.database_user,
            "LAPOR_ENGINE_DB_PASSWORD": self.database_password,
            "LAPOR_ENGINE_ADMIN_USER": self.admin_user,
            "LAPOR_ENGINE_ADMIN_PASSWORD": self.admin_password,
            "LAPOR_ENGINE_NODE": self.node_name,
            "LAPOR_ENGINE_JOB_MAX_WAIT": str(self.job_max_wait_ms),
            **self._job_acquisition_env(),
            **self.extra_env,
        }
        cmd = [
            str(java.java), f"-Xmx{self.heap}", "-XX:+ExitOnOutOfMemoryError", f"-Duser.timezone={TIMEZONE}",
            "-jar", str(jar),
        ]  # fmt: skip
        with self.log_file.open("ab") as out:
            self._proc = spawn(
                cmd, cwd=self.data_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started = time.monotonic()
        try:
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        log.info("engine.ready", seconds=round(time.monotonic() - started, 1), pid=self._proc.pid, port=self.port)

    def stop(self) -> None:
        """SIGTERM to the engine's process group (SIGKILL after 30 s); nothing is left running."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        log.info("engine.stopped", port=self.port)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def kill(self) -> None:
        """SIGKILL, no shutdown: what a crashed node or a pulled plug looks like to the others."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        log.info("engine.killed", port=self.port, node=self.node_name)

    def pause(self) -> None:
        """SIGSTOP: a hung node that holds its connections and does nothing (`resume` lets it go on)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    # -- internals ----------------------------------------------------------------------------------------
    def _signal(self, number: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, number)
            except ProcessLookupError:
                pass

    def _job_acquisition_env(self) -> dict[str, str]:
        values = {
            "LAPOR_ENGINE_JOB_WAIT": self.job_wait_ms,
            "LAPOR_ENGINE_JOB_ACQUISITION": self.job_acquisition_size,
            "LAPOR_ENGINE_JOB_BACKOFF": self.job_backoff_ms,
            "LAPOR_ENGINE_JOB_MAX_BACKOFF": self.job_max_backoff_ms,
            "LAPOR_ENGINE_JOB_LOCK_TIME": self.job_lock_ms,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError:
                raise EngineError(
                    f"Port {self.port} (the engine) is already in use. Stop whatever holds it "
                    f"(`ss -ltnp 'sport = :{self.port}'` shows it), or an engine that is still running."
                ) from None

    def _ready(self) -> bool:
        try:
            with EngineClient(self.rest_url, user=self.admin_user, password=self.admin_password, timeout=5) as rest:
                rest.version()
        except EngineAuthError as err:
            if err.status_code == 401:
                raise EngineError(
                    f"The engine on port {self.port} refused the administrator login {self.admin_user!r}: "
                    "its database already has another password for this user."
                ) from None
            return False
        except EngineCallError:  # not up yet: unreachable, or the REST API not answering yet
            return False
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            return client.get("/operaton/app/tasklist/default/").status_code == 200

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EngineError(
                    f"The engine exited with code {self._proc.returncode} while starting.\n{self._tail()}"
                )
            try:
                if self._ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise EngineError(f"The engine did not become ready in time.\n{self._tail()}")

    def _tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return f"(no log at {self.log_file})"
        text = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return f"Last lines of {self.log_file}:\n" + "\n".join(text)


@dataclass
class LocalCluster:
    """`nodes` engines on consecutive ports from `first_port`, named `<name>-1`, `<name>-2`, ..., on one
    PostgreSQL database (`database_url` is jdbc:postgresql://...). The first node creates the schema alone, the
    others start after it, together."""

    data_dir: Path
    database_url: str
    database_user: str
    database_password: str
    nodes: int = 2
    first_port: int = 18161
    name: str = "lapor-engine"
    admin_user: str = ADMIN_USER
    admin_password: str = ADMIN_PASSWORD
    heap: str = "512m"
    job_max_wait_ms: int = 1000
    job_wait_ms: int | None = 1000
    job_acquisition_size: int | None = 3
    job_backoff_ms: int | None = 50
    job_max_backoff_ms: int | None = 500
    job_lock_ms: int | None = 60_000  # a dead node's jobs run elsewhere after a minute, not five
    extra_env: Mapping[str, str] = field(default_factory=dict)
    members: list[LocalEngine] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if not self.database_url.startswith("jdbc:postgresql:"):
            raise EngineError("A cluster shares one PostgreSQL database: database_url must be jdbc:postgresql://...")
        if self.nodes < 1:
            raise EngineError("A cluster has at least one node")
        self.members = [
            LocalEngine(
                data_dir=self.data_dir / f"node-{number}",
                port=self.first_port + number - 1,
                database_url=self.database_url,
                database_user=self.database_user,
                database_password=self.database_password,
                admin_user=self.admin_user,
                admin_password=self.admin_password,
                node_name=f"{self.name}-{number}",
                heap=self.heap,
                job_max_wait_ms=self.job_max_wait_ms,
                job_wait_ms=self.job_wait_ms,
                job_acquisition_size=self.job_acquisition_size,
                job_backoff_ms=self.job_backoff_ms,
                job_max_backoff_ms=self.job_max_backoff_ms,
                job_lock_ms=self.job_lock_ms,
                extra_env=self.extra_env,
            )
            for number in range(1, self.nodes + 1)
        ]

    def __enter__(self) -> "LocalCluster":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, *, timeout: float = 240.0, schema_exists: bool = False) -> None:
        """Every node; the first alone unless `schema_exists` (two nodes creating one schema would collide)."""
        first: LocalEngine | None = self.members[0]
        others = self.members[1:]
        if schema_exists:
            first, others = None, self.members
        try:
            if first is not None:
                first.start(timeout=timeout)
            if others:
                with ThreadPoolExecutor(len(others)) as pool:
                    for started in [pool.submit(node.start, timeout=timeout) for node in others]:
                        started.result()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.members:
            node.stop()

    @property
    def rest_urls(self) -> list[str]:
        return [node.rest_url for node in self.members]

    def running(self) -> list[LocalEngine]:
        return [node for node in self.members if node.running()]
