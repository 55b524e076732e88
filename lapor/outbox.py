"""Transactional outbox: engine commands are rows written with the change that needs them, sent until accepted.

Starting a report's process is made idempotent in three layers:

1. the row's dedup key `start:<tracking id>` allows one start command per report;
2. before starting, the dispatcher skips a report that already has its `process_instance_key`;
3. each attempt is marked `in_doubt` *before* `CreateProcessInstance` is sent and cleared when the answer (or
   a rejection that proves nothing was created) arrives. A retry of an attempt in doubt (timeout, lost answer,
   crash) first asks Operate whether an instance with this `reportId` exists and adopts it.

The window left: the engine created the instance, its answer was lost, and Operate has not imported it by the
time of the retry (at least IN_DOUBT_DELAY later). Only then a second instance can start; when its key cannot
be stored because the first was adopted meanwhile, the dispatcher cancels the newer one. Without an instance
finder (Operate unreachable by configuration) layer 3 falls back to starting again.

Messages are published with their message id; Zeebe drops a second message with the same id while the first
is buffered (its time to live), so a retried publish does not correlate twice.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import structlog
from pyzeebe import ZeebeClient, create_insecure_channel
from pyzeebe.errors import (
    InvalidJSONError,
    MessageAlreadyExistsError,
    ProcessDefinitionHasNoStartEventError,
    ProcessDefinitionNotFoundError,
    ProcessInvalidError,
    ZeebeBackPressureError,
)
from sqlalchemy import CursorResult, Engine, and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from lapor.camunda import CamundaRest
from lapor.db import session_scope
from lapor.models import OutboxKind, OutboxMessage, Report
from lapor.reports import PROCESS_ID
from lapor.settings import Settings

__all__ = [
    "IN_DOUBT_DELAY",
    "MESSAGE_TTL",
    "InstanceFinder",
    "OutboxDispatcher",
    "enqueue_message",
    "enqueue_start",
    "operate_instance_finder",
    "pending_count",
]

_log = structlog.stdlib.get_logger(__name__)

MESSAGE_TTL = timedelta(hours=1)  # a reply waits this long for its catch event (the process may be a step behind)
IN_DOUBT_DELAY = timedelta(minutes=1)  # time for Operate to import an instance whose creation answer was lost
# Rejections that prove the engine created nothing: safe to retry without asking Operate.
_NOT_CREATED = (
    ProcessDefinitionNotFoundError,
    ProcessInvalidError,
    ProcessDefinitionHasNoStartEventError,
    InvalidJSONError,
    ZeebeBackPressureError,
)

InstanceFinder = Callable[[str], Awaitable[int | None]]


# -- writing (inside the caller's transaction) ----------------------------------------------------------------
def enqueue_start(session: Session, *, report: Report, variables: dict[str, Any], now: datetime) -> OutboxMessage:
    """The command that starts the report's process; the variables come from lapor.reports.process_variables."""
    message = OutboxMessage(
        kind=OutboxKind.START_PROCESS.value,
        dedup_key=f"start:{report.tracking_id}",
        report_id=report.id,
        payload={"bpmn_process_id": PROCESS_ID, "variables": variables},
        attempts=0,
        in_doubt=False,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def enqueue_message(
    session: Session,
    *,
    report: Report,
    name: str,
    message_id: str,
    variables: dict[str, Any],
    now: datetime,
) -> OutboxMessage | None:
    """A message correlated by the tracking id; None when a message with this id is queued already."""
    dedup_key = f"message:{message_id}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)) is not None:
        return None
    message = OutboxMessage(
        kind=OutboxKind.PUBLISH_MESSAGE.value,
        dedup_key=dedup_key,
        report_id=report.id,
        payload={
            "name": name,
            "correlation_key": report.tracking_id,
            "message_id": message_id,
            "variables": variables,
        },
        attempts=0,
        in_doubt=False,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def pending_count(session: Session) -> int:
    """Rows the engine has not accepted yet (for health checks and tests)."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) or 0


# -- Operate as the witness of an instance whose creation answer was lost ----------------------------------------
def operate_instance_finder(settings: Settings) -> InstanceFinder:
    """Looks up the `lapor-pengaduan` instance of a report by its root variable `reportId` in Operate."""

    def lookup(tracking_id: str) -> int | None:
        with CamundaRest(
            settings.camunda_rest_url, username=settings.camunda_username, password=settings.camunda_password
        ) as rest:
            items = rest.operate_search("variables", name="reportId", value=json.dumps(tracking_id))
        keys = sorted(
            int(item["processInstanceKey"]) for item in items if item.get("scopeKey") == item.get("processInstanceKey")
        )
        if len(keys) > 1:
            _log.error("outbox.duplicate_instances", tracking_id=tracking_id, process_instance_keys=keys)
        return keys[0] if keys else None

    async def find(tracking_id: str) -> int | None:
        return await asyncio.to_thread(lookup, tracking_id)

    return find


# -- dispatching -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    report_id: int | None
    attempts: int
    was_in_doubt: bool


@dataclass(frozen=True, slots=True)
class _Outcome:
    sent: bool
    in_doubt: bool = False
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxDispatcher:
    """Sends due outbox rows to Zeebe; several dispatchers may run, each row is claimed by one at a time."""

    def __init__(
        self,
        zeebe_address: str,
        engine: Engine,
        *,
        find_instance: InstanceFinder | None = None,
        clock: Callable[[], datetime] = _utcnow,
        batch_size: int = 50,
        call_timeout: float = 10.0,
        base_delay: timedelta = timedelta(seconds=2),
        max_delay: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
    ) -> None:
        self.zeebe_address = zeebe_address
        self._engine = engine
        self._find_instance = find_instance
        self._clock = clock
        self._batch_size = batch_size
        self._call_timeout = call_timeout
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._poll_interval = poll_interval

    def backoff(self, attempts: int) -> timedelta:
        """Exponential: base, 2x base, 4x base, ... capped at max_delay."""
        return min(self._base_delay * (1 << min(max(attempts - 1, 0), 20)), self._max_delay)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; an error is logged and retried, never ends the loop."""
        _log.info("outbox.dispatcher_started", zeebe=self.zeebe_address)
        while not stop.is_set():
            busy = False
            try:
                busy = await self.run_once() >= self._batch_size
            except Exception:
                _log.exception("outbox.dispatch_failed")
            if busy:
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._poll_interval)
            except TimeoutError:
                pass
        _log.info("outbox.dispatcher_stopped")

    async def run_once(self) -> int:
        """One pass over the due rows; returns how many the engine accepted."""
        now = self._clock()
        claimed = await asyncio.to_thread(self._claim_due, now)
        if not claimed:
            return 0
        # A fresh channel per pass: pyzeebe closes a channel for good after repeated connection errors.
        channel = create_insecure_channel(grpc_address=self.zeebe_address)
        client = ZeebeClient(channel, max_connection_retries=-1)
        sent = 0
        try:
            for row in claimed:
                outcome = await self._dispatch(client, row)
                await asyncio.to_thread(self._record, row, outcome, self._clock())
                sent += outcome.sent
        finally:
            await channel.close()
        return sent

    # -- one row --------------------------------------------------------------------------------------------
    async def _dispatch(self, client: ZeebeClient, row: _Claimed) -> _Outcome:
        try:
            if row.kind == OutboxKind.START_PROCESS:
                return await self._start(client, row)
            if row.kind == OutboxKind.PUBLISH_MESSAGE:
                return await self._publish(client, row)
            return _Outcome(sent=False, error=f"unknown outbox kind {row.kind!r}")
        except Exception as err:  # an unexpected error must not stop the other rows
            _log.exception("outbox.dispatch_error", outbox_id=row.id)
            return _Outcome(sent=False, in_doubt=row.kind == OutboxKind.START_PROCESS, error=_describe(err))

    async def _start(self, client: ZeebeClient, row: _Claimed) -> _Outcome:
        tracking_id = str(row.payload["variables"]["reportId"])
        existing = await asyncio.to_thread(self._instance_key, row.report_id)
        if existing is not None:
            _log.info("outbox.start_skipped", outbox_id=row.id, process_instance_key=existing)
            return _Outcome(sent=True)
        if row.was_in_doubt and self._find_instance is not None:
            try:
                found = await self._find_instance(tracking_id)
            except Exception as err:
                # Nobody can say whether the last attempt created an instance: do not risk a second one.
                return _Outcome(sent=False, in_doubt=True, error=f"instance lookup failed: {_describe(err)}")
            if found is not None:
                await asyncio.to_thread(self._adopt, row, found)
                _log.warning("outbox.start_adopted", outbox_id=row.id, process_instance_key=found)
                return _Outcome(sent=True)
        try:
            response = await asyncio.wait_for(
                client.run_process(str(row.payload["bpmn_process_id"]), variables=row.payload["variables"]),
                timeout=self._call_timeout,
            )
        except _NOT_CREATED as err:
            return _Outcome(sent=False, in_doubt=False, error=_describe(err))
        except Exception as err:  # timeout, unavailable, internal: the command may have been written
            return _Outcome(sent=False, in_doubt=True, error=_describe(err))
        key = int(response.process_instance_key)
        stored = await asyncio.to_thread(self._adopt, row, key)
        if stored != key:
            # Another attempt's instance was adopted in between: this one is the duplicate.
            _log.error("outbox.duplicate_started", outbox_id=row.id, kept=stored, cancelling=key)
            try:
                await asyncio.wait_for(client.cancel_process_instance(key), timeout=self._call_timeout)
            except Exception:
                _log.exception("outbox.duplicate_cancel_failed", process_instance_key=key)
        _log.info("outbox.process_started", outbox_id=row.id, report_id=row.report_id, process_instance_key=stored)
        return _Outcome(sent=True)

    async def _publish(self, client: ZeebeClient, row: _Claimed) -> _Outcome:
        payload = row.payload
        try:
            await asyncio.wait_for(
                client.publish_message(
                    str(payload["name"]),
                    str(payload["correlation_key"]),
                    variables=payload.get("variables") or {},
                    time_to_live_in_milliseconds=int(MESSAGE_TTL.total_seconds() * 1000),
                    message_id=str(payload["message_id"]),
                ),
                timeout=self._call_timeout,
            )
        except MessageAlreadyExistsError:
            _log.info("outbox.message_duplicate", outbox_id=row.id)
        except Exception as err:
            return _Outcome(sent=False, error=_describe(err))
        _log.info("outbox.message_published", outbox_id=row.id, report_id=row.report_id, name=payload["name"])
        return _Outcome(sent=True)

    # -- database (in worker threads) -----------------------------------------------------------------------
    def _claim_due(self, now: datetime) -> list[_Claimed]:
        """Due rows, oldest first and only the oldest unsent one per report; each claimed by a guarded UPDATE."""
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            and_(
                earlier.report_id == OutboxMessage.report_id,
                earlier.sent_at.is_(None),
                earlier.id < OutboxMessage.id,
            )
        )
        claimed: list[_Claimed] = []
        with session_scope(self._engine) as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now, ~blocked)
                .order_by(OutboxMessage.id)
                .limit(self._batch_size)
            ).all()
            for row in rows:
                attempts = row.attempts + 1
                # The lease: if this process dies mid-call, the row is due again after the backoff.
                taken = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts)
                    .values(
                        attempts=attempts,
                        next_attempt_at=now + self.backoff(attempts) + timedelta(seconds=self._call_timeout),
                        in_doubt=row.kind == OutboxKind.START_PROCESS or row.in_doubt,
                    )
                    .execution_options(synchronize_session=False)
                )
                if cast("CursorResult[Any]", taken).rowcount == 1:
                    claimed.append(_Claimed(row.id, row.kind, dict(row.payload), row.report_id, attempts, row.in_doubt))
        return claimed

    def _instance_key(self, report_id: int | None) -> int | None:
        if report_id is None:
            return None
        with session_scope(self._engine) as session:
            return session.scalar(select(Report.process_instance_key).where(Report.id == report_id))

    def _adopt(self, row: _Claimed, key: int) -> int:
        """Store the instance key unless the report has one already; return the key the report keeps."""
        with session_scope(self._engine) as session:
            session.execute(
                update(Report)
                .where(Report.id == row.report_id, Report.process_instance_key.is_(None))
                .values(process_instance_key=key)
                .execution_options(synchronize_session=False)
            )
            kept = session.scalar(select(Report.process_instance_key).where(Report.id == row.report_id))
        return int(kept) if kept is not None else key

    def _record(self, row: _Claimed, outcome: _Outcome, now: datetime) -> None:
        values: dict[str, Any]
        if outcome.sent:
            values = {"sent_at": now, "in_doubt": False, "last_error": None}
        else:
            delay = self.backoff(row.attempts)
            if outcome.in_doubt and self._find_instance is not None:
                delay = max(delay, IN_DOUBT_DELAY)
            values = {"next_attempt_at": now + delay, "in_doubt": outcome.in_doubt, "last_error": outcome.error}
            _log.warning(
                "outbox.attempt_failed",
                outbox_id=row.id,
                kind=row.kind,
                attempts=row.attempts,
                in_doubt=outcome.in_doubt,
                retry_in_s=int(delay.total_seconds()),
                error=outcome.error,
            )
        with session_scope(self._engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _describe(err: BaseException) -> str:
    text = str(err).strip().replace("\n", " ")
    return f"{type(err).__name__}: {text}"[:500] if text else type(err).__name__
