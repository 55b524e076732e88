"""The city's topology on this machine, without Docker: a private PostgreSQL for the application (so it can be
restarted), engine nodes on one PostgreSQL database, the API and the workers as real processes, an SMTP sink.

Everything listens on 127.0.0.1. Eight ports from LAPOR_FAULTS_PORT (18161 + 10 x LAPOR_TEST_PORT_SHIFT, so suites
run side by side): engine nodes, the API, the workers' health ports, the application PostgreSQL, a spare for the
benchmark's plain endpoint, the engine's PostgreSQL.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import psycopg
import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from engine import LocalCluster
from engine.launcher import spawn, tied_to_parent
from lapor.db import make_engine
from lapor.deploy import deploy_directory
from lapor.migrate import upgrade
from lapor.process import EngineClient
from lapor.process.identity import provision
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT, identity_plan
from lapor.settings import ROOT, Settings

log = structlog.get_logger(__name__)

ADMIN = ("admin", "admin")
STAFF_TOKEN = "faults-staff-token"  # noqa: S105 - a loopback-only stack that lives for one run
SIGNING_KEY = "faults-file-signing-key"
# The engine's database, which every node shares: a private PostgreSQL of the run unless this names another, e.g.
# postgresql://lapor:lapor@127.0.0.1:5432/lapor_engine_test (emptied at the start of every run).
ENGINE_DB_VARIABLE = "LAPOR_FAULTS_ENGINE_DB"


def first_port() -> int:
    shift = int(os.environ.get("LAPOR_TEST_PORT_SHIFT", "0"))
    return int(os.environ.get("LAPOR_FAULTS_PORT", str(18161 + 10 * shift)))


def jdbc(url: str) -> tuple[str, str, str]:
    """postgresql://user:password@host:port/db -> (jdbc URL, user, password)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port, dbname = info.get("host", "127.0.0.1"), info.get("port", "5432"), info["dbname"]
    return f"jdbc:postgresql://{host}:{port}/{dbname}", str(info.get("user", "")), str(info.get("password", ""))


def reset_database(url: str) -> None:
    """An empty public schema: the engine creates its tables on the first start."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")


def free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on right now (the system picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(probe: Any, *, within: float, interval: float = 0.5, what: str = "condition") -> Any:
    """Poll until the probe returns something truthy; TimeoutError naming `what` otherwise (bounded)."""
    deadline = time.monotonic() + within
    while True:
        try:
            result = probe()
        except Exception:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {within:.0f} s")
        time.sleep(interval)


def _healthy(base_url: str) -> bool:
    """The service at base_url answers /health with 200 (wait_for takes a refused connection as not yet)."""
    return httpx.get(f"{base_url}/health", timeout=2).status_code == 200


def rss_mb(pid: int) -> float:
    """Memory of a process and its children in MiB: the proportional set size (shared pages divided among the
    processes sharing them, so PostgreSQL's shared buffers count once), or the RSS where the kernel has no PSS."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            rollup = Path(f"/proc/{one}/smaps_rollup")
            lines = (rollup if rollup.exists() else Path(f"/proc/{one}/status")).read_text().splitlines()
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        for line in lines:
            if line.startswith(("Pss:", "VmRSS:")):
                total += int(line.split()[1])
                break
    return total / 1024


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# -- the application's PostgreSQL, private to the run ----------------------------------------------------------
class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb) on its own port; `restart` is what the fault needs.

    `postgres` runs as a direct child of this process (not daemonized by pg_ctl) under the parent-death signal:
    when the harness dies, even by SIGKILL, the kernel kills the postmaster and its backends follow it.
    """

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "pgdata"
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
        if not versions:
            raise RuntimeError(
                "PostgreSQL server binaries not found in /usr/lib/postgresql (apt-get install postgresql)"
            )
        self.bin = versions[-1].parent
        # initdb and postgres refuse to run as root: .ci/run runs as root, so the cluster belongs to `postgres`.
        self._user = "postgres" if os.geteuid() == 0 else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/lapor"

    @property
    def libpq_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/lapor"

    def _run(self, *args: str) -> None:
        subprocess.run(tied_to_parent(list(args), user=self._user), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if not self.data.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            if self._user:
                shutil.chown(self.root, self._user, self._user)
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
            self._postmaster()
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
                c.execute("CREATE DATABASE lapor")
            return
        self._postmaster()

    def _postmaster(self) -> None:
        command = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root)]
        command += ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
        with (self.root / "postgres.log").open("ab") as out:
            self._proc = spawn(command, user=self._user, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._accepts, within=60, interval=0.1, what=f"PostgreSQL on port {self.port}")

    def _accepts(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {self._proc.returncode}; see {self.root / 'postgres.log'}")
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=2):
            return True

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (its children are the connections)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions are ended, the data is consistent), SIGKILL if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def migrated_database(prefix: str, *, pool_size: int = 5, max_overflow: int = 10) -> Iterator[Engine]:
    """A private PostgreSQL on a free port with the application's schema (Alembic), as an SQLAlchemy engine with
    that pool; the cluster is stopped and its folder removed on the way out."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its cluster below
    server = PostgresServer(root / "postgres", free_port())
    server.start()
    try:
        upgrade(server.url)
        engine = make_engine(server.url, pool_size=pool_size, max_overflow=max_overflow)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# -- an SMTP sink: what the city's mail server would have received ------------------------------------------------
