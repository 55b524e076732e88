"""Transactional outbox: engine commands are rows written with the change that needs them, sent until accepted.

Exactly one process instance per report:

1. the row's dedup key `start:<tracking id>` allows one start command per report;
2. a report that already has its `process_instance_id` is not started again;
3. before every start the dispatcher asks the engine for an instance with the report's business key (the
   tracking id). The engine writes its history in the transaction that creates the instance, so an instance whose
   creation answer was lost (timeout, crash, network) is found on the next attempt and adopted, never doubled.

A report whose instance ended on purpose and must run again (a duplicate's merge undone, lapor.duplicates) gets a
restart command: its dedup key names the ended instance, the report's `process_instance_id` is cleared with it, and
only a *running* instance with the business key is adopted.

Messages (a supplement, the reporter's answer) are correlated by business key. Operaton keeps no message that
nobody waits for, so such a message stays pending and is tried again with backoff, never dropped. Each carries its
id into the instance (`lastMessageId`), so a retry of a correlation whose answer was lost sees it arrived.

An erasure (lapor.erasure) queues one redaction per engine variable that named the reporter: ids, the variable's
name, its redacted value and the digest of the value it replaces, never the identity. Applying one deletes the
variable's history and sets the redacted value again where the instance still holds it (lapor.process.redaction);
a retry has the same effect. The API's login (svc-api) holds DELETE_HISTORY on the report process for it
(lapor.roles).
"""

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import structlog
from sqlalchemy import CursorResult, Engine, and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from lapor.db import session_scope
from lapor.models import OutboxKind, OutboxMessage, Report
from lapor.process import EngineError, EngineUnavailable, VariableRedaction
from lapor.vocabulary import PROCESS_ID, TRACKING_ID_VARIABLE

__all__ = [
    "LAST_MESSAGE_VARIABLE",
    "OutboxDispatcher",
    "ProcessCommands",
    "enqueue_message",
    "enqueue_redaction",
    "enqueue_restart",
    "enqueue_start",
    "pending_count",
]

_log = structlog.stdlib.get_logger(__name__)

LAST_MESSAGE_VARIABLE = "lastMessageId"


class ProcessCommands(Protocol):
    """What the dispatcher asks of the engine (lapor.process.EngineClient, or the fake in unit tests)."""

    def start(self, process_key: str, *, business_key: str, variables: Mapping[str, Any]) -> str: ...

    def find_instance(self, process_key: str, *, business_key: str, running_only: bool = False) -> str | None: ...

    def correlate(self, message: str, *, business_key: str, variables: Mapping[str, Any] | None = None) -> bool: ...

    def variables(self, instance_id: str) -> dict[str, Any]: ...

    def apply_redaction(self, planned: VariableRedaction) -> str: ...


# -- writing (inside the caller's transaction) ----------------------------------------------------------------
def enqueue_start(session: Session, *, report: Report, variables: dict[str, Any], now: datetime) -> OutboxMessage:
    """The command that starts the report's process; the variables come from lapor.reports.process_variables."""
    payload = {"process_key": PROCESS_ID, "business_key": report.tracking_id, "variables": variables}
    return _enqueue(session, OutboxKind.START_PROCESS, f"start:{report.tracking_id}", report, payload, now)


def enqueue_restart(
    session: Session, *, report: Report, variables: dict[str, Any], ended_instance_id: str, now: datetime
) -> OutboxMessage:
    """Start the report's process afresh after `ended_instance_id` ended; the caller clears `process_instance_id`."""
    payload = {
        "process_key": PROCESS_ID,
        "business_key": report.tracking_id,
        "variables": variables,
        "restart_of": ended_instance_id,
    }
    dedup_key = f"restart:{report.tracking_id}:{ended_instance_id}"
    return _enqueue(session, OutboxKind.START_PROCESS, dedup_key, report, payload, now)


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
    payload = {"name": name, "business_key": report.tracking_id, "message_id": message_id, "variables": variables}
    return _enqueue(session, OutboxKind.PUBLISH_MESSAGE, dedup_key, report, payload, now)


def enqueue_redaction(
    session: Session, *, report: Report, redaction: VariableRedaction, erasure_key: str, now: datetime
) -> OutboxMessage:
    """Take an erased identity out of one engine variable of the report's instance; `erasure_key` names the erasure
    (one row per erasure and variable)."""
    dedup_key = f"redact:{erasure_key}:{redaction.variable_id}"
    return _enqueue(session, OutboxKind.REDACT_VARIABLE, dedup_key, report, redaction.to_payload(), now)


