"""Notifications: Indonesian templates, real SMTP and HTTP channels, the notifier's list of channels and the
sent-once ledger."""

import email
import email.policy
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select

from lapor import signed_links
from lapor.links import tracking_page_url
from lapor.models import AuditEntry, Notification, Report, Reporter, ReportStatus
from lapor.notifications import channels
from lapor.notifications.channels import (
    Channel,
    Contact,
    EmailChannel,
    NotificationDeliveryError,
    SmsGatewayChannel,
    build_channels,
)
from lapor.notifications.service import CLAIM_LEASE, Notifier, Recipient, report_context, resolve_recipients
from lapor.notifications.templates import (
    TEMPLATES,
    RenderedMessage,
    TemplateContextError,
    UnknownTemplate,
    format_due_date,
    render,
)
from lapor.settings import Settings
from lapor.workdays import PONTIANAK_TZ
from tests.conftest import PushChannel, free_port
from tests.support.builders import report_row
from tests.support.servers import serving
from tests.unit.conftest import SessionFactory

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
# 23:59:59 WIB on Monday 30 November 2026, as the engine hands it over.
DUE_ISO = "2026-11-30T16:59:59Z"
DUE_TEXT = "Senin, 30 November 2026 pukul 23.59 WIB"
REPORTER_NAME = "Siti Aminah"
REPORTER_EMAIL = "siti.aminah@example.test"
REPORTER_PHONE = "+6281234567890"
SETTINGS = Settings(admin_email="pengaduan@example.test", koordinator_email="koordinator@example.test")

EXPECTED_TEMPLATES = {
    "laporan-diterima",
    "laporan-dikembalikan",
    "laporan-dikembalikan-pusat",
    "laporan-ditutup",
    "laporan-didisposisi",
    "laporan-didisposisi-pelapor",
    "hasil-ditolak",
    "tanggapan-opd",
    "hasil-tindak-lanjut",
    "jawaban-opd",
    "laporan-selesai",
    "pengingat",
    "eskalasi",
    "kode-verifikasi",
    "laporan-diikuti",
    "kontak-diubah",
    "laporan-digabungkan",
    "duplikat-digabungkan",
    "penggabungan-dibatalkan",
}


def full_context(**overrides: str) -> dict[str, str]:
    """Every context key with realistic, long-ish values."""
    context = {
        "tracking_id": "LPR-2026-000123",
        "status_label": ReportStatus.TERVERIFIKASI.label,
        "opd_name": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        "opd_short_name": "PDAM Tirta Khatulistiwa",
        "due_date": DUE_ISO,
        "report_url": "https://lapor.pontianak.go.id/lacak/LPR-2026-000123",
        "note": "Mohon lampirkan foto lokasi dan patokan terdekat.",
        "deadline": "opd-completion",
        "code": "482913",
        "changed": "Alamat email",
        "dispatched_by": "Budi Santoso (Kepala Bidang Informasi dan Komunikasi Publik)",
        "title": "Jalan berlubang di depan SDN 12",
        "unfollow_url": "https://lapor.pontianak.go.id/lacak/LPR-2026-000123#ikuti",
        "original_tracking_id": "PTK-2612-7KQ3MX",
        "original_url": "https://lapor.pontianak.go.id/lacak/PTK-2612-7KQ3MX",
    }
    return context | overrides


