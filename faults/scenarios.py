"""The faults, each a bounded run on a started Stack ending in a Verdict: engine down, workers killed, an engine node
killed, the application database restarted."""

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from faults.backup import backup_round
from faults.probes import (
    Answer,
    finished,
    incidents,
    instances_per_key,
    ledger,
    outbox_pending,
    submit,
    waiting_at,
)
from faults.topology import Stack, load_average, wait_for
from lapor.process import EngineClient, Job, JobRun

REMINDER_TIMER = "VerificationReminderTimer"
REMINDER_SENT = "VerificationReminderSentEndEvent"


@dataclass
class Verdict:
    name: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    load: str = ""

    def line(self) -> str:
        shown = ", ".join(f"{key}={value}" for key, value in self.figures.items())
        outcome = "PASS" if self.passed else "FAIL"
        return f"VERDICT {self.name}: {outcome} ({shown}; {self.seconds:.0f} s, load {self.load})"


def _submit_spread(stack: Stack, count: int, seconds: float, first: int, *, clients: int = 8) -> list[Answer]:
    """`count` submissions due evenly over `seconds` (numbered from `first`), sent by up to `clients` at a time so
    a slow answer does not push the later ones out of the window."""
    started = time.monotonic()

    def one(index: int) -> Answer:
        time.sleep(max(0.0, started + seconds * index / count - time.monotonic()))
        return submit(client, first + index)

    with httpx.Client(base_url=stack.api_url, timeout=30) as client, ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(count)))


def _settle(stack: Stack, tracking_ids: list[str], *, within: float) -> tuple[Counter[str], Counter[str]]:
    """Wait (bounded) until every report has its instance waiting at verification; both counts, whatever happened."""
    assert stack.admin is not None
    admin = stack.admin
    wanted = set(tracking_ids)

    def all_waiting() -> bool:
        return wanted <= set(waiting_at(admin))

    try:
        wait_for(all_waiting, within=within, interval=1.0, what="every instance at verification")
    except TimeoutError:
        pass
    per_key = instances_per_key(admin)
    waiting = waiting_at(admin)
    return Counter({k: per_key[k] for k in wanted}), Counter({k: waiting[k] for k in wanted})


def _counts(tracking_ids: list[str], per_key: Counter[str], waiting: Counter[str]) -> dict[str, Any]:
    return {
        "reports": len(tracking_ids),
        "instances": sum(per_key.values()),
        "lost": sum(1 for k in tracking_ids if per_key[k] == 0),
        "duplicated": sum(per_key[k] - 1 for k in tracking_ids if per_key[k] > 1),
        "at_verification": sum(1 for k in tracking_ids if waiting[k] == 1),
    }


class Numbers:
    """Submission numbers unique across the scenarios of one run (each reporter e-mail is new)."""

    def __init__(self) -> None:
        self.next = 1

    def take(self, count: int) -> int:
        first, self.next = self.next, self.next + count
        return first


def engine_down(stack: Stack, numbers: Numbers, *, submissions: int, outage: float) -> Verdict:
    """Every engine node stopped for `outage` s while `submissions` arrive through the API."""
    assert stack.cluster is not None and stack.admin is not None
    started = time.monotonic()
    stack.cluster.stop()
    answers = _submit_spread(stack, submissions, outage * 0.9, numbers.take(submissions))
    time.sleep(max(0.0, outage - (time.monotonic() - started)))
    stack.cluster.start(schema_exists=True)
    tracking_ids = [a.tracking_id for a in answers if a.tracking_id]
    per_key, waiting = _settle(stack, tracking_ids, within=90 + outage)
    figures = {"accepted": len(tracking_ids), **_counts(tracking_ids, per_key, waiting)}
    figures["outbox_pending"] = outbox_pending(stack)
    passed = (
        len(tracking_ids) == submissions
        and figures["instances"] == submissions
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["at_verification"] == submissions
    )
    return Verdict("engine-down", passed, figures, time.monotonic() - started, load_average())


