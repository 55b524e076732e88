"""Database models. Personal data of reporters lives here only, never in process variables."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lapor.db import Base, UtcDateTime


class ReportStatus(StrEnum):
    """Status codes; `label` is what citizens and staff see (the SOP's words)."""

    BELUM_TERVERIFIKASI = "BELUM_TERVERIFIKASI"
    DIKEMBALIKAN = "DIKEMBALIKAN"
    DIKEMBALIKAN_KE_PUSAT = "DIKEMBALIKAN_KE_PUSAT"
    TERVERIFIKASI = "TERVERIFIKASI"
    PROSES = "PROSES"
    MENUNGGU_KONFIRMASI = "MENUNGGU_KONFIRMASI"
    SELESAI = "SELESAI"
    DITUTUP = "DITUTUP"
    # Marked at verification as a duplicate of another open report, whose reporter now follows it (lapor.duplicates).
    DIGABUNGKAN = "DIGABUNGKAN"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


# A report in one of these has left the city's hands: it counts as closed in tracking, Open311, the SLA view.
CLOSED_STATUSES = frozenset(
    {ReportStatus.SELESAI, ReportStatus.DITUTUP, ReportStatus.DIKEMBALIKAN_KE_PUSAT, ReportStatus.DIGABUNGKAN}
)

STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.BELUM_TERVERIFIKASI: "Belum Terverifikasi",
    ReportStatus.DIKEMBALIKAN: "Dikembalikan",
    ReportStatus.DIKEMBALIKAN_KE_PUSAT: "Dikembalikan ke Admin Pusat",
    ReportStatus.TERVERIFIKASI: "Terverifikasi (belum ditindaklanjuti)",
    ReportStatus.PROSES: "Proses",
    ReportStatus.MENUNGGU_KONFIRMASI: "Menunggu Konfirmasi Pelapor",
    ReportStatus.SELESAI: "Selesai",
    ReportStatus.DITUTUP: "Ditutup",
    ReportStatus.DIGABUNGKAN: "Digabungkan",
}


class EventKind(StrEnum):
    STATUS = "status"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    NATIONAL_RETURN = "national_return"


class Reporter(Base):
    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The head of the reporter's own audit chain (lapor.reporter_audit, migration 0011): reads of their identity by
    # staff, exports of their data; as the report's head does for its trail.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audit_head: Mapped[str | None] = mapped_column(String(64))
    # Set when the identity was erased (lapor.erasure, migration 0012): the row stays without name or contact.
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Report(Base):
    __tablename__ = "reports"
    # The nearby search's bounding box and its fallback by kelurahan (lapor.nearby, migration 0012).
    __table_args__ = (
        Index("ix_reports_nearby_point", "category", "latitude", "longitude"),
        Index("ix_reports_nearby_kelurahan", "category", "kelurahan_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"))
    channel: Mapped[str] = mapped_column(String(16))
    report_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    kecamatan_code: Mapped[str] = mapped_column(String(16))
    kelurahan_code: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(300))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # The reporter chose at submission to show their name publicly; off unless they did (issue 10).
    show_reporter_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(32), default=ReportStatus.BELUM_TERVERIFIKASI.value)
    opd_code: Mapped[str | None] = mapped_column(String(32))
    # The engine's id of the report's `lapor-pengaduan` instance, once the outbox has started it.
    process_instance_id: Mapped[str | None] = mapped_column(String(64))
    # Current SLA due dates, as computed by the deadline worker from the engine clock (for tracking and recaps).
    verification_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completion_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The other SOP deadlines people are told about (migration 0008): the reporter's supplement and confirmation
    # windows, the disposition to an OPD and Admin Pengaduan's documentation of the completion.
    supplement_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmation_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disposition_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    documentation_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Added by the citizen and intake API (migration 0002).
    incident_date: Mapped[date | None] = mapped_column(Date)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Staff intake: where the report came in (media_sosial, kotak_pengaduan, tatap_muka, email, ...).
    source: Mapped[str | None] = mapped_column(String(32))
    # Reference of the sending system (SMS gateway message id, national LAPOR! id): intake is idempotent on it.
    external_ref: Mapped[str | None] = mapped_column(String(120), unique=True, index=True)
    # A link to a photo elsewhere (Open311's media_url, https only): stored as given, never fetched by the server.
    media_url: Mapped[str | None] = mapped_column(String(500))
    # The open report this one was merged into as a duplicate (lapor.duplicates, migration 0013); None when undone.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))

    # The head of the report's audit trail (lapor.audit, migration 0009): how many entries it has and the last
    # entry's MAC. Appending locks this row, so the chain never forks; a cut-off tail no longer matches it.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audit_head: Mapped[str | None] = mapped_column(String(64))

    reporter: Mapped[Reporter | None] = relationship()
    events: Mapped[list["ReportEvent"]] = relationship(back_populates="report", order_by="ReportEvent.id")


class ReportEvent(Base):
    """The timeline: status changes, reminders, escalations, returns; one row per external task, retries included."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The engine's id of the external task that wrote the row; None for rows written outside the process.
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    report: Mapped[Report] = relationship(back_populates="events")


class Notification(Base):
    """Sent-once ledger: the external task's id is in the idempotency key, so a retried task does not send again."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("idempotency_key", "channel", name="uq_notification_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    template: Mapped[str] = mapped_column(String(48))
    recipient_kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))  # a channel's name: email, sms (lapor.notifications.channels)
    state: Mapped[str] = mapped_column(String(12))  # sending | sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RecapDocument(Base):
    __tablename__ = "recap_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# -- citizen and intake API ----------------------------------------------------------------------------------