# -- real servers --------------------------------------------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler keeping every accepted message; can refuse a recipient or fail the next DATA."""

    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    fail_next: bool = False

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        if self.fail_next:
            self.fail_next = False
            return "451 4.3.0 Temporary failure, try again later"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1."""
    handler = Inbox(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def mailer(inbox: Inbox) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=inbox.port, sender=SETTINGS.smtp_sender)


class SmsGateway(ThreadingHTTPServer):
    """A local SMS gateway: records each request and answers with `status`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.requests: list[dict[str, Any]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/sms"


class _GatewayHandler(BaseHTTPRequestHandler):
    server: SmsGateway

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        body = b'{"status": "queued"}' if self.server.status < 300 else b'{"error": "+6281234567890 gagal"}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    with serving(SmsGateway()) as server:
        yield server


# -- database helpers ----------------------------------------------------------------------------------------


def add_report(
    session_factory: SessionFactory,
    *,
    tracking_id: str = "LPR-2026-000123",
    reporter_email: str | None = REPORTER_EMAIL,
    reporter_phone: str | None = None,
    with_reporter: bool = True,
    opd_code: str | None = "PUPR",
) -> Report:
    """A report (with its reporter unless told otherwise), committed and detached."""
    with session_factory() as session:
        reporter = (
            Reporter(name=REPORTER_NAME, email=reporter_email, phone=reporter_phone, created_at=NOW)
            if with_reporter
            else None
        )
        report = report_row(
            tracking_id,
            reporter=reporter,
            status=ReportStatus.PROSES,
            opd_code=opd_code,
            created_at=NOW - timedelta(days=3),
        )
        session.add(report)
        session.flush()
        return report


def ledger(session_factory: SessionFactory) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        return [(row.idempotency_key, row.channel, row.state) for row in rows]


def notifier(*on: Channel | None, settings: Settings = SETTINGS) -> Notifier:
    """A notifier with these channels (None: a channel settings leave off)."""
    return Notifier(tuple(channel for channel in on if channel is not None), settings)


def send(
    session_factory: SessionFactory,
    report: Report | None,
    *,
    key: str = "8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor",
    template: str = "tanggapan-opd",
    recipient_kind: str = "pelapor",
    mailer: EmailChannel | None = None,
    sms: SmsGatewayChannel | None = None,
    **kwargs: Any,
) -> int:
    return notifier(mailer, sms).send_once(
        session_factory=session_factory,
        idempotency_key=key,
        report=report,
        template=template,
        recipient_kind=recipient_kind,
        context={
            "report_url": "https://lapor.pontianak.go.id/lacak/LPR-2026-000123",
            "note": "Sedang dikerjakan.",
        },
        now=NOW,
        **kwargs,
    )


def rendered(subject: str = "Subjek", body: str = "Isi", sms: str = "Halo") -> RenderedMessage:
    return RenderedMessage(subject=subject, body=body, sms=sms)


# -- templates -----------------------------------------------------------------------------------------------


def test_due_date_formatted_in_indonesian_in_pontianak_time() -> None:
    assert format_due_date(datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)) == DUE_TEXT
    assert format_due_date(datetime(2026, 8, 17, 9, 5, tzinfo=PONTIANAK_TZ)) == "Senin, 17 Agustus 2026 pukul 09.05 WIB"
    # 17:30 UTC on a Saturday is already Sunday in Pontianak.
    assert format_due_date(datetime(2027, 1, 2, 17, 30, tzinfo=UTC)) == "Minggu, 3 Januari 2027 pukul 00.30 WIB"
    with pytest.raises(ValueError):
        format_due_date(datetime(2026, 11, 30, 23, 59))


def test_every_named_template_exists_and_renders() -> None:
    assert set(TEMPLATES) == EXPECTED_TEMPLATES
    for name in EXPECTED_TEMPLATES:
        message = render(name, full_context())
        assert message.subject and message.body and message.sms
        assert "{" not in message.subject + message.body + message.sms, name


def test_returned_report_asks_to_complete_by_the_supplement_deadline() -> None:
    message = render("laporan-dikembalikan", full_context())
    assert message.subject == "Laporan LPR-2026-000123 perlu dilengkapi"
    assert f"paling lambat {DUE_TEXT}" in message.body
    assert "Yang perlu dilengkapi:\nMohon lampirkan foto lokasi dan patokan terdekat." in message.body
    assert "laporan akan ditutup" in message.body
    assert "30 Nov 2026 23.59 WIB" in message.sms
    assert message.body.endswith("Mohon tidak membalas pesan ini.")


def test_due_date_accepts_engine_and_preformatted_values() -> None:
    for due in ("2026-11-30T23:59:59+07:00[Asia/Pontianak]", "2026-11-30T23:59:59@Asia/Pontianak", DUE_TEXT):
        assert DUE_TEXT in render("laporan-diterima", full_context(due_date=due)).body


