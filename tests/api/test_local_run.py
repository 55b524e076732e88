"""The newcomer's local run: intake credentials generated once and printed, a mail catcher for the codes."""

import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

from api import mailcatcher
from api.__main__ import local_intake_credentials
from lapor.settings import Settings


def test_local_intake_credentials_are_generated_once(tmp_path: Path) -> None:
    local = Settings(environment="development", data_dir=tmp_path, staff_api_tokens="", national_api_tokens="")
    first = local_intake_credentials(local)
    assert set(first) == {"LAPOR_STAFF_API_TOKENS", "LAPOR_NATIONAL_API_TOKENS", "LAPOR_SMS_WEBHOOK_SECRET"}
    assert local_intake_credentials(local) == first and len(set(first.values())) == 3
    configured = local.model_copy(update={"staff_api_tokens": "milik-operator"})
    assert "LAPOR_STAFF_API_TOKENS" not in local_intake_credentials(configured)
    assert local_intake_credentials(local.model_copy(update={"environment": "production"})) == {}


def test_the_mail_catcher_keeps_the_code(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = mailcatcher.start("127.0.0.1", port, tmp_path)
    assert controller is not None
    try:
        assert mailcatcher.start("127.0.0.1", port, tmp_path) is None  # something listens there already
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.id", "siti@example.id", "Kode"
        message.set_content("Kode verifikasi Anda: 123456")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
    finally:
        controller.stop()  # type: ignore[attr-defined]
    assert "Kode verifikasi Anda: 123456" in (tmp_path / mailcatcher.INBOX).read_text()