@dataclass
class SmtpSink:
    messages: list[Message] = field(default_factory=list)
    port: int = 0
    _controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or b""))
        return "250 OK"

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def duplicates(self) -> int:
        """Messages that arrived more than once (same recipient, same subject)."""
        seen: dict[tuple[str, str], int] = {}
        for message in self.messages:
            key = (str(message["To"]), str(message["Subject"]))
            seen[key] = seen.get(key, 0) + 1
        return sum(count - 1 for count in seen.values() if count > 1)


# -- Python services as processes -------------------------------------------------------------------------------
@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0
    paused: bool = False  # stopped on purpose: the restart policy leaves it stopped

    def start(self) -> None:
        with self.log_file.open("ab") as out:
            self.proc = spawn(
                self.command, env=self.env, cwd=self.log_file.parent, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no handler finishes, no lock is released."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid) if self.running() and self.proc else 0.0


def _clean_environ() -> dict[str, str]:
    """This process's environment without LAPOR_ settings, so nothing of the caller's leaks into the stack."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LAPOR_")}


@dataclass
class Stack:
    """Engine nodes, the application's PostgreSQL, API and workers; `start()` brings up all, `stop()` ends all."""

    nodes: int = 2
    workers: int = 2
    worker_lock_seconds: int = 10
    worker_max_tasks: int = 10
    worker_long_poll_seconds: int = 5
    job_lock_ms: int = 15_000
    # The JIT's first tier only: nodes (re)start in half the time; a fault run needs starts more than peak speed.
    engine_env: dict[str, str] = field(default_factory=lambda: {"JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1"})
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lapor-faults-")))
    cluster: LocalCluster | None = None
    app_db: PostgresServer | None = None
    engine_db: PostgresServer | None = None
    smtp: SmtpSink = field(default_factory=SmtpSink)
    api: Service | None = None
    worker_services: list[Service] = field(default_factory=list)
    admin: EngineClient | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def ports(self) -> dict[str, int]:
        base = first_port()
        return {
            "engine": base,
            "api": base + 2,
            "workers": base + 3,
            "app_db": base + 5,
            "spare": base + 6,
            "engine_db": base + 7,
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def rest_url(self, node: int = 0) -> str:
        assert self.cluster is not None
        return self.cluster.members[node].rest_url

    def start(self) -> None:
        started = time.monotonic()
        os.chmod(self.work_dir, 0o755)  # noqa: S103 - the postgres user must reach its cluster below
        busy = [p for p in range(first_port(), first_port() + 8) if not free(p)]
        if busy:
            raise RuntimeError(f"ports {busy} are in use; set LAPOR_FAULTS_PORT to another range")
        self.app_db = PostgresServer(self.work_dir / "app-db", self.ports["app_db"])
        self.app_db.start()
        upgrade(self.app_db.url)
        if not os.environ.get(ENGINE_DB_VARIABLE):
            self.engine_db = PostgresServer(self.work_dir / "engine-db", self.ports["engine_db"])
            self.engine_db.start()
        self._start_engine()
        self.smtp.start()
        (self.work_dir / "data").mkdir(exist_ok=True)
        self.api = self.start_api()
        for index in range(self.workers):
            self.worker_services.append(self.start_worker(index, node=index % self.nodes))
        threading.Thread(target=self._supervise, name="restart-policy", daemon=True).start()
        wait_for(self._api_ready, within=60, what="the API")
        log.info("stack.ready", seconds=round(time.monotonic() - started, 1), work_dir=str(self.work_dir))

    @property
    def engine_db_url(self) -> str:
        """The engine's database (libpq URL), shared by every node."""
        return self.engine_db.libpq_url if self.engine_db else os.environ[ENGINE_DB_VARIABLE]

    def _start_engine(self) -> None:
        """A fresh engine database, the nodes, bpmn/ deployed and the roles provisioned."""
        engine_db = self.engine_db_url
        reset_database(engine_db)
        url, user, password = jdbc(engine_db)
        self.cluster = LocalCluster(
            data_dir=self.work_dir / "engine",
            database_url=url,
            database_user=user,
            database_password=password,
            nodes=self.nodes,
            first_port=self.ports["engine"],
            job_lock_ms=self.job_lock_ms,
            extra_env=self.engine_env,
        )
        self.cluster.start()
        if self.admin is not None:
            self.admin.close()
        self.admin = EngineClient(self.rest_url(0), user=ADMIN[0], password=ADMIN[1], timeout=60)
        plan = identity_plan(Settings(engine_url=self.rest_url(0)))
        plan.filters = []  # Tasklist's saved filters are for people; nobody opens Tasklist here
        provision(self.admin, plan, admin_password=ADMIN[1])
        deploy_directory(self.admin)

    def restart_engine(self, engine_env: dict[str, str]) -> None:
        """The engine again on an empty database with other settings (history level, acquisition); the API and
        the workers stay up and reconnect."""
        assert self.cluster is not None
        self.cluster.stop()
        self.engine_env = engine_env
        self._start_engine()

    def _supervise(self) -> None:
        """Compose's `restart: unless-stopped`: a service that exited (killed, or its stall guard) starts again."""
        while not self._stopping.wait(0.5):
            for service in [*self.worker_services, *([self.api] if self.api else [])]:
                exited = service.proc is not None and service.proc.poll() is not None
                if exited and not service.paused and not self._stopping.is_set():
                    service.start()

    def _api_ready(self) -> bool:
        return _healthy(self.api_url)

    def _env(self, node: int, **extra: str) -> dict[str, str]:
        assert self.app_db is not None
        return {
            **_clean_environ(),
            "PYTHONPATH": str(ROOT),
            "LAPOR_DATABASE_URL": self.app_db.url,
            "LAPOR_ENGINE_URL": self.rest_url(node),
            "LAPOR_LOG_FORMAT": "json",
            "LAPOR_LOG_LEVEL": "WARNING",
            "LAPOR_SMTP_PORT": str(self.smtp.port),
            "LAPOR_DATA_DIR": str(self.work_dir / "data"),
            "LAPOR_FILE_SIGNING_KEY": SIGNING_KEY,
            "LAPOR_STAFF_API_TOKENS": STAFF_TOKEN,
            "LAPOR_PUBLIC_BASE_URL": self.api_url,
            **extra,
        }

    def start_api(self, node: int = 0, **extra: str) -> Service:
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1"]
        service = Service(
            "api",
            [*command, "--port", str(self.ports["api"]), "--log-level", "warning"],
            self._env(node, LAPOR_ENGINE_USER=API_ACCOUNT, LAPOR_ENGINE_PASSWORD=API_ACCOUNT, **extra),
            self.work_dir / "api.log",
        )
        service.start()
        return service

    def worker_health_port(self, index: int) -> int:
        """Where worker process `index` answers /health and /metrics."""
        return self.ports["workers"] + index

    def start_worker(self, index: int, *, node: int = 0, **extra: str) -> Service:
        env = self._env(
            node,
            LAPOR_ENGINE_USER=WORKERS_ACCOUNT,
            LAPOR_ENGINE_PASSWORD=WORKERS_ACCOUNT,
            LAPOR_WORKER_HEALTH_PORT=str(self.worker_health_port(index)),
            LAPOR_WORKER_LOCK_SECONDS=str(self.worker_lock_seconds),
            LAPOR_WORKER_LONG_POLL_SECONDS=str(self.worker_long_poll_seconds),
            LAPOR_WORKER_MAX_TASKS=str(self.worker_max_tasks),
            **extra,
        )
        log_file = self.work_dir / f"workers-{index + 1}.log"
        service = Service(f"workers-{index + 1}", [sys.executable, "-m", "workers"], env, log_file)
        service.start()
        return service

    def pause_workers(self) -> None:
        """Stop the workers and wait out their last long polls: the engine answers a pending long poll by locking
        tasks even after the worker that sent it has gone, and such a task waits for its lock to expire."""
        for service in self.worker_services:
            service.paused = True
            service.stop()
        time.sleep(self.worker_long_poll_seconds + 0.5)

    def resume_workers(self) -> None:
        for service in self.worker_services:
            service.paused = False
            if not service.running():
                service.start()

    def wait_for_workers(self, within: float = 60) -> None:
        """Until every worker process answers on its health port: its imports and settings are done and its loop
        is about to poll (a load measured from a restart on would count the start-up as work)."""

        urls = [f"http://127.0.0.1:{self.worker_health_port(i)}" for i in range(len(self.worker_services))]
        wait_for(lambda: all(_healthy(url) for url in urls), within=within, what="the workers' health ports")

    def processes(self) -> dict[str, int]:
        """Process ids of the stack's parts (engine nodes, API, workers), for footprints."""
        found = {node.node_name: node.pid for node in (self.cluster.members if self.cluster else []) if node.pid}
        for service in [*([self.api] if self.api else []), *self.worker_services]:
            if service.running() and service.proc is not None:
                found[service.name] = service.proc.pid
        for name, database in (("app-postgres", self.app_db), ("engine-postgres", self.engine_db)):
            if database is not None and database.pid is not None:
                found[name] = database.pid
        return {name: pid for name, pid in found.items() if pid is not None}

    def stop(self) -> None:
        self._stopping.set()
        for service in [*self.worker_services, *([self.api] if self.api else [])]:
            service.stop()
        self.smtp.stop()
        if self.admin is not None:
            self.admin.close()
        if self.cluster is not None:
            self.cluster.stop()
        for database in (self.app_db, self.engine_db):
            if database is not None:
                database.stop()

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