def test_reminder_and_escalation_name_the_deadline() -> None:
    reminder = render("pengingat", full_context(deadline="verification"))
    assert reminder.subject == "Pengingat: batas waktu verifikasi laporan laporan LPR-2026-000123"
    escalation = render("eskalasi", full_context(deadline="opd-response"))
    assert "Batas waktu tanggapan OPD untuk laporan LPR-2026-000123 telah terlewati" in escalation.body
    assert "tetap terbuka" in escalation.body
    # Without a deadline name the message still reads; the note can carry it instead.
    unnamed = render("pengingat", full_context(deadline="", note="Batas waktu verifikasi laporan"))
    assert unnamed.subject == "Pengingat: batas waktu laporan LPR-2026-000123"
    assert "Catatan:\nBatas waktu verifikasi laporan" in unnamed.body


def test_note_is_optional() -> None:
    message = render("laporan-ditutup", full_context(note=""))
    assert "Alasan:" not in message.body
    assert "\n\n\n" not in message.body


def test_sms_variants_fit_in_one_sms() -> None:
    for name in EXPECTED_TEMPLATES:
        sms = render(name, full_context()).sms
        assert len(sms) <= 160, (name, len(sms), sms)


def test_an_sms_only_reporter_reads_what_to_add_too() -> None:
    long_note = (
        "Mohon lampirkan foto lubang dari dekat, patokan terdekat dan nomor rumah di seberangnya agar mudah dicari."
    )
    sms = render("laporan-dikembalikan", full_context(note=long_note)).sms
    assert "Catatan: Mohon lampirkan foto lubang dari dekat, patokan" in sms and sms.endswith("…")
    assert len(sms) <= 160
    assert "Catatan" not in render("laporan-dikembalikan", full_context(note="")).sms


def test_unknown_template_and_missing_values() -> None:
    with pytest.raises(UnknownTemplate) as caught:
        render("laporan-hilang", full_context())
    assert isinstance(caught.value, KeyError)
    with pytest.raises(TemplateContextError, match="due_date"):
        render("laporan-diterima", {"tracking_id": "LPR-1", "status_label": "x", "report_url": "http://x"})


def test_disposition_to_opd_never_carries_reporter_identity(session_factory: SessionFactory) -> None:
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    # A careless caller passing the reporter's data still cannot get it into the OPD's message.
    context = report_context(report) | {
        "due_date": DUE_ISO,
        "report_url": "http://127.0.0.1:8080/tasklist",
        "reporter_name": REPORTER_NAME,
        "name": REPORTER_NAME,
        "email": REPORTER_EMAIL,
        "phone": REPORTER_PHONE,
    }
    message = render("laporan-didisposisi", context)
    assert TEMPLATES["laporan-didisposisi"].required_keys() <= {
        "tracking_id",
        "opd_name",
        "due_date",
        "report_url",
    }
    for text in (message.subject, message.body, message.sms):
        for secret in (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, "Siti"):
            assert secret not in text
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in message.body
    assert "Dinas PUPR" in message.sms


def test_disposition_to_opd_names_who_made_it() -> None:
    message = render("laporan-didisposisi", full_context(dispatched_by="Rina (Analis Pengaduan Publik)"))
    assert "Disposisi oleh: Rina (Analis Pengaduan Publik)" in message.body
    assert "Disposisi oleh" not in render("laporan-didisposisi", full_context(dispatched_by="")).body


def test_the_reporter_hears_which_opd_handles_the_report_and_by_when() -> None:
    message = render("laporan-didisposisi-pelapor", full_context(due_date="2026-12-18T23:59:59+07:00"))
    assert "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu" in message.subject
    assert "paling lambat Jumat, 18 Desember 2026 pukul 23.59 WIB" in message.body


def test_a_rejection_reaches_the_opd_with_the_reporters_reason() -> None:
    message = render("hasil-ditolak", full_context(note="Lubang masih ada di depan nomor 12."))
    assert "Alasan pelapor:\nLubang masih ada di depan nomor 12." in message.body


# -- channels ------------------------------------------------------------------------------------------------