class PhotoKind(StrEnum):
    REPORT = "report"  # sent by the reporter (with the report or a supplement)
    PROOF = "proof"  # uploaded by the OPD as proof of completion


class MessageKind(StrEnum):
    SUPPLEMENT = "supplement"
    CONFIRMATION = "confirmation"
    COMMENT = "comment"
    OPD_RESPONSE = "opd_response"
    OPD_COMPLETION = "opd_completion"
    # Admin Pengaduan's note to the reporter when a report is returned (verificationNote): what to add.
    RETURN_NOTE = "return_note"
    # Admin Pengaduan's note when the proof of completion was documented (documentationNote), for staff.
    DOCUMENTATION_NOTE = "documentation_note"

    @property
    def label(self) -> str:
        """What staff and the reporter read above the message."""
        return {
            "supplement": "Kelengkapan dari pelapor",
            "confirmation": "Konfirmasi pelapor",
            "comment": "Komentar pelapor",
            "opd_response": "Tanggapan OPD",
            "opd_completion": "Laporan penyelesaian OPD",
            "return_note": "Catatan Admin Pengaduan",
            "documentation_note": "Catatan dokumentasi Admin Pengaduan",
        }[self.value]


class OutboxKind(StrEnum):
    START_PROCESS = "start_process"
    PUBLISH_MESSAGE = "publish_message"
    REDACT_VARIABLE = "redact_variable"  # an erased reporter's identity out of one engine variable (lapor.erasure)


class RegistrationCode(Base):
    """A pending registration: the one-time code (hashed) that proves the reporter reads that inbox or phone."""

    __tablename__ = "registration_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A correction's code (lapor.correction, migration 0012): it proves this reporter's new contact, and nothing else.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), index=True)


class ReporterToken(Base):
    """A bearer token of a reporter, stored as its SHA-256 only."""

    __tablename__ = "reporter_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReportMessage(Base):
    """Text exchanged on a report: the reporter's supplements, confirmations and comments, the OPD's responses."""

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    author: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    accepted: Mapped[bool | None] = mapped_column(Boolean)  # confirmations only
    # Satisfaction 1-5, optional, with a confirmation only; private: the reporter and the monthly recap see it.
    rating: Mapped[int | None] = mapped_column(
        SmallInteger, CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="ck_report_messages_rating")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Photo(Base):
    """A re-encoded image stored content-addressed under data_dir/uploads; the row says whose it is."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("report_messages.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """A command for the engine, written in the same transaction as the change that needs it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # True while the outcome of the last start attempt is unknown (in flight, timed out, crashed).
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class RateLimitHit(Base):
    """One counted request of a sliding-window rate limit; the subject (IP, e-mail, ...) is stored hashed."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_window", "bucket", "subject", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadlineStart(Base):
    """Where a report's current SLA started and how long it was, so deadlines can be recomputed (lapor.recompute).

    One row per (report, deadline): a new round (a supplemented report, a re-dispatch) replaces the start.
    """

    __tablename__ = "deadline_starts"
    __table_args__ = (UniqueConstraint("report_id", "deadline", name="uq_deadline_starts_report_deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    deadline: Mapped[str] = mapped_column(String(32))  # Deadline.code
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the engine's clock when the deadline was computed
    days: Mapped[int] = mapped_column(Integer)  # working or calendar days, as working_days says
    # How the model counted the length when the deadline started (the `unit` property); a later model version
    # with another unit does not change a running deadline unless its report is migrated and the task runs again.
    working_days: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    reminder_days_before: Mapped[int | None] = mapped_column(Integer)


class AuditEntry(Base):
    """One action on a report, by a person, a worker or a channel: append-only, chained by a keyed hash (lapor.audit).

    Never holds the reporter's name, e-mail or phone: the actor of a reporter's action is "pelapor".
    """

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("report_id", "seq", name="uq_audit_entries_report_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the report
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when it happened (the engine's time for task actions)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when it entered the trail
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    # Where it came from (an engine operation, a notification), so importing twice records it once.
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ConsentRecord(Base):
    """One consent choice of a reporter, with when and how it was made: append-only, the latest row per (reporter,
    report, choice) is the one in force. A choice about one report names it; a reporter-wide choice does not."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    choice: Mapped[str] = mapped_column(String(32))  # lapor.personal_data.ConsentChoice
    granted: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))  # where it was made: web, staff, sms1708, ...
    # The staff login that wrote the choice down for the reporter (the front desk); None when the reporter chose.
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    # intake, or migration-0011 for the choices of reports older than this table (their report's time).
    origin: Mapped[str] = mapped_column(String(24))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReporterAuditEntry(Base):
    """One action on a reporter rather than a report (staff read their identity, their data was exported), chained
    per reporter by a keyed hash like `AuditEntry` (lapor.reporter_audit). Never holds their name, e-mail or phone."""

    __tablename__ = "reporter_audit_entries"
    __table_args__ = (UniqueConstraint("reporter_id", "seq", name="uq_reporter_audit_entries_reporter_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ReportSupport(Base):
    """A citizen's "Saya juga mengalami" on someone else's public report: once per citizen (lapor.support)."""

    __tablename__ = "report_supports"
    __table_args__ = (UniqueConstraint("report_id", "reporter_id", name="uq_report_supports_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportFollower(Base):
    """A citizen who receives the status notices of someone else's report, never its reporter's identity."""

    __tablename__ = "report_followers"
    __table_args__ = (UniqueConstraint("report_id", "reporter_id", name="uq_report_followers_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
