"""A local mail catcher: the SMTP server a local run sends to, so registration codes can be read (never in production).

Each message is logged (`mail.caught`, with recipient, subject and text) and appended to
`<data_dir>/mail/kotak-masuk.txt`; nothing leaves the machine.
"""

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import structlog

_log = structlog.stdlib.get_logger(__name__)

INBOX = Path("mail") / "kotak-masuk.txt"


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class _Inbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw: bytes = getattr(envelope, "original_content", None) or b""
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(("plain",)) if isinstance(message, EmailMessage) else None
        text = body.get_content() if body is not None else ""
        _log.info("mail.caught", to=str(message["To"]), subject=str(message["Subject"]), text=text)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as inbox:
            inbox.write(f"To: {message['To']}\nSubject: {message['Subject']}\n\n{text}\n{'-' * 60}\n")
        return "250 OK"


def start(host: str, port: int, data_dir: Path) -> object | None:
    """Start catching on host:port; None when something already listens there (a real server, another run)."""
    if _listening(host, port):
        return None
    from aiosmtpd.controller import Controller  # a development dependency: only a local run gets here

    controller = Controller(_Inbox(data_dir / INBOX), hostname=host, port=port)
    controller.start()
    return controller