def test_email_channel_delivers_utf8_message(inbox: Inbox, mailer: EmailChannel) -> None:
    body = "Terima kasih — laporan Anda diterima ✓\nJalan Gajah Mada, Pontianak"
    mailer.send("warga@example.test", rendered("Laporan LPR-1 diterima ✓", body))
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "noreply@pontianak.go.id"
    assert envelope.rcpt_tos == ["warga@example.test"]
    message = inbox.messages()[0]
    assert message["Subject"] == "Laporan LPR-1 diterima ✓"
    assert message["From"] == SETTINGS.smtp_sender
    assert message.get_content_charset() == "utf-8"
    # The envelope holds the message as it crossed the wire, with CRLF line ends.
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == body
    assert message["Message-ID"].endswith("@pontianak.go.id>")


def test_email_channel_failures_are_delivery_errors_without_the_address(inbox: Inbox, mailer: EmailChannel) -> None:
    inbox.refused.add(REPORTER_EMAIL)
    with pytest.raises(NotificationDeliveryError) as refused:
        mailer.send(REPORTER_EMAIL, rendered())
    assert refused.value.permanent
    assert REPORTER_EMAIL not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__

    inbox.fail_next = True
    with pytest.raises(NotificationDeliveryError) as temporary:
        mailer.send("warga@example.test", rendered())
    assert not temporary.value.permanent

    closed = EmailChannel(host="127.0.0.1", port=free_port(), sender=SETTINGS.smtp_sender, timeout=2)
    with pytest.raises(NotificationDeliveryError, match="unreachable"):
        closed.send("warga@example.test", rendered())
    assert inbox.envelopes == []


def test_sms_channel_posts_json_with_bearer_token(gateway: SmsGateway) -> None:
    SmsGatewayChannel(gateway.url, "rahasia-token").send(REPORTER_PHONE, rendered(sms="Laporan LPR-1 diterima ✓"))
    assert gateway.requests == [
        {
            "path": "/api/sms",
            "authorization": "Bearer rahasia-token",
            "content_type": "application/json",
            "json": {"to": REPORTER_PHONE, "message": "Laporan LPR-1 diterima ✓"},
        }
    ]


def test_sms_channel_raises_on_http_errors(gateway: SmsGateway) -> None:
    channel = SmsGatewayChannel(gateway.url, None)
    gateway.status = 500
    with pytest.raises(NotificationDeliveryError, match="HTTP 500") as server_error:
        channel.send(REPORTER_PHONE, rendered())
    assert not server_error.value.permanent
    assert REPORTER_PHONE not in str(server_error.value)
    assert gateway.requests[0]["authorization"] is None
    gateway.status = 400
    with pytest.raises(NotificationDeliveryError) as rejected:
        channel.send(REPORTER_PHONE, rendered())
    assert rejected.value.permanent
    with pytest.raises(NotificationDeliveryError, match="unreachable"):
        SmsGatewayChannel(f"http://127.0.0.1:{free_port()}/api/sms", None, timeout=2).send(REPORTER_PHONE, rendered())


# -- recipients ----------------------------------------------------------------------------------------------


def test_resolve_recipients(session_factory: SessionFactory) -> None:
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    forwarded = add_report(session_factory, tracking_id="LPR-2026-000124", with_reporter=False, opd_code=None)
    settings = Settings(admin_email="a@example.test, b@example.test", koordinator_email="k@example.test")
    with session_factory() as session:
        [reporter] = resolve_recipients(session, report, "pelapor", settings)
        assert (reporter.kind, reporter.email, reporter.phone) == ("pelapor", REPORTER_EMAIL, REPORTER_PHONE)
        assert REPORTER_EMAIL not in repr(reporter) and REPORTER_PHONE not in repr(reporter)
        assert resolve_recipients(session, forwarded, "pelapor", settings) == []
        assert resolve_recipients(session, report, "opd", settings) == [
            Recipient(kind="opd", email="pupr@pontianak.go.id", phone=None)
        ]
        assert [r.email for r in resolve_recipients(session, report, "admin-pengaduan", settings)] == [
            "a@example.test",
            "b@example.test",
        ]
        assert [r.email for r in resolve_recipients(session, None, "koordinator", settings)] == ["k@example.test"]
        with pytest.raises(ValueError, match="OPD"):
            resolve_recipients(session, forwarded, "opd", settings)
        with pytest.raises(ValueError):
            resolve_recipients(session, report, "walikota", settings)


