"""Knobs, each measured before and after on the same stack: maxTasks per fetch, worker loops, HTTP keep-alive,
the cost of HTTP Basic on every REST call, and (with an engine restart on a fresh database) history level and job
acquisition."""

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.loads import Figure, engine_alone, noop_workers, percentile, process_variables
from faults.scenarios import REMINDER_TIMER
from faults.topology import Stack, wait_for
from lapor.process import EngineClient, Job
from lapor.roles import API_ACCOUNT
from lapor.vocabulary import PROCESS_ID


def alternating(runs: list[tuple[str, Callable[[], Figure]]], *, rounds: int = 2) -> list[Figure]:
    """Each run `rounds` times in turn (A B A B ...), so a drift of the machine's load falls on every arm alike;
    one figure per arm: the mean, with every single value and its 1-minute load in the note."""
    measured: dict[str, list[Figure]] = {label: [] for label, _ in runs}
    for _ in range(rounds):
        for label, run in runs:
            measured[label].append(run())
    return [_mean(values, rounds) for values in measured.values()]


def worker_knobs(stack: Stack, *, instances: int) -> list[Figure]:
    """maxTasks 1 vs 10, one loop vs four, keep-alive off vs on: each pair engine-alone runs alternated."""

    def run(label: str, **options: Any) -> Callable[[], Figure]:
        return lambda: engine_alone(stack, label, instances=instances, **options)

    pairs = [
        [("maxTasks 1", run("maxTasks 1", max_tasks=1)), ("maxTasks 10", run("maxTasks 10", max_tasks=10))],
        [("1 worker loop", run("1 worker loop")), ("4 worker loops", run("4 worker loops", loops=4))],
        [("keep-alive", run("starts with keep-alive")), ("no keep-alive", run("no keep-alive", keep_alive=False))],
    ]
    return [figure for pair in pairs for figure in alternating(pair)]


def basic_auth_cost(stack: Stack, *, requests: int = 400) -> list[Figure]:
    """Sequential engine version calls with HTTP Basic (svc-api: user, groups and password checked on every call)
    against the same Tomcat serving a static page without login; the difference bounds what a login costs."""
    static_page = stack.rest_url(0).removesuffix("/engine-rest") + "/operaton/app/welcome/default/"

    def rest_version(scope: ExitStack) -> Callable[[], object]:
        client = scope.enter_context(EngineClient(stack.rest_url(0), user=API_ACCOUNT, password=API_ACCOUNT))
        return client.version

    def static(scope: ExitStack) -> Callable[[], object]:
        client = scope.enter_context(httpx.Client(timeout=30))
        return lambda: client.get(static_page).raise_for_status()

    def run(name: str, make: Callable[[ExitStack], Callable[[], object]]) -> Callable[[], Figure]:
        def measure() -> Figure:
            with ExitStack() as scope:
                call = make(scope)
                for _ in range(20):
                    call()
                latencies = []
                for _ in range(requests):
                    sent = time.perf_counter()
                    call()
                    latencies.append(time.perf_counter() - sent)
            note = f"{requests} sequential requests, keep-alive"
            return Figure(f"{name} p50", percentile(latencies, 0.5) * 1000, "ms", note=note)

        return measure

    targets = {"REST /version with Basic auth": rest_version, "static page, no login": static}
    return alternating([(name, run(name, make)) for name, make in targets.items()], rounds=3)


def timer_throughput(stack: Stack, *, timers: int) -> Figure:
    """Verification reminders of `timers` instances made due at once; seconds until the job executor fired all."""
    assert stack.admin is not None
    admin = stack.admin
    prefix = f"TIMERS-{time.monotonic_ns()}-"
    # The service's workers would fail these reports (no row in the application database): no-op workers only.
    stack.pause_workers()
    try:
        with noop_workers(stack.rest_url(0)):
            instances = {
                admin.start(PROCESS_ID, business_key=key, variables=process_variables(key))
                for key in [f"{prefix}{i}" for i in range(timers)]
            }

            def all_timers() -> list[Job] | None:
                # The job query has no business-key filter: this run's timers are those of its instances.
                found = [j for j in admin.jobs(activity_id=REMINDER_TIMER) if j.process_instance_id in instances]
                return found if len(found) >= timers else None

            jobs = wait_for(all_timers, within=300, interval=0.5, what="reminder timers")
            due = datetime.now(UTC) - timedelta(seconds=1)
            started = time.perf_counter()
            for job in jobs:
                admin.set_job_due_date(job.id, due)
            ids = {job.id for job in jobs}
            wait_for(
                lambda: not ids & {j.id for j in admin.jobs(activity_id=REMINDER_TIMER)},
                within=300,
                interval=0.2,
                what="every reminder fired",
            )
            seconds = time.perf_counter() - started
    finally:
        stack.resume_workers()
    return Figure("timers fired by the job executor", timers / seconds, "timers/s", note=f"{timers} due at once")


def restart_knobs(stack: Stack, *, instances: int, timers: int) -> list[Figure]:
    """History FULL vs AUDIT, job acquisition 3 vs 10 per round, each pair alternated: the engine restarted on a
    fresh database before every run."""

    def run(label: str, env: dict[str, str]) -> list[Callable[[], Figure]]:
        def alone() -> Figure:
            stack.restart_engine(env)
            return engine_alone(stack, label, instances=instances)

        def timed() -> Figure:  # on the engine `alone` just started
            figure = timer_throughput(stack, timers=timers)
            figure.name = f"{figure.name} ({label})"
            return figure

        return [alone, timed]

    figures: list[Figure] = []
    pairs: list[tuple[tuple[str, dict[str, str]], tuple[str, dict[str, str]]]] = [
        (("history full", {}), ("history audit", {"OPERATON_BPM_HISTORYLEVEL": "audit"})),
        (("acquisition 3", {}), ("acquisition 10", {"LAPOR_ENGINE_JOB_ACQUISITION": "10"})),
    ]
    for (label_a, env_a), (label_b, env_b) in pairs:
        measured: dict[str, list[Figure]] = {}
        for _ in range(2):
            for label, env in ((label_a, env_a), (label_b, env_b)):
                for step in run(label, env):
                    figure = step()
                    measured.setdefault(figure.name, []).append(figure)
        figures += [_mean(values, 2) for values in measured.values()]
    return figures


def _mean(values: list[Figure], rounds: int) -> Figure:
    """The mean of one arm, with every single value and its 1-minute load in the note."""
    mean = sum(f.value for f in values) / len(values)
    singles = ", ".join(f"{f.value:.1f} at load {f.load.split()[0]}" for f in values)
    loads = " / ".join(f.load.split()[0] for f in values)
    note = f"{'AB' * rounds} alternated, mean of {singles}; {values[0].note}"
    return Figure(values[0].name, mean, values[0].unit, load=f"1 min: {loads}", note=note)
