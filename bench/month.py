"""A simulated month: reports through every path of lapor-pengaduan, staff tasks completed over REST and timers
fired through the job API (the engine clock cannot be moved from outside), with the real workers and the API."""

import functools
import io
import itertools
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from PIL import Image

from bench.loads import Figure
from faults.probes import submit
from faults.topology import Stack, wait_for
from lapor.db import make_engine, session_scope
from lapor.models import Report
from lapor.process import EngineClient, EngineError, NotFound
from lapor.process.codec import File

# (share of a month's reports, name, steps): ("task", element, variables) completes a user task, ("timer", element)
# fires a timer, ("end", element) waits until the instance passed it.
Step = tuple[Any, ...]
VERIFIED = ("task", "VerifyReportTask", {"verificationResult": "lengkap", "verificationNote": ""})
FOLLOW_UP: list[Step] = [
    ("task", "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""}),
    ("task", "OpdResponseTask", {"opdDecision": "tanggapi", "responseText": "Tim akan menambal jalan."}),
    ("task", "OpdCompletionTask", lambda: {"completionText": "Jalan sudah ditambal.", "proofPhotoUpload": _photo()}),
    ("task", "DocumentCompletionTask", {"documented": True, "documentationNote": "OK"}),
    ("timer", "ConfirmationDeadlineTimer"),
    ("end", "FollowUpAutoCompletedEndEvent"),
]
PATHS: list[tuple[int, str, list[Step]]] = [
    (55, "completed, no answer from the reporter", [VERIFIED, *FOLLOW_UP]),
    (
        15,
        "verification late: reminder and escalation, then completed",
        [("timer", "VerificationReminderTimer"), ("timer", "VerificationDeadlineTimer"), VERIFIED, *FOLLOW_UP],
    ),
    (
        10,
        "incomplete, never supplemented: closed",
        [
            ("task", "VerifyReportTask", {"verificationResult": "tidak_lengkap", "verificationNote": "Foto buram"}),
            ("timer", "SupplementDeadlineTimer"),
            ("end", "ReportClosedEndEvent"),
        ],
    ),
    (
        10,
        "not the city's: returned to Admin Pusat",
        [
            ("task", "VerifyReportTask", {"verificationResult": "bukan_kewenangan", "verificationNote": "Jalan tol"}),
            ("end", "ReturnedToNationalEndEvent"),
        ],
    ),
    (
        10,
        "OPD late: reminders and escalations on response and completion",
        [
            VERIFIED,
            FOLLOW_UP[0],
            ("timer", "ResponseReminderTimer"),
            ("timer", "ResponseDeadlineTimer"),
            FOLLOW_UP[1],
            ("timer", "CompletionReminderTimer"),
            ("timer", "CompletionDeadlineTimer"),
            *FOLLOW_UP[2:],
        ],
    ),
]


def _instance(stack: Stack, tracking_id: str) -> str:
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:

        def probe() -> str | None:
            with session_scope(db) as session:
                report = session.query(Report).filter(Report.tracking_id == tracking_id).one()
                return report.process_instance_id

        return str(wait_for(probe, within=120, interval=0.3, what=f"the instance of {tracking_id}"))
    finally:
        db.dispose()


_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _retrying(call: Callable[[], None]) -> None:
    """As a person in Tasklist would: a worker finished a task of the same instance at that moment, so again.

    The race shows either as optimistic locking ("updated concurrently") or, on PostgreSQL, as a deadlock the
    database breaks by rolling one transaction back (a persistence exception, HTTP 500; seen 3 times in a
    1,000-report month): in both cases nothing was changed and the task is still open."""
    for attempt in range(10):
        try:
            call()
            return
        except EngineError as err:
            lost_race = any(sign in str(err) for sign in ("concurrently", "persistence layer", "deadlock"))
            if not lost_race or attempt == 9:
                raise
            time.sleep(0.2 * (attempt + 1))


_PHOTOS = itertools.count(1)


def _photo() -> File:
    """A new small JPEG for each completion: the engine wants a proof photo, and one never used before. Noise seeded
    by a counter, not a flat colour: flat colours a step apart are the same JPEG once the worker re-encodes them
    (59 colours gave 37 distinct photos), and the worker refuses a photo another report holds."""
    n = next(_PHOTOS)
    image = Image.frombytes("RGB", (64, 48), random.Random(n).randbytes(64 * 48 * 3))  # noqa: S311 - a picture
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return File(out.getvalue(), f"bukti-{n}.jpg", "image/jpeg")


def _step(admin: EngineClient, instance: str, step: Step) -> None:
    kind, element = step[0], step[1]
    if kind == "task":
        for attempt in range(5):  # as a person would: reload Tasklist and complete the task shown now
            task = wait_for(
                lambda: next(iter(admin.tasks(process_instance_id=instance, definition_key=element)), None),
                within=120,
                interval=0.2,
                what=element,
            )
            try:
                variables = step[2]() if callable(step[2]) else step[2]
                _retrying(functools.partial(admin.complete_task, task.id, variables))
                return
            except EngineError as err:  # the task's execution was replaced by a worker's transaction meanwhile
                if attempt == 4 or not (isinstance(err, NotFound) or "perhaps it was deleted" in str(err)):
                    raise
    elif kind == "timer":
        for attempt in range(5):
            job = wait_for(
                lambda: next(iter(admin.jobs(process_instance_id=instance, activity_id=element)), None),
                within=120,
                interval=0.2,
                what=element,
            )
            try:
                _retrying(functools.partial(admin.execute_job, job.id))
                return
            except NotFound:  # the job was replaced (its execution moved on) or has just fired: look again
                if attempt == 4:
                    raise
                if any(a.ended for a in admin.activities(instance, activity_id=element)):
                    return
    else:
        wait_for(
            lambda: any(a.ended for a in admin.activities(instance, activity_id=element)),
            within=120,
            interval=0.3,
            what=element,
        )


def simulate(stack: Stack, *, reports: int, concurrency: int = 8, first_number: int = 500_000) -> list[Figure]:
    """`reports` reports, split over PATHS by share; wall time, reports finished, external tasks per second."""
    assert stack.admin is not None
    admin = stack.admin
    plan: list[list[Step]] = []
    for share, _name, steps in PATHS:
        plan += [steps] * round(reports * share / 100)
    plan = (plan + [PATHS[0][2]] * reports)[:reports]
    tasks_before = admin.count_external_task_runs()
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()

    def one(index: int) -> None:
        try:
            with httpx.Client(base_url=stack.api_url, timeout=60) as client:
                answer = submit(client, first_number + index)
            if answer.tracking_id is None:
                raise RuntimeError(f"HTTP {answer.status}")
            instance = _instance(stack, answer.tracking_id)
            for step in plan[index]:
                _step(admin, instance, step)
            outcomes["finished"] += 1
        except Exception as err:  # one report stuck is a figure, not the end of the month
            # The engine's words, not the URL: ids out, so equal failures count together.
            said = _IDS.sub("<id>", str(err))
            outcomes[f"failed: {type(err).__name__}: {said[:240]}"] += 1

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(len(plan))))
    seconds = time.perf_counter() - started
    tasks_after = admin.count_external_task_runs()
    external = tasks_after - tasks_before
    failed = "; ".join(f"{count}x {what}" for what, count in outcomes.items() if what != "finished")
    note = f"{outcomes['finished']}/{reports} reports finished their path, {concurrency} at a time" + (
        f"; {failed}" if failed else ""
    )
    return [
        Figure("simulated month: wall time", seconds, "s", note=note),
        Figure("simulated month: external tasks", external / seconds, "tasks/s", note=f"{external} tasks completed"),
        Figure("simulated month: reports", outcomes["finished"] / seconds, "reports/s", note=_path_names()),
    ]


def _path_names() -> str:
    return "; ".join(f"{share}% {name}" for share, name, _ in PATHS)