def test_build_channels_from_settings() -> None:
    [mailer] = build_channels(Settings(smtp_host="mail.example.test", smtp_port=2525, sms_gateway_url=None))
    assert isinstance(mailer, EmailChannel) and (mailer.host, mailer.port) == ("mail.example.test", 2525)
    both = build_channels(Settings(sms_gateway_url="http://sms.example.test/send", sms_gateway_token="t"))
    assert [(channel.name, channel.contact) for channel in both] == [("email", Contact.EMAIL), ("sms", Contact.PHONE)]
    assert isinstance(both[1], SmsGatewayChannel) and both[1].url == "http://sms.example.test/send"
    notifier = Notifier.from_settings(Settings(sms_gateway_url=None))
    assert notifier.reaches(Contact.EMAIL) and not notifier.reaches(Contact.PHONE)


def test_the_ledger_needs_channel_names_it_can_tell_apart() -> None:
    mailer = EmailChannel(host="127.0.0.1", port=25, sender=SETTINGS.smtp_sender)
    with pytest.raises(ValueError, match="unique"):
        notifier(mailer, EmailChannel(host="127.0.0.2", port=25, sender=SETTINGS.smtp_sender))
    with pytest.raises(ValueError, match="characters"):
        notifier(PushChannel(name="pemberitahuan"))


