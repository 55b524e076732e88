"""What a scenario does to the stack and how it looks at the outcome: submissions through the API, and counts read
from the engine's history, the outbox and the notification ledger."""

import io
import time
from collections import Counter
from dataclasses import dataclass

import httpx
from PIL import Image
from sqlalchemy import func, select

from faults.topology import STAFF_TOKEN, Stack
from lapor.db import make_engine, session_scope
from lapor.models import Notification, OutboxMessage
from lapor.process import EngineClient
from lapor.vocabulary import PROCESS_ID

VERIFY_TASK = "VerifyReportTask"
# A located report as the citizens' API takes it (bench.api_concurrency sends these too) ...
REPORT_FIELDS = {
    "title": "Jalan berlubang di depan SDN 12",
    "description": "Lubang besar di badan jalan, sudah dua minggu, membahayakan pengendara motor.",
    "category": "JALAN",
    "address": "Jl. Tanjungpura No. 1",
    "kecamatan": "61.71.01",
    "kelurahan": "61.71.01.1002",
}
# ... and as staff intake takes it: received face to face.
FIELDS = {**REPORT_FIELDS, "report_type": "pengaduan", "source": "tatap_muka"}


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(out, format="JPEG", quality=80)
    return out.getvalue()


_PHOTO = photo()


@dataclass
class Answer:
    status: int
    tracking_id: str | None
    seconds: float


def submit(client: httpx.Client, number: int) -> Answer:
    """One staff-intake report with a photo, as the API receives it; the reporter has an e-mail address."""
    data = {**FIELDS, "reporter_name": f"Warga {number}", "reporter_email": f"warga{number}@example.id"}
    started = time.perf_counter()
    try:
        response = client.post(
            "/intake/staff",
            data=data,
            files=[("photos", (f"foto{number}.jpg", _PHOTO, "image/jpeg"))],
            headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        )
    except httpx.HTTPError:
        return Answer(0, None, time.perf_counter() - started)  # 0: no answer at all
    tracking_id = response.json().get("tracking_id") if response.status_code == 201 else None
    return Answer(response.status_code, tracking_id, time.perf_counter() - started)


def instances_per_key(admin: EngineClient) -> Counter[str]:
    """Instances (running or ended) of lapor-pengaduan per business key, from the engine's history."""
    return Counter(str(i.business_key) for i in admin.historic_instances(PROCESS_ID))


def waiting_at(admin: EngineClient, element_id: str = VERIFY_TASK) -> Counter[str]:
    """Open user tasks of an element, per business key (process instance id mapped through history)."""
    tasks = admin.tasks(process_key=PROCESS_ID, definition_key=element_id)
    keys = {i.id: str(i.business_key) for i in admin.historic_instances(PROCESS_ID)}
    return Counter(keys.get(str(t.process_instance_id), "?") for t in tasks)


def finished(admin: EngineClient, element_id: str) -> Counter[str]:
    """How often each instance passed an element (history), per process instance id."""
    return Counter(str(a.process_instance_id) for a in admin.finished_activities(element_id))


def incidents(admin: EngineClient) -> int:
    return admin.count_incidents()


@dataclass
class Ledger:
    rows: int
    in_doubt: int  # claimed ("sending") and never confirmed
    duplicates: int  # (key, channel) twice: impossible while the unique constraint holds


def ledger(stack: Stack) -> Ledger:
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        with session_scope(db) as session:
            rows = session.scalar(select(func.count()).select_from(Notification)) or 0
            in_doubt = (
                session.scalar(select(func.count()).select_from(Notification).where(Notification.state != "sent")) or 0
            )
            grouped = select(Notification.idempotency_key, Notification.channel).group_by(
                Notification.idempotency_key, Notification.channel
            )
            duplicates = rows - (session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)
    finally:
        db.dispose()
    return Ledger(rows, in_doubt, duplicates)


def outbox_pending(stack: Stack) -> int:
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        with session_scope(db) as session:
            return (
                session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
                or 0
            )
    finally:
        db.dispose()