def _enqueue(
    session: Session, kind: OutboxKind, dedup_key: str, report: Report, payload: dict[str, Any], now: datetime
) -> OutboxMessage:
    """A row due now, in the caller's transaction: it commits with the change that asked for it."""
    message = OutboxMessage(
        kind=kind.value,
        dedup_key=dedup_key,
        report_id=report.id,
        payload=payload,
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


# -- dispatching -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    report_id: int | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Outcome:
    sent: bool
    in_doubt: bool = False
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxDispatcher:
    """Sends due outbox rows to the engine; several dispatchers may run, each row is claimed by one at a time."""

    def __init__(
        self,
        engine: ProcessCommands,
        db: Engine,
        *,
        clock: Callable[[], datetime] = _utcnow,
        batch_size: int = 50,
        lease: timedelta = timedelta(seconds=30),
        base_delay: timedelta = timedelta(seconds=2),
        max_delay: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
        concurrency: int = 4,
    ) -> None:
        self._engine = engine
        self._db = db
        self._clock = clock
        self._batch_size = batch_size
        self._lease = lease
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._poll_interval = poll_interval
        self._concurrency = max(1, concurrency)
        self._started_at = clock()  # rows written before this moment have a history this process does not know

    def backoff(self, attempts: int) -> timedelta:
        """Exponential: base, 2x base, 4x base, ... capped at max_delay."""
        return min(self._base_delay * (1 << min(max(attempts - 1, 0), 20)), self._max_delay)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; an error is logged and retried, never ends the loop. A pass that sent
        something is followed by the next at once (during a burst of intake the rows that came in meanwhile are
        due); only an idle or failing pass waits the poll interval."""
        _log.info("outbox.dispatcher_started")
        while not stop.is_set():
            busy = False
            try:
                busy = await self.run_once() > 0
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
        return await asyncio.to_thread(self._run_once)

    def send_due(self) -> int:
        """One pass in the caller's thread, for an operator's command (lapor.restore) that has no event loop."""
        return self._run_once()

    def _run_once(self) -> int:
        """The claimed rows side by side, `concurrency` at a time: one engine call waits on the engine's
        transaction (a start runs the model up to its first wait state), so one at a time the dispatcher, not the
        engine, bounds intake. A batch holds at most one row per report (`_claim_due`), so no report's commands
        overtake each other. Each row uses its own database session, hence connections of the pool."""
        rows = self._claim_due(self._clock())
        if self._concurrency == 1 or len(rows) <= 1:
            return sum(self._send(row) for row in rows)
        with ThreadPoolExecutor(min(self._concurrency, len(rows)), thread_name_prefix="outbox") as pool:
            return sum(pool.map(self._send, rows))

    def _send(self, row: _Claimed) -> bool:
        outcome = self._dispatch(row)
        self._record(row, outcome, self._clock())
        return outcome.sent

    # -- one row --------------------------------------------------------------------------------------------
    def _dispatch(self, row: _Claimed) -> _Outcome:
        try:
            if row.kind == OutboxKind.START_PROCESS:
                return self._start(row)
            if row.kind == OutboxKind.PUBLISH_MESSAGE:
                return self._correlate(row)
            if row.kind == OutboxKind.REDACT_VARIABLE:
                return self._redact(row)
            return _Outcome(sent=False, error=f"unknown outbox kind {row.kind!r}")
        except EngineUnavailable as err:  # the command may have run: the next attempt looks before it acts
            return _Outcome(sent=False, in_doubt=True, error=_describe(err))
        except Exception as err:  # an engine refusal or a defect must not stop the other rows
            if not isinstance(err, EngineError):
                _log.exception("outbox.dispatch_error", outbox_id=row.id)
            return _Outcome(sent=False, error=_describe(err))

    def _start(self, row: _Claimed) -> _Outcome:
        payload = row.payload
        process_key = str(payload.get("process_key") or PROCESS_ID)
        tracking_id = str(payload.get("business_key") or payload["variables"][TRACKING_ID_VARIABLE])
        if self._instance_id(row.report_id) is not None:
            _log.info("outbox.start_skipped", outbox_id=row.id, tracking_id=tracking_id)
            return _Outcome(sent=True)
        # A restart must not adopt the instance that ended: only a running one is the answer lost on the way.
        restart = payload.get("restart_of") is not None
        found = None
        if restart or self._may_have_started(row):
            found = self._engine.find_instance(process_key, business_key=tracking_id, running_only=restart)
        if found is not None:
            self._adopt(row, found)
            _log.warning("outbox.start_adopted", outbox_id=row.id, tracking_id=tracking_id, process_instance_id=found)
            return _Outcome(sent=True)
        instance_id = self._engine.start(process_key, business_key=tracking_id, variables=payload["variables"])
        kept = self._adopt(row, instance_id)
        _log.info("outbox.process_started", outbox_id=row.id, tracking_id=tracking_id, process_instance_id=kept)
        return _Outcome(sent=True)

    def _may_have_started(self, row: _Claimed) -> bool:
        """Whether an instance of this start may exist already, so the engine is asked before starting one: an
        earlier claim of the row may have reached the engine (its answer lost, its process killed), or the row is
        older than this dispatcher (written before a crash or a restart, or restored from a backup:
        `python -m lapor.restore` and the API both start with a new dispatcher). A row written while this
        dispatcher runs, on its first claim, has no instance anywhere; asking would cost the engine a history query
        per report (about 6 ms of its CPU, docs/benchmarks.md). The one case this misses is a database restored
        under a running API, which docs/operations.md rules out: the API is stopped before a restore."""
        return row.attempts > 1 or row.created_at < self._started_at

    def _correlate(self, row: _Claimed) -> _Outcome:
        payload = row.payload
        message_id = str(payload["message_id"])
        business_key = str(payload.get("business_key") or payload.get("correlation_key"))
        if row.attempts > 1 and self._already_delivered(row, message_id):
            _log.info("outbox.message_already_delivered", outbox_id=row.id, message_id=message_id)
            return _Outcome(sent=True)
        variables = {**(payload.get("variables") or {}), LAST_MESSAGE_VARIABLE: message_id}
        if not self._engine.correlate(str(payload["name"]), business_key=business_key, variables=variables):
            return _Outcome(sent=False, error=f"nobody waits for {payload['name']} of {business_key} yet")
        _log.info("outbox.message_correlated", outbox_id=row.id, tracking_id=business_key, name=payload["name"])
        return _Outcome(sent=True)

    def _redact(self, row: _Claimed) -> _Outcome:
        planned = VariableRedaction.from_payload(row.payload)
        done = self._engine.apply_redaction(planned)
        _log.info(
            "outbox.variable_redacted",
            outbox_id=row.id,
            process_instance_id=planned.instance_id,
            variable=planned.name,
            outcome=done,
        )
        return _Outcome(sent=True)

    def _already_delivered(self, row: _Claimed, message_id: str) -> bool:
        instance_id = self._instance_id(row.report_id)
        if instance_id is None:
            return False
        try:
            return bool(self._engine.variables(instance_id).get(LAST_MESSAGE_VARIABLE) == message_id)
        except EngineError as err:
            if err.status_code == 404:  # the instance has ended: the message cannot be delivered any more
                return False
            raise

    # -- database -------------------------------------------------------------------------------------------
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
        with session_scope(self._db) as session:
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
                    .values(attempts=attempts, next_attempt_at=now + self.backoff(attempts) + self._lease)
                    .execution_options(synchronize_session=False)
                )
                if cast("CursorResult[Any]", taken).rowcount == 1:
                    claimed.append(
                        _Claimed(row.id, row.kind, dict(row.payload), row.report_id, attempts, row.created_at)
                    )
        return claimed

    def _instance_id(self, report_id: int | None) -> str | None:
        if report_id is None:
            return None
        with session_scope(self._db) as session:
            return session.scalar(select(Report.process_instance_id).where(Report.id == report_id))

    def _adopt(self, row: _Claimed, instance_id: str) -> str:
        """Store the instance id unless the report has one already; return the id the report keeps."""
        with session_scope(self._db) as session:
            session.execute(
                update(Report)
                .where(Report.id == row.report_id, Report.process_instance_id.is_(None))
                .values(process_instance_id=instance_id)
                .execution_options(synchronize_session=False)
            )
            kept = session.scalar(select(Report.process_instance_id).where(Report.id == row.report_id))
        return kept or instance_id

    def _record(self, row: _Claimed, outcome: _Outcome, now: datetime) -> None:
        values: dict[str, Any]
        if outcome.sent:
            values = {"sent_at": now, "in_doubt": False, "last_error": None}
        else:
            delay = self.backoff(row.attempts)
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
        with session_scope(self._db) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _describe(err: BaseException) -> str:
    text = str(err).strip().replace("\n", " ")
    return f"{type(err).__name__}: {text}"[:500] if text else type(err).__name__