def test_a_new_channel_is_one_module_and_one_line(
    session_factory: SessionFactory, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    push = PushChannel()
    monkeypatch.setattr(channels, "FACTORIES", (*channels.FACTORIES, lambda settings: push))  # the one line
    settings = SETTINGS.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": inbox.port, "sms_gateway_url": None})
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    notifier = Notifier.from_settings(settings)
    assert notifier.reaches(Contact.PHONE)  # SMS is off, the push channel reaches phones
    for _ in range(2):  # the second time the ledger has both
        notifier.send_once(
            session_factory=session_factory,
            idempotency_key="task-3:pelapor",
            report=report,
            template="laporan-selesai",
            recipient_kind="pelapor",
            context={},
            now=NOW,
        )
    assert len(inbox.envelopes) == 1
    [(to, text)] = push.sent
    assert to == REPORTER_PHONE and text.startswith("LAPOR! Pontianak: laporan LPR-2026-000123 selesai.")
    assert ledger(session_factory) == [("task-3:pelapor", "email", "sent"), ("task-3:pelapor", "push", "sent")]
    with session_factory() as session:
        trail = [json.loads(e.detail) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert [(d["channel"], d["recipient_kind"], d["template"]) for d in trail] == [
        ("email", "pelapor", "laporan-selesai"),
        ("push", "pelapor", "laporan-selesai"),
    ]
    assert trail[1]["text"] == "«laporan-selesai» kepada pelapor lewat notifikasi aplikasi"
    assert REPORTER_PHONE not in json.dumps(trail) and REPORTER_EMAIL not in json.dumps(trail)


# -- sent once -----------------------------------------------------------------------------------------------


def test_send_once_sends_once_per_key(session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel) -> None:
    report = add_report(session_factory)
    assert send(session_factory, report, mailer=mailer) == 1
    assert send(session_factory, report, mailer=mailer) == 0
    assert len(inbox.envelopes) == 1
    message = inbox.messages()[0]
    assert message["To"] == REPORTER_EMAIL
    assert message["Subject"] == "Laporan LPR-2026-000123 sedang ditindaklanjuti"
    assert "ditanggapi oleh Dinas Pekerjaan Umum dan Penataan Ruang" in message.get_content()
    assert "Status: Proses" in message.get_content()
    assert ledger(session_factory) == [("8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor", "email", "sent")]
    # Another task (another key) is another message.
    assert send(session_factory, report, key="c9f0f895-ceea-11f0-9a3b-0242ac120002:pelapor", mailer=mailer) == 1
    assert len(inbox.envelopes) == 2


def test_send_once_uses_every_channel_of_the_reporter(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel, gateway: SmsGateway
) -> None:
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    sms = SmsGatewayChannel(gateway.url, "token")
    assert send(session_factory, report, mailer=mailer, sms=sms) == 2
    assert send(session_factory, report, mailer=mailer, sms=sms) == 0
    assert len(inbox.envelopes) == 1
    assert [r["json"]["to"] for r in gateway.requests] == [REPORTER_PHONE]
    assert gateway.requests[0]["json"]["message"].startswith("LAPOR! Pontianak: laporan LPR-2026-000123")
    # Without a gateway, the e-mail still goes and nothing fails.
    assert send(session_factory, report, key="other-task:pelapor", mailer=mailer, sms=None) == 1


def test_failed_send_then_retry_sends_exactly_once(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel
) -> None:
    report = add_report(session_factory)
    inbox.fail_next = True
    with pytest.raises(NotificationDeliveryError):
        send(session_factory, report, mailer=mailer)
    assert inbox.envelopes == []
    assert ledger(session_factory) == []  # the claim was released, not left "sending"
    assert send(session_factory, report, mailer=mailer) == 1
    assert send(session_factory, report, mailer=mailer) == 0
    assert len(inbox.envelopes) == 1


def test_retry_after_partial_failure_sends_only_what_is_missing(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel, gateway: SmsGateway
) -> None:
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    sms = SmsGatewayChannel(gateway.url, "token")
    gateway.status = 503
    with pytest.raises(NotificationDeliveryError):
        send(session_factory, report, mailer=mailer, sms=sms)
    assert ledger(session_factory) == [("8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor", "email", "sent")]
    gateway.status = 200
    assert send(session_factory, report, mailer=mailer, sms=sms) == 1
    assert len(inbox.envelopes) == 1
    assert len(gateway.requests) == 2  # the failed attempt and the retry


def test_claim_held_by_another_worker_is_skipped_until_its_lease_expires(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel
) -> None:
    report = add_report(session_factory)
    with session_factory() as session:
        session.add(
            Notification(
                idempotency_key="8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor",
                report_id=report.id,
                template="tanggapan-opd",
                recipient_kind="pelapor",
                channel="email",
                state="sending",
                created_at=NOW - timedelta(seconds=5),
            )
        )
    assert send(session_factory, report, mailer=mailer) == 0  # IntegrityError: someone else has it
    assert inbox.envelopes == []
    # A worker that died mid-send leaves its claim; after the lease a retry takes it over.
    later = NOW + CLAIM_LEASE
    result = notifier(mailer).send_once(
        session_factory=session_factory,
        idempotency_key="8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor",
        report=report,
        template="laporan-selesai",
        recipient_kind="pelapor",
        context={"report_url": "http://x"},
        now=later,
    )
    assert result == 1
    assert ledger(session_factory) == [("8f14e45f-ceea-11f0-9a3b-0242ac120002:pelapor", "email", "sent")]
    assert len(inbox.envelopes) == 1


def test_concurrent_workers_send_once(session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel) -> None:
    report = add_report(session_factory)
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            results.append(send(session_factory, report, mailer=mailer))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [0, 0, 0, 1]
    assert len(inbox.envelopes) == 1


def test_several_recipients_of_one_kind_each_get_their_own_key(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel
) -> None:
    report = add_report(session_factory)
    settings = Settings(admin_email="a@example.test,b@example.test")
    for _ in range(2):
        notifier(mailer, settings=settings).send_once(
            session_factory=session_factory,
            idempotency_key="task-7:admin-pengaduan",
            report=report,
            template="pengingat",
            recipient_kind="admin-pengaduan",
            context={"deadline": "verification", "due_date": DUE_ISO, "report_url": "http://x"},
            now=NOW,
        )
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["a@example.test", "b@example.test"]
    assert ledger(session_factory) == [
        ("task-7:admin-pengaduan", "email", "sent"),
        ("task-7:admin-pengaduan:1", "email", "sent"),
    ]


def test_report_without_reporter_sends_nothing(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel
) -> None:
    forwarded = add_report(session_factory, with_reporter=False)
    assert send(session_factory, forwarded, mailer=mailer) == 0
    assert inbox.envelopes == [] and ledger(session_factory) == []


def test_registration_code_to_explicit_recipient(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel, gateway: SmsGateway
) -> None:
    sent = notifier(mailer, SmsGatewayChannel(gateway.url, "token")).send_once(
        session_factory=session_factory,
        idempotency_key="registrasi-41",
        report=None,
        template="kode-verifikasi",
        recipient_kind="pelapor",
        context={"code": "482913"},
        now=NOW,
        recipients=[Recipient(kind="pelapor", email=None, phone=REPORTER_PHONE)],
    )
    assert sent == 1
    assert inbox.envelopes == []
    assert gateway.requests[0]["json"]["message"].startswith("Kode verifikasi LAPOR! Pontianak: 482913.")


def test_unknown_template_fails_before_anything_is_claimed(
    session_factory: SessionFactory, mailer: EmailChannel
) -> None:
    report = add_report(session_factory)
    with pytest.raises(UnknownTemplate):
        send(session_factory, report, template="tidak-ada", mailer=mailer)
    assert ledger(session_factory) == []


def test_notification_log_has_no_personal_data(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    report = add_report(session_factory, reporter_phone=REPORTER_PHONE)
    assert send(session_factory, report, mailer=mailer) == 1
    inbox.refused.add(REPORTER_EMAIL)
    with pytest.raises(NotificationDeliveryError):
        send(session_factory, report, key="next-task:pelapor", mailer=mailer)
    # Only our loggers: the test SMTP server (mail.log) logs recipients itself.
    ours = [record for record in caplog.records if record.name.startswith("lapor")]
    logged = "\n".join(f"{record.msg} {record.args}" for record in ours)
    assert "notification.sent" in logged and "notification.failed" in logged
    for secret in (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE):
        assert secret not in logged


def test_the_reporter_gets_the_tracking_page_and_staff_the_signed_staff_page(
    session_factory: SessionFactory, inbox: Inbox, mailer: EmailChannel, tmp_path: Path
) -> None:
    report = add_report(session_factory, tracking_id="PTK-2611-7KQ3MX")
    settings = Settings(
        public_base_url="https://lapor.pontianak.go.id/",
        admin_email="pengaduan@example.test",
        file_signing_key="kunci-uji",
        data_dir=tmp_path,
    )
    for key, recipient_kind in (("task-9:pelapor", "pelapor"), ("task-9:admin", "admin-pengaduan")):
        notifier(mailer, settings=settings).send_once(
            session_factory=session_factory,
            idempotency_key=key,
            report=report,
            template="laporan-ditutup",
            recipient_kind=recipient_kind,
            # A caller's other address (the JSON API's) is not what a reader can open.
            context={"report_url": "https://lapor.pontianak.go.id/reports/PTK-2611-7KQ3MX"},
            now=NOW,
        )
    assert len(inbox.envelopes) == 2
    bodies = {
        envelope.rcpt_tos[0]: email.message_from_bytes(envelope.content, policy=email.policy.default)
        .get_body()
        .get_content()
        for envelope in inbox.envelopes
    }
    for body in bodies.values():
        assert "lapor.pontianak.go.id/reports/" not in body  # the caller's address is not used
    assert "https://lapor.pontianak.go.id/lacak/PTK-2611-7KQ3MX\r\n" in bodies[REPORTER_EMAIL]
    staff = bodies["pengaduan@example.test"]
    assert "/lacak/" not in staff  # a confidential report's citizen page answers 404
    link = re.search(
        r"https://lapor\.pontianak\.go\.id(/files/reports/PTK-2611-7KQ3MX)\?expires=(\d+)&signature=(\S+)", staff
    )
    assert link is not None
    signed_links.check(link[1], int(link[2]), link[3], key=b"kunci-uji", now=NOW)  # opens the staff page, for 30 days
    assert int(link[2]) == int((NOW + timedelta(days=30)).timestamp())


def test_tracking_page_url() -> None:
    assert (
        tracking_page_url("http://127.0.0.1:8000", "PTK-2611-7KQ3MX") == "http://127.0.0.1:8000/lacak/PTK-2611-7KQ3MX"
    )
    assert tracking_page_url("https://x.id/", "A/B") == "https://x.id/lacak/A%2FB"
