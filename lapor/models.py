"""Database models. Personal data of reporters lives here only, never in process variables."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.BELUM_TERVERIFIKASI: "Belum Terverifikasi",
    ReportStatus.DIKEMBALIKAN: "Dikembalikan",
    ReportStatus.DIKEMBALIKAN_KE_PUSAT: "Dikembalikan ke Admin Pusat",
    ReportStatus.TERVERIFIKASI: "Terverifikasi (belum ditindaklanjuti)",
    ReportStatus.PROSES: "Proses",
    ReportStatus.MENUNGGU_KONFIRMASI: "Menunggu Konfirmasi Pelapor",
    ReportStatus.SELESAI: "Selesai",
    ReportStatus.DITUTUP: "Ditutup",
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


class Report(Base):
    __tablename__ = "reports"

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
    status: Mapped[str] = mapped_column(String(32), default=ReportStatus.BELUM_TERVERIFIKASI.value)
    opd_code: Mapped[str | None] = mapped_column(String(32))
    process_instance_key: Mapped[int | None] = mapped_column(BigInteger)
    # Current SLA due dates, as computed by the deadline worker from the engine clock (for tracking and recaps).
    verification_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completion_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    reporter: Mapped[Reporter | None] = relationship()
    events: Mapped[list["ReportEvent"]] = relationship(back_populates="report", order_by="ReportEvent.id")


class ReportEvent(Base):
    """The timeline: status changes, reminders, escalations, returns. One row per job, however often it runs."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    job_key: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    report: Mapped[Report] = relationship(back_populates="events")


class Notification(Base):
    """Sent-once ledger: the job key is the idempotency key, so a retried job does not send again."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("idempotency_key", "channel", name="uq_notification_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    template: Mapped[str] = mapped_column(String(48))
    recipient_kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    state: Mapped[str] = mapped_column(String(12))  # sending | sent
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RecapDocument(Base):
    __tablename__ = "recap_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
