"""Outbox rows after a restore: messages the engine already has, messages it lost, and the starts sent again."""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update

from lapor.db import session_scope
from lapor.models import OutboxKind, OutboxMessage, Report
from lapor.outbox import LAST_MESSAGE_VARIABLE, OutboxDispatcher
from lapor.process import EngineClient, EngineError
from lapor.restore.findings import Finding, Kind, Outcome
from lapor.restore.held import RUNNING, Held


def delivered_messages(engine: EngineClient, db: Engine, only: set[str] | None, outcome: Outcome) -> None:
    """Unsent messages whose id the running instance already carries (`lastMessageId`): marked sent."""
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload, Report.tracking_id, Report.process_instance_id)
            .join(Report, Report.id == OutboxMessage.report_id)
            .where(OutboxMessage.kind == OutboxKind.PUBLISH_MESSAGE.value, OutboxMessage.sent_at.is_(None))
        ).all()
    for row_id, payload, tid, instance_id in rows:
        if instance_id is None or (only is not None and tid not in only):
            continue
        try:
            carried = engine.variables(instance_id).get(LAST_MESSAGE_VARIABLE)
        except EngineError:
            continue  # ended or unknown: the dispatcher tries it and reports it
        if carried != payload.get("message_id"):
            continue
        outcome.findings.append(Finding(tid, Kind.APPLIED, f"message {payload.get('name')} already delivered"))
        if outcome.applied:
            with session_scope(db) as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id)
                    .values(sent_at=datetime.now(UTC), in_doubt=False, last_error=None)
                )


def lost_messages(engine: EngineClient, db: Engine, held: Held, only: set[str] | None, outcome: Outcome) -> None:
    """Messages marked sent that the engine's dump lacks: due again. The instance carries the id of the last message
    it received (`lastMessageId`); the report's later messages, sent since this instance started, never arrived."""
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.created_at, Report.tracking_id)
            .join(Report, Report.id == OutboxMessage.report_id)
            .where(OutboxMessage.kind == OutboxKind.PUBLISH_MESSAGE.value, OutboxMessage.sent_at.is_not(None))
            .order_by(OutboxMessage.id)
        ).all()
    sent: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    waiting: dict[str, str] = {}  # tracking id -> its running instance
    for row_id, payload, created_at, tid in rows:
        running = [i for i in held.instances.get(tid, []) if i.state in RUNNING]
        if (only is None or tid in only) and running and created_at >= (running[0].start_time or created_at):
            sent[tid].append((row_id, payload))
            waiting[tid] = running[0].id
    for tid, messages in sent.items():
        try:
            carried = engine.variables(waiting[tid]).get(LAST_MESSAGE_VARIABLE)
        except EngineError:
            continue  # ended meanwhile: nothing waits for a message
        ids = [payload.get("message_id") for _row_id, payload in messages]
        lost = messages[ids.index(carried) + 1 :] if carried in ids else messages if carried is None else []
        for row_id, payload in lost:
            outcome.findings.append(Finding(tid, Kind.LOST_MESSAGE, f"message {payload.get('name')} queued again"))
            if outcome.applied:
                with session_scope(db) as session:
                    session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row_id)
                        .values(
                            sent_at=None, attempts=0, in_doubt=False, last_error=None, next_attempt_at=datetime.now(UTC)
                        )
                    )


def dispatch_starts(engine: EngineClient, db: Engine, tracking_ids: list[str], outcome: Outcome) -> None:
    """Send the start commands due again now, through the outbox's own dispatcher (it looks before it starts)."""
    dispatcher = OutboxDispatcher(engine, db, concurrency=4, batch_size=200)
    keys = [f"start:{tid}" for tid in tracking_ids]
    for _ in range(20):
        with session_scope(db) as session:
            waiting = session.scalar(
                select(OutboxMessage.id)
                .where(OutboxMessage.dedup_key.in_(keys), OutboxMessage.sent_at.is_(None))
                .limit(1)
            )
        if waiting is None:
            return
        if dispatcher.send_due() == 0:
            break
    with session_scope(db) as session:
        rows = session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.last_error).where(
                OutboxMessage.dedup_key.in_(keys), OutboxMessage.sent_at.is_(None)
            )
        ).all()
    outcome.failed += [f"{key.removeprefix('start:')}: not started yet ({error})" for key, error in rows]
