"""The measured loads: engine alone with no-op workers, intake through the API, tracking reads, footprint."""

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from faults.probes import VERIFY_TASK, submit
from faults.topology import Service, Stack, load_average, rss_mb, wait_for
from lapor import reports
from lapor.db import make_engine, session_scope
from lapor.models import Report, ReportStatus
from lapor.process import EngineClient, ExternalTaskWorker, WorkerConfig
from lapor.process.tasks import ExternalTask
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT
from lapor.vocabulary import PROCESS_ID, Deadline, Topic


@dataclass
class Figure:
    """One measured figure, with the machine's load average when it was taken."""

    name: str
    value: float
    unit: str
    load: str = field(default_factory=load_average)
    note: str = ""


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- CPU: what each process of the stack spent, in ms per instance or report ------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its descendants, the reaped ones included (PostgreSQL's ended backends count in
    their postmaster's cutime); 0 for a process that has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime
    return own + sum(cpu_seconds(int(child)) for child in children)


# The city's own steps on the intake path: the API, the workers and the application database. The engine, its
# PostgreSQL and the load generator are on both sides of the intake ratio; these are on one only.
CITY_PROCESSES = ("api", "workers-", "app-postgres")


class CpuMeter:
    """CPU of every process of the stack and of this one (the load generator, its no-op workers and the SMTP
    sink) across a load, summed over the blocks it measured; only processes that ran through a whole block count
    (engine alone pauses the workers)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.before: dict[str, tuple[int, float]] = {}
        self.spent: dict[str, float] = {}

    def _now(self) -> dict[str, tuple[int, float]]:
        found = {name: (pid, cpu_seconds(pid)) for name, pid in self.stack.processes().items()}
        times = os.times()
        found["bench"] = (os.getpid(), times.user + times.system)
        return found

    def __enter__(self) -> "CpuMeter":
        self.before = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        """Adds to what earlier blocks of the same meter measured (rounds of one load, alternated with another)."""
        after = self._now()
        for name, (pid, seconds) in after.items():
            if name in self.before and self.before[name][0] == pid:
                self.spent[name] = self.spent.get(name, 0.0) + seconds - self.before[name][1]

    def figure(self, name: str, count: int, unit: str, *, only: tuple[str, ...] = ()) -> Figure:
        """Milliseconds of CPU per instance or report, the processes' shares in the note; `only` keeps the processes
        whose names begin with one of its prefixes (CITY_PROCESSES: what the city adds to the engine's work)."""
        spent = {key: value for key, value in self.spent.items() if not only or key.startswith(only)}
        parts = {key: 1000 * value / max(count, 1) for key, value in spent.items()}
        note = ", ".join(f"{key} {ms:.1f}" for key, ms in sorted(parts.items(), key=lambda kv: -kv[1]))
        return Figure(name, sum(parts.values()), unit, note=note)


# -- no-op workers: every topic answered at once with what the model needs to go on -----------------------------
def _noop_deadline(task: ExternalTask) -> dict[str, Any]:
    deadline = Deadline.from_code(task.prop("sla"))
    now = datetime.now(UTC)
    variables: dict[str, Any] = {deadline.due_variable: now + timedelta(days=3), "reportSummaryUrl": ""}
    if deadline.reminder_variable:
        variables[deadline.reminder_variable] = now + timedelta(days=2)
    return variables


def _noop(task: ExternalTask) -> None:
    return None


NOOP_HANDLERS: dict[str, Callable[[ExternalTask], Mapping[str, Any] | None]] = {str(topic): _noop for topic in Topic}
NOOP_HANDLERS[str(Topic.DEADLINE)] = _noop_deadline
NOOP_HANDLERS[str(Topic.AUTO_COMPLETE)] = lambda task: {"autoCompleted": True}


NOOP_LONG_POLL_MS = 2000


@contextmanager
def noop_workers(rest_url: str, *, loops: int = 1, max_tasks: int = 10) -> Iterator[None]:
    """`loops` external-task loops (each its own worker id) in a thread of this process, answering at once.

    On the way out the loops' last long polls are waited out and whatever the engine locked for them is unlocked:
    the engine answers a pending long poll by locking tasks even after the client gave up on it, and those tasks
    would otherwise wait for the lock (a minute) before the next load's workers see them.
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    config = WorkerConfig(
        rest_url, WORKERS_ACCOUNT, WORKERS_ACCOUNT, max_tasks=max_tasks, long_poll_ms=NOOP_LONG_POLL_MS
    )
    workers = [ExternalTaskWorker(config, NOOP_HANDLERS) for _ in range(loops)]

    async def work() -> None:
        await asyncio.gather(*(worker.run(stop) for worker in workers))

    thread = threading.Thread(target=loop.run_until_complete, args=(work(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        time.sleep(NOOP_LONG_POLL_MS / 1000 + 0.5)
        with EngineClient(rest_url, user=WORKERS_ACCOUNT, password=WORKERS_ACCOUNT) as engine:
            for worker in workers:
                for task in engine.external_tasks(worker_id=worker.worker_id, locked=True):
                    engine.unlock_external_task(task.id)


def process_variables(key: str) -> dict[str, Any]:
    """What the API sends for a located web report with one photo: lapor.reports.process_variables itself."""
    report = Report(
        tracking_id=key,
        channel="web",
        report_type="pengaduan",
        category="JALAN",
        kecamatan_code="61.71.01",
        kelurahan_code="61.71.01.1002",
        anonymous=False,
        confidential=False,
    )
    return reports.process_variables(report, photo_count=1)


def verification_tasks(admin: EngineClient, key_prefix: str) -> int:
    return admin.count_tasks(definition_key=VERIFY_TASK, business_key_like=f"{key_prefix}%")


def engine_alone(
    stack: Stack,
    label: str,
    *,
    instances: int,
    concurrency: int = 16,
    loops: int = 1,
    max_tasks: int = 10,
    keep_alive: bool = True,
) -> Figure:
    """Instances of lapor-pengaduan started over REST (as svc-api) until each waits at verification, per second."""
    assert stack.admin is not None
    admin = stack.admin
    prefix = f"BENCH-{label}-{time.monotonic_ns()}-"
    limits = httpx.Limits(max_keepalive_connections=None if keep_alive else 0)
    transport = httpx.HTTPTransport(limits=limits)
    stack.pause_workers()
    try:
        with (
            noop_workers(stack.rest_url(0), loops=loops, max_tasks=max_tasks),
            EngineClient(stack.rest_url(0), user=API_ACCOUNT, password=API_ACCOUNT, transport=transport) as api,
        ):
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                keys = [f"{prefix}{i}" for i in range(instances)]
                list(pool.map(lambda k: api.start(PROCESS_ID, business_key=k, variables=process_variables(k)), keys))
            wait_for(
                lambda: verification_tasks(admin, prefix) >= instances,
                within=600,
                interval=0.1,
                what=f"{instances} instances at verification",
            )
            seconds = time.perf_counter() - started
    finally:
        stack.resume_workers()
    note = f"{instances} instances, {concurrency} starting, {loops} loop(s) x maxTasks {max_tasks}"
    return Figure(f"engine alone ({label})", instances / seconds, "instances/s", note=note)


@dataclass
class IntakeResult:
    seconds: float
    latencies: list[float]  # s, each report's from sending to its verification task
    tracking_ids: list[str]
    peak_rss: dict[str, float]
    note: str

    @staticmethod
    def combined(rounds: "list[IntakeResult]", note: str) -> "IntakeResult":
        """Several rounds as one: their time and reports added, latencies pooled, each process's highest RSS."""
        peak: dict[str, float] = {}
        for result in rounds:
            for name, mib in result.peak_rss.items():
                peak[name] = max(peak.get(name, 0.0), mib)
        return IntakeResult(
            sum(r.seconds for r in rounds),
            [latency for r in rounds for latency in r.latencies],
            [tid for r in rounds for tid in r.tracking_ids],
            peak,
            note,
        )

    @property
    def figures(self) -> list[Figure]:
        """Reports per second, latency p50 and p95."""
        return [
            Figure("intake through the API", len(self.tracking_ids) / self.seconds, "reports/s", note=self.note),
            Figure("intake latency p50", percentile(self.latencies, 0.5) * 1000, "ms"),
            Figure("intake latency p95", percentile(self.latencies, 0.95) * 1000, "ms"),
        ]


class RssSampler:
    """The highest RSS of each of the stack's processes while it runs (sampled twice a second)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for name, pid in self.stack.processes().items():
                self.peak[name] = max(self.peak.get(name, 0.0), rss_mb(pid))

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def intake(stack: Stack, *, reports: int, concurrency: int = 8, first_number: int = 100_000) -> IntakeResult:
    """Staff-intake submissions with a photo through the API until each verification task is open in the engine.

    Watched as `engine_alone` watches its instances: one task count every 0.1 s (the intake reports' verification
    tasks, those already open before subtracted), so the two loads carry the same observer. Each report's latency
    is read afterwards: the creation time of its verification task (the engine's clock, this machine's) less the
    moment it was sent. An earlier version asked the engine for the open tasks of every pending report five times
    a second, which cost the intake side engine CPU that engine alone did not pay."""
    assert stack.admin is not None and stack.app_db is not None
    admin = stack.admin
    already = admin.count_tasks(definition_key=VERIFY_TASK, business_key_like="PTK-%")
    sent_at: dict[str, datetime] = {}
    with RssSampler(stack) as sampler, httpx.Client(base_url=stack.api_url, timeout=60) as client:
        started = time.perf_counter()

        def one(number: int) -> None:
            sent = datetime.now(UTC)
            answer = submit(client, number)
            if answer.tracking_id is None:
                print(f"intake: HTTP {answer.status}", file=sys.stderr)
                return
            sent_at[answer.tracking_id] = sent

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(first_number, first_number + reports)))
        try:
            wait_for(
                lambda: (
                    admin.count_tasks(definition_key=VERIFY_TASK, business_key_like="PTK-%") >= already + len(sent_at)
                ),
                within=600,
                interval=0.1,
                what=f"{len(sent_at)} reports at verification",
            )
        except TimeoutError as err:
            print(f"intake: {err}", file=sys.stderr)
        seconds = time.perf_counter() - started
    opened = _verification_opened(stack, list(sent_at))
    latencies = [(opened[t] - sent_at[t]).total_seconds() for t in opened]
    note = f"{len(opened)}/{reports} reports, {concurrency} clients, 1 photo each; latency to the open task"
    return IntakeResult(seconds, latencies, list(opened), sampler.peak, note)


def _verification_opened(stack: Stack, tracking_ids: list[str]) -> dict[str, datetime]:
    """When each report's verification task was created, by tracking id (after the load, so it costs it nothing)."""
    assert stack.admin is not None and stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        with session_scope(db) as session:
            rows = session.execute(
                select(Report.tracking_id, Report.process_instance_id).where(Report.tracking_id.in_(tracking_ids))
            ).all()
    finally:
        db.dispose()
    by_instance = {str(pid): str(tid) for tid, pid in rows if pid}
    opened: dict[str, datetime] = {}
    chunks = [list(by_instance)[i : i + 100] for i in range(0, len(by_instance), 100)]
    for chunk in chunks:
        for task in stack.admin.tasks(process_instance_ids=chunk, definition_key=VERIFY_TASK):
            if task.created is not None:
                opened[by_instance[str(task.process_instance_id)]] = task.created
    return opened


async def _hammer(base_url: str, paths: list[str], *, clients: int, seconds: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=clients)) as c:

        async def client(offset: int) -> None:
            nonlocal errors
            index = offset
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                index += clients
                try:
                    response = await c.get(paths[(index - clients) % len(paths)])
                except httpx.HTTPError:  # a dropped connection is an error of the run, not the end of it
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                errors += response.status_code != 200

        await asyncio.gather(*(client(i) for i in range(clients)))
    return len(latencies), latencies, errors


def plain_service(stack: Stack) -> Service:
    """bench.plain on the stack's spare port, on the application database, like the API."""
    env = stack.api.env if stack.api else {}
    port = stack.ports["spare"]
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.plain:create_app", "--host", "127.0.0.1"]
    service = Service("plain", [*command, "--port", str(port), "--log-level", "warning"], env, stack.work_dir / "p.log")
    service.start()
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2).status_code == 200, within=30, what="plain")
    return service


