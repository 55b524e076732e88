"""The external-task worker loop: long polling, handlers in threads, lock extension, complete / BPMN error / failure.

Why our own loop and not a client library: see docs in lapor/process/__init__.py. In short, each process has its
own worker id (replicas never unlock each other's tasks), every variable in scope is fetched, a technical failure
counts retries down with backoff on the engine's side, and a modelling error fails at once with no retries.
"""

import asyncio
import os
import socket
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from lapor.process.codec import decode_all, encode_all
from lapor.process.tasks import BpmnError, ExternalTask, Handler, ModelError

log = structlog.get_logger(__name__)

DEFAULT_RETRIES = 5
BACKOFF_BASE_MS = 5_000
BACKOFF_MAX_MS = 300_000


def backoff_ms(retries_left: int, *, total: int = DEFAULT_RETRIES) -> int:
    """Exponential: 5 s, 10 s, 20 s, ... capped at 5 minutes, until the task is out of retries."""
    attempt = max(total - retries_left - 1, 0)
    return int(min(BACKOFF_BASE_MS * 2**attempt, BACKOFF_MAX_MS))


def unique_worker_id(prefix: str = "lapor-workers") -> str:
    """Unique per process: host, pid and a random part, so replicas never share a worker id."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerConfig:
    base_url: str
    user: str
    password: str
    worker_id: str = ""
    max_tasks: int = 10
    lock_ms: int = 60_000
    long_poll_ms: int = 20_000
    retries: int = DEFAULT_RETRIES


# Observers of the loop (workers/health.py): a successful poll, and each finished task with its outcome.
PollObserver = Callable[[], None]
OutcomeObserver = Callable[[str, str], None]  # (topic, outcome: completed | bpmn_error | failed | incident | lost)


class ExternalTaskWorker:
    """Fetches tasks of the handlers' topics and runs each handler in a thread until `stop` is set."""

    def __init__(
        self,
        config: WorkerConfig,
        handlers: Mapping[str, Handler],
        *,
        on_poll: PollObserver | None = None,
        on_outcome: OutcomeObserver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.worker_id = config.worker_id or unique_worker_id()
        self.handlers = dict(handlers)
        self._on_poll = on_poll or (lambda: None)
        self._on_outcome = on_outcome or (lambda topic, outcome: None)
        self._transport = transport
        self._slots = asyncio.Semaphore(config.max_tasks)
        self._running: set[asyncio.Task[None]] = set()

    @property
    def topics(self) -> list[str]:
        return sorted(self.handlers)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; running handlers finish first. Engine outages are waited out."""
        timeout = httpx.Timeout(30.0, read=self.config.long_poll_ms / 1000 + 30)
        async with httpx.AsyncClient(
            base_url=self.config.base_url.rstrip("/"),
            auth=(self.config.user, self.config.password),
            timeout=timeout,
            transport=self._transport,
        ) as http:
            log.info("worker.started", worker_id=self.worker_id, topics=self.topics)
            pause = 1.0
            while not stop.is_set():
                free = await self._free_slots(stop)
                if free == 0:
                    continue
                fetching = asyncio.ensure_future(self._fetch(http, free))
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not fetching.done():  # stop requested during a long poll
                    await self._hand_back(http, fetching)
                    break
                try:
                    tasks = fetching.result()
                except (httpx.HTTPError, _EngineRefused) as err:
                    log.warning("worker.poll_failed", error=str(err)[:300], retry_in_s=pause)
                    await _sleep_or_stop(stop, pause)
                    pause = min(pause * 2, 30.0)
                    continue
                pause = 1.0
                self._on_poll()
                for raw in tasks:
                    await self._slots.acquire()
                    job = asyncio.create_task(self._handle(http, raw))
                    self._running.add(job)
                    job.add_done_callback(self._running.discard)
            if self._running:
                await asyncio.wait(self._running)
            log.info("worker.stopped", worker_id=self.worker_id)

    async def _hand_back(self, http: httpx.AsyncClient, fetching: "asyncio.Future[list[dict[str, Any]]]") -> None:
        """The engine answers a pending long poll even after its client has gone, locking the next tasks for this
        worker id (measured: a report then waits out the whole lock). So the poll is waited for, not cancelled,
        and whatever it locked is unlocked at once for the other workers, unstarted."""
        try:
            tasks = await asyncio.wait_for(fetching, timeout=self.config.long_poll_ms / 1000 + 5)
        except (TimeoutError, httpx.HTTPError, _EngineRefused):
            return
        for raw in tasks:
            try:
                response = await http.post(f"/external-task/{raw['id']}/unlock")
            except httpx.HTTPError as err:
                log.warning("worker.unlock_failed", task_id=raw["id"], error=str(err)[:300])
                continue
            log.info("worker.handed_back", task_id=raw["id"], topic=raw.get("topicName"), status=response.status_code)

    async def _free_slots(self, stop: asyncio.Event) -> int:
        free = self.config.max_tasks - len(self._running)
        if free > 0:
            return free
        await _sleep_or_stop(stop, 0.05)
        return 0

    async def _fetch(self, http: httpx.AsyncClient, max_tasks: int) -> list[dict[str, Any]]:
        body = {
            "workerId": self.worker_id,
            "maxTasks": max_tasks,
            "usePriority": True,
            "asyncResponseTimeout": self.config.long_poll_ms,
            "topics": [
                {"topicName": topic, "lockDuration": self.config.lock_ms, "includeExtensionProperties": True}
                for topic in self.topics
            ],
        }
        response = await http.post("/external-task/fetchAndLock", json=body)
        if response.status_code >= 400:
            raise _EngineRefused(f"fetchAndLock -> {response.status_code}: {response.text[:300]}")
        result: list[dict[str, Any]] = response.json()
        return result

    # -- one task ---------------------------------------------------------------------------------------------
    async def _handle(self, http: httpx.AsyncClient, raw: Mapping[str, Any]) -> None:
        try:
            task = to_task(raw)
            outcome = await self._run_handler(http, task)
            self._on_outcome(task.topic, outcome)
        except Exception:  # never let one task end the loop
            log.exception("worker.task_crashed", task_id=raw.get("id"), topic=raw.get("topicName"))
        finally:
            self._slots.release()

    async def _run_handler(self, http: httpx.AsyncClient, task: ExternalTask) -> str:
        handler = self.handlers[task.topic]
        extender = asyncio.create_task(self._extend_lock_while_running(http, task))
        try:
            result = await asyncio.to_thread(handler, task)
        except BpmnError as err:
            body = {
                "workerId": self.worker_id,
                "errorCode": err.code,
                "errorMessage": err.message[:500],
                "variables": encode_all(err.variables),
            }
            return await self._report(http, task, "bpmnError", body, "bpmn_error")
        except Exception as err:
            return await self._fail(http, task, err)
        finally:
            extender.cancel()
        try:
            variables = encode_all(result or {})
        except TypeError as err:  # the handler returned something the engine cannot hold: a code defect
            return await self._fail(http, task, err)
        return await self._report(
            http, task, "complete", {"workerId": self.worker_id, "variables": variables}, "completed"
        )

    async def _fail(self, http: httpx.AsyncClient, task: ExternalTask, err: Exception) -> str:
        modelling = isinstance(err, ModelError)
        retries_left = 0 if modelling else (self.config.retries if task.retries is None else task.retries) - 1
        retries_left = max(retries_left, 0)
        body = {
            "workerId": self.worker_id,
            "errorMessage": f"{type(err).__name__}: {err}"[:500],
            "errorDetails": "".join(traceback.format_exception(err))[-4000:],
            "retries": retries_left,
            "retryTimeout": 0 if retries_left == 0 else backoff_ms(retries_left, total=self.config.retries),
        }
        log.warning(
            "worker.task_failed",
            topic=task.topic,
            task_id=task.id,
            activity=task.activity_id,
            retries_left=retries_left,
            error=body["errorMessage"],
        )
        outcome = "incident" if retries_left == 0 else "failed"
        return await self._report(http, task, "failure", body, outcome)

    async def _report(
        self, http: httpx.AsyncClient, task: ExternalTask, action: str, body: Mapping[str, Any], outcome: str
    ) -> str:
        for attempt in range(5):
            try:
                response = await http.post(f"/external-task/{task.id}/{action}", json=body)
            except httpx.TransportError as err:
                log.warning("worker.report_retry", task_id=task.id, action=action, error=repr(err))
                await asyncio.sleep(min(2**attempt, 10))
                continue
            if response.status_code < 300:
                log.info("worker.task_done", topic=task.topic, task_id=task.id, outcome=outcome)
                return outcome
            if _concurrent_update(response) and attempt < 4:
                # A timer or a user task moved the same instance at that moment; the engine rolled back only our
                # call, so it is sent again now instead of the task running again after its lock expires.
                log.info("worker.report_retry", task_id=task.id, action=action, error="OptimisticLockingException")
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            # 404: the task is gone (instance cancelled, or its lock expired and another worker has it).
            log.warning(
                "worker.report_refused",
                task_id=task.id,
                action=action,
                status=response.status_code,
                answer=response.text[:300],
            )
            return "lost"
        return "lost"

    async def _extend_lock_while_running(self, http: httpx.AsyncClient, task: ExternalTask) -> None:
        """A handler slower than the lock would lose its task to another worker: extend at half the lock time."""
        while True:
            await asyncio.sleep(self.config.lock_ms / 2000)
            try:
                await http.post(
                    f"/external-task/{task.id}/extendLock",
                    json={"workerId": self.worker_id, "newDuration": self.config.lock_ms},
                )
            except httpx.HTTPError as err:
                log.warning("worker.extend_lock_failed", task_id=task.id, error=repr(err))


class _EngineRefused(RuntimeError):
    """fetchAndLock answered with an error status (credentials, engine starting)."""


def to_task(raw: Mapping[str, Any]) -> ExternalTask:
    """The REST shape of a locked external task, as handlers see it."""
    return ExternalTask(
        id=str(raw["id"]),
        topic=str(raw["topicName"]),
        process_instance_id=str(raw.get("processInstanceId") or ""),
        activity_id=str(raw.get("activityId") or ""),
        business_key=raw.get("businessKey"),
        retries=raw.get("retries"),
        variables=decode_all(raw.get("variables") or {}),
        properties={str(k): str(v) for k, v in (raw.get("extensionProperties") or {}).items()},
    )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def _concurrent_update(response: httpx.Response) -> bool:
    """The engine's answer to a call that lost a race with another transaction on the same instance."""
    if response.status_code != 500:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") == "OptimisticLockingException"
