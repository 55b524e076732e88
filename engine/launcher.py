"""Starts and stops one local Operaton engine (REST API, Tasklist, Cockpit, Admin) from the built jar."""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import structlog

from engine.build import build
from engine.errors import EngineError
from engine.java import find_java

log = structlog.get_logger(__name__)

ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 - local default of a loopback-only engine; production sets its own
TIMEZONE = "Asia/Pontianak"  # timer cycles (the monthly recap at 08:00) are read in the engine's time zone


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
        jar = build(java)
        self._check_port_free()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
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
        }
        cmd = [
            str(java.java), f"-Xmx{self.heap}", "-XX:+ExitOnOutOfMemoryError", f"-Duser.timezone={TIMEZONE}",
            "-jar", str(jar),
        ]  # fmt: skip
        with self.log_file.open("ab") as out:
            self._proc = subprocess.Popen(
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

    # -- internals ----------------------------------------------------------------------------------------
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
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            version = client.get("/engine-rest/version", auth=(self.admin_user, self.admin_password))
            if version.status_code == 401:
                raise EngineError(
                    f"The engine on port {self.port} refused the administrator login {self.admin_user!r}: "
                    "its database already has another password for this user."
                )
            if version.status_code != 200:
                return False
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