def publish(stack: Stack, tracking_ids: list[str]) -> None:
    """Make these reports verified (public): what a citizen reads when tracking a report or opening one from the
    public feed is the public view, with description, place, photos and responses, not the limited one of a report
    still waiting for verification. The status alone, as the status worker would write it; their instances stay
    at verification and nothing in the bench moves them on."""
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        with session_scope(db) as session:
            session.execute(
                update(Report)
                .where(Report.tracking_id.in_(tracking_ids))
                .values(status=ReportStatus.TERVERIFIKASI.value, confidential=False)
            )
    finally:
        db.dispose()


def tracking(
    stack: Stack, tracking_ids: list[str], *, clients: int = 20, seconds: float = 15, rounds: int = 2
) -> list[Figure]:
    """GET /reports/{id} of the API (public reports, see `publish`) against bench.plain reading one row; req/s
    and p99 each, at `clients`; then the CPU each read cost the server and the application's PostgreSQL (the
    figure the machine's load does not move). The two take turns, `rounds` times `seconds / rounds` each, so a
    change in the machine's speed during the run falls on both alike."""
    publish(stack, tracking_ids)
    plain = plain_service(stack)
    plain_url = f"http://127.0.0.1:{stack.ports['spare']}"
    database = stack.processes()["app-postgres"]
    assert plain.proc is not None
    targets = {
        "tracking GET /reports/{id} (public report)": (
            stack.api_url,
            [f"/reports/{t}" for t in tracking_ids],
            stack.processes()["api"],
        ),
        "plain FastAPI one-row read": (plain_url, [f"/plain/{t}" for t in tracking_ids], plain.proc.pid),
    }
    counts = dict.fromkeys(targets, 0)
    errors = dict.fromkeys(targets, 0)
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    spent = {name: [0.0, 0.0] for name in targets}  # server, PostgreSQL
    try:
        for base, paths, _ in targets.values():
            asyncio.run(_hammer(base, paths[:5], clients=clients, seconds=2))  # warm-up
        for _ in range(rounds):
            for name, (base, paths, server) in targets.items():
                before = cpu_seconds(server), cpu_seconds(database)
                count, times, failed = asyncio.run(_hammer(base, paths, clients=clients, seconds=seconds / rounds))
                spent[name][0] += cpu_seconds(server) - before[0]
                spent[name][1] += cpu_seconds(database) - before[1]
                counts[name] += count
                errors[name] += failed
                latencies[name] += times
    finally:
        plain.stop()
    figures: list[Figure] = []
    costs: list[Figure] = []
    for name in targets:
        note = f"{clients} clients, {rounds} turns of {seconds / rounds:.0f} s, {errors[name]} non-200"
        figures.append(Figure(name, counts[name] / seconds, "req/s", note=note))
        figures.append(Figure(f"{name} p99", percentile(latencies[name], 0.99) * 1000, "ms", note=note))
        per_read = [1000 * value / max(counts[name], 1) for value in spent[name]]
        costs.append(
            Figure(
                f"{name}: CPU per read",
                sum(per_read),
                "ms",
                note=f"server {per_read[0]:.2f}, PostgreSQL {per_read[1]:.2f}",
            )
        )
    return figures + costs


def footprint(stack: Stack, peak: Mapping[str, float] | None = None) -> list[Figure]:
    """RSS of every process of the stack now (idle), and the peak seen under load if given."""
    now = {name: rss_mb(pid) for name, pid in stack.processes().items()}
    figures = [Figure("memory idle (PSS), whole stack", sum(now.values()), "MiB", note=_parts(now))]
    if peak:
        figures.append(
            Figure("memory under intake load (peak PSS), whole stack", sum(peak.values()), "MiB", note=_parts(peak))
        )
    return figures


def _parts(values: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(values.items()))
