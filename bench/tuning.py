"""Knobs, each measured before and after on the same stack: maxTasks per fetch, worker loops, HTTP keep-alive,
the cost of HTTP Basic on every REST call, and (with an engine restart on a fresh database) history level and job
acquisition."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.loads import Figure, engine_alone, noop_workers, percentile, process_variables
from faults.scenarios import REMINDER_TIMER
from faults.stack import Stack, wait_for
from lapor.roles import API_ACCOUNT
from lapor.vocabulary import PROCESS_ID


def worker_knobs(stack: Stack, *, instances: int) -> list[Figure]:
    """maxTasks 1 vs 10 vs 50, one loop vs four, keep-alive off vs on: each an engine-alone run."""
    runs: list[tuple[str, dict[str, int | bool]]] = [
        ("maxTasks 1", {"max_tasks": 1}),
        ("maxTasks 10", {"max_tasks": 10}),
        ("maxTasks 50", {"max_tasks": 50}),
        ("4 worker loops x maxTasks 10", {"loops": 4}),
        ("starts without keep-alive", {"keep_alive": False}),
    ]
    figures = []
    for label, options in runs:
        figures.append(
            engine_alone(
                stack,
                label,
                instances=instances,
                max_tasks=int(options.get("max_tasks", 10)),
                loops=int(options.get("loops", 1)),
                keep_alive=bool(options.get("keep_alive", True)),
            )
        )
    return figures


def basic_auth_cost(stack: Stack, *, requests: int = 400) -> list[Figure]:
    """Sequential GET /engine-rest/version with HTTP Basic (svc-api: user, groups and password checked on every
    call) against the same Tomcat serving a static page without login; the difference bounds what a login costs."""
    figures = []
    base = stack.rest_url(0).removesuffix("/engine-rest")
    targets = {
        "REST /version with Basic auth": ("/engine-rest/version", (API_ACCOUNT, API_ACCOUNT)),
        "static page, no login": ("/operaton/app/welcome/default/", None),
    }
    for name, (path, auth) in targets.items():
        with httpx.Client(base_url=base, auth=auth, timeout=30) as client:
            for _ in range(20):
                client.get(path)
            latencies = []
            for _ in range(requests):
                sent = time.perf_counter()
                client.get(path).raise_for_status()
                latencies.append(time.perf_counter() - sent)
        note = f"{requests} sequential requests, keep-alive"
        figures.append(Figure(f"{name} p50", percentile(latencies, 0.5) * 1000, "ms", note=note))
    return figures


def timer_throughput(stack: Stack, *, timers: int) -> Figure:
    """Verification reminders of `timers` instances made due at once; seconds until the job executor fired all."""
    assert stack.admin is not None
    admin = stack.admin
    prefix = f"TIMERS-{time.monotonic_ns()}-"
    with noop_workers(stack.rest_url(0)):
        for key in [f"{prefix}{i}" for i in range(timers)]:
            admin.start(PROCESS_ID, business_key=key, variables=process_variables(key))

        def all_timers() -> list[dict[str, Any]] | None:
            found = admin.jobs(activityId=REMINDER_TIMER, processInstanceBusinessKeyLike=f"{prefix}%")
            return found if len(found) >= timers else None

        jobs = wait_for(all_timers, within=300, interval=0.5, what="reminder timers")
        due = datetime.now(UTC) - timedelta(seconds=1)
        started = time.perf_counter()
        for job in jobs:
            admin.set_job_due_date(job["id"], due)
        ids = {job["id"] for job in jobs}
        wait_for(
            lambda: not ids & {j["id"] for j in admin.jobs(activityId=REMINDER_TIMER)},
            within=300,
            interval=0.2,
            what="every reminder fired",
        )
        seconds = time.perf_counter() - started
    return Figure("timers fired by the job executor", timers / seconds, "timers/s", note=f"{timers} due at once")


def restart_knobs(stack: Stack, *, instances: int, timers: int) -> list[Figure]:
    """History FULL vs AUDIT, job acquisition 3 vs 10 per round: the engine restarted on a fresh database each time."""
    figures: list[Figure] = []
    runs = [
        ("history full, acquisition 3", {}),
        ("history audit", {"OPERATON_BPM_HISTORYLEVEL": "audit"}),
        ("history full, acquisition 10", {"LAPOR_ENGINE_JOB_ACQUISITION": "10"}),
    ]
    for label, env in runs:
        stack.restart_engine(env)
        figures.append(engine_alone(stack, label, instances=instances))
        figure = timer_throughput(stack, timers=timers)
        figure.name = f"{figure.name} ({label})"
        figures.append(figure)
    return figures