def worker_kills(stack: Stack, numbers: Numbers, *, submissions: int, kills: int, seconds: float) -> Verdict:
    """Workers SIGKILLed `kills` times while `submissions` arrive over `seconds`; the supervisor restarts them."""
    started = time.monotonic()
    mails_before = len(stack.smtp.messages)
    rng = random.Random(13)  # noqa: S311 - which worker dies is not a secret
    stop = threading.Event()

    def killer() -> None:
        for number in range(kills):
            if stop.wait(seconds * (number + 0.5) / kills - (time.monotonic() - started) if number else 0.5):
                return
            rng.choice(stack.worker_services).kill()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    answers = _submit_spread(stack, submissions, seconds, numbers.take(submissions))
    thread.join(timeout=seconds + 5)
    stop.set()
    tracking_ids = [a.tracking_id for a in answers if a.tracking_id]
    per_key, waiting = _settle(stack, tracking_ids, within=120)
    assert stack.admin is not None
    book = ledger(stack)
    mails = stack.smtp.messages[mails_before:]
    seen = Counter((str(m["To"]), str(m["Subject"])) for m in mails)
    figures = {
        **_counts(tracking_ids, per_key, waiting),
        "kills": sum(s.kills for s in stack.worker_services),
        "incidents": incidents(stack.admin),
        "mails": len(mails),
        "duplicate_mails": sum(c - 1 for c in seen.values() if c > 1),
        "ledger_duplicates": book.duplicates,
        "ledger_in_doubt": book.in_doubt,
    }
    passed = (
        len(tracking_ids) == submissions
        and figures["at_verification"] == submissions
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["incidents"] == 0
        and figures["duplicate_mails"] == 0
        and figures["ledger_duplicates"] == 0
        and figures["kills"] >= kills
    )
    return Verdict("worker-kills", passed, figures, time.monotonic() - started, load_average())


def db_restart(stack: Stack, numbers: Numbers, *, submissions: int, down: float) -> Verdict:
    """The application's PostgreSQL stopped for `down` s and started again while submissions keep arriving.

    A client retries a 503 (as Retry-After asks); a 500 or no answer counts against the API.
    """
    assert stack.app_db is not None
    started = time.monotonic()
    window = down * 3  # submissions before, during and after the restart
    statuses: Counter[int] = Counter()
    tracking_ids: list[str] = []

    def restart() -> None:
        assert stack.app_db is not None
        stack.app_db.stop()
        time.sleep(down)
        stack.app_db.start()

    restarter = threading.Timer(down, restart)
    restarter.start()
    first = numbers.take(submissions)
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        for index in range(submissions):
            time.sleep(max(0.0, started + window * index / submissions - time.monotonic()))
            for _attempt in range(30):  # bounded: a client gives up after 30 answers
                answer = submit(client, first + index)
                statuses[answer.status] += 1
                if answer.tracking_id:
                    tracking_ids.append(answer.tracking_id)
                    break
                if answer.status not in (503, 0):
                    break  # a 500 or a refusal: retrying would not be what a client does
                time.sleep(1.0)
    restarter.join(timeout=down + 60)
    per_key, waiting = _settle(stack, tracking_ids, within=120)
    figures = {**{f"http_{code}": count for code, count in sorted(statuses.items())}}
    figures.update(_counts(tracking_ids, per_key, waiting))
    passed = (
        statuses[500] == 0
        and statuses[503] > 0  # the restart was seen, and answered as it should be
        and len(tracking_ids) == submissions
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["at_verification"] == submissions
    )
    return Verdict("db-restart", passed, figures, time.monotonic() - started, load_average())


def restore_pair(stack: Stack, numbers: Numbers, *, submissions: int, seconds: float, gap: float) -> Verdict:
    """Two backups under load, each restored and repaired (faults/backup.py): the engine's database dumped first,
    then the application's first; `submissions` over `seconds` in each, the dumps `gap` s apart."""
    started = time.monotonic()
    figures: dict[str, Any] = {}
    passed = True
    for engine_first in (True, False):
        prefix = "engine_first" if engine_first else "app_first"
        first = numbers.take(submissions)
        shown = backup_round(stack, first, submissions=submissions, seconds=seconds, gap=gap, engine_first=engine_first)
        passed = passed and bool(shown.pop("ok"))
        figures.update({f"{prefix}.{key}": value for key, value in shown.items()})
    return Verdict("restore-pair", passed, figures, time.monotonic() - started, load_average())


def _make_due(admin: EngineClient, jobs: list[Job]) -> None:
    due = datetime.now(UTC) - timedelta(seconds=1)
    for job in jobs:
        admin.set_job_due_date(job.id, due)


def _timer_runs(admin: EngineClient, instances: set[str]) -> list[JobRun]:
    """Successful runs of reminder timer jobs of these instances, each with the node (hostname) that ran it."""
    return [run for run in admin.timer_runs(REMINDER_TIMER) if run.process_instance_id in instances]


def _lock_owners(connection: psycopg.Connection[Any], job_ids: set[str]) -> int:
    """How many of these jobs a job executor has acquired (committed lock)."""
    row = connection.execute(
        "SELECT count(*) FROM act_ru_job WHERE id_ = ANY(%s) AND lock_owner_ IS NOT NULL", (sorted(job_ids),)
    ).fetchone()
    return int(row[0]) if row else 0


def node_kill(stack: Stack, numbers: Numbers, *, submissions: int) -> Verdict:
    """Verification reminders fired by two nodes' job executors: half with both nodes up (they share the timers),
    the other half taken by the second node and that node SIGKILLed while it holds them. To make "while it holds
    them" certain rather than a race with a fast node, the first node is paused (SIGSTOP) so that only the second
    acquires, and the harness holds the instances' execution rows (SELECT ... FOR UPDATE) so that the second node's
    job transactions wait instead of finishing. Then the kill, the rows let go, the first node resumed: it must run
    every job the dead node held once the lock expires, each exactly once, and every instance finish its reminder."""
    assert stack.cluster is not None and stack.admin is not None and len(stack.cluster.members) >= 2
    admin = stack.admin
    first_node, victim = stack.cluster.members[0], stack.cluster.members[1]
    started = time.monotonic()
    answers = _submit_spread(stack, submissions, submissions / 20, numbers.take(submissions))
    tracking_ids = {a.tracking_id for a in answers if a.tracking_id}
    _settle(stack, sorted(tracking_ids), within=120)
    keys = {i.id: str(i.business_key) for i in admin.historic_instances()}
    mine = {instance for instance, key in keys.items() if key in tracking_ids}
    jobs = [j for j in admin.jobs(activity_id=REMINDER_TIMER) if j.process_instance_id in mine]
    shared, orphaned = jobs[: len(jobs) // 2], jobs[len(jobs) // 2 :]

    _make_due(admin, shared)
    shared_ids = {j.id for j in shared}
    wait_for(lambda: shared_ids <= {e.job_id for e in _timer_runs(admin, mine)}, within=90, what="the shared half")
    both_up = Counter(str(e.hostname) for e in _timer_runs(admin, mine))

    orphaned_ids = {j.id for j in orphaned}
    orphaned_instances = sorted({str(j.process_instance_id) for j in orphaned})
    held_by_victim = 0
    first_node.pause()
    try:
        with (
            psycopg.connect(stack.engine_db_url) as holder,
            psycopg.connect(stack.engine_db_url, autocommit=True) as probe,
        ):
            holder.execute(
                "SELECT id_ FROM act_ru_execution WHERE proc_inst_id_ = ANY(%s) FOR UPDATE", (orphaned_instances,)
            )
            # Due long ago (a one-off timeDate timer, so no repeat is computed from it); the job table directly,
            # since the REST API answers on the paused node. The second node finds them within its max wait.
            probe.execute(
                "UPDATE act_ru_job SET duedate_ = TIMESTAMP '2000-01-01 00:00:00' WHERE id_ = ANY(%s)",
                (sorted(orphaned_ids),),
            )
            held_by_victim = wait_for(
                lambda: _lock_owners(probe, orphaned_ids),
                within=60,
                interval=0.05,
                what="the second node taking the second half",
            )
            victim.kill()
        # leaving the block commits the holder's transaction: the rows are free again
    finally:
        first_node.resume()

    def all_done() -> bool:
        done = finished(admin, REMINDER_SENT)
        return all(done[i] >= 1 for i in mine)

    try:
        wait_for(all_done, within=150, interval=1.0, what="every reminder")
    except TimeoutError:
        pass
    done = finished(admin, REMINDER_SENT)
    runs = _timer_runs(admin, mine)
    per_job = Counter(e.job_id for e in runs)
    after_kill = Counter(str(e.hostname) for e in runs if e.job_id in orphaned_ids)
    figures = {
        "reminders": len(jobs),
        "held_by_killed_node": held_by_victim,
        **{f"shared_on_{node}": count for node, count in sorted(both_up.items())},
        **{f"after_kill_on_{node}": count for node, count in sorted(after_kill.items())},
        "finished": sum(1 for i in mine if done[i] >= 1),
        "finished_twice": sum(1 for i in mine if done[i] > 1),
        "jobs_run_twice": sum(1 for c in per_job.values() if c > 1),
        "incidents": incidents(admin),
    }
    passed = (
        len(jobs) == submissions
        and figures["finished"] == len(jobs)
        and figures["finished_twice"] == 0
        and figures["jobs_run_twice"] == 0
        and figures["incidents"] == 0
        and held_by_victim > 0  # the kill caught the second node holding jobs
        and after_kill[first_node.node_name] == len(orphaned)  # the survivor ran all of them
    )
    return Verdict("node-kill", passed, figures, time.monotonic() - started, load_average())
