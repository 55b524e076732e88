"""The e-mail channel: plain-text UTF-8 mail over SMTP."""

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from lapor.notifications.channels.base import Contact, NotificationDeliveryError
from lapor.notifications.templates import RenderedMessage
from lapor.settings import Settings

__all__ = ["EmailChannel", "from_settings"]


def _sender_domain(sender: str) -> str | None:
    """The domain of the From address, for Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    addresses: tuple[Address, ...] = message["From"].addresses
    if not addresses or not addresses[0].domain:
        return None
    return str(addresses[0].domain)


class EmailChannel:
    """Sends plain-text UTF-8 e-mail through one SMTP server: the message's subject and long body."""

    name = "email"
    label = "surel"
    contact = Contact.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._domain = _sender_domain(sender)

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._domain)
        # Quoted-printable keeps the body 7-bit, so no relay on the way needs 8BITMIME.
        message.set_content(body, charset="utf-8", cte="quoted-printable")
        return message

    def send(self, to: str, message: RenderedMessage) -> None:
        """Deliver one message; NotificationDeliveryError if the server cannot be reached or refuses it."""
        self.send_mail(to, message.subject, message.body)

    def send_mail(self, to: str, subject: str, body: str) -> None:
        """Deliver one e-mail with this subject and body (what `send` does with a rendered template)."""
        message = self._message(to, subject, body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # The exception text holds the address; report only the server's codes.
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise NotificationDeliveryError(
                f"SMTP {self.host}:{self.port} refused the recipient (codes {codes})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise NotificationDeliveryError(
                f"SMTP {self.host}:{self.port} answered {exc.smtp_code} ({type(exc).__name__})",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotificationDeliveryError(
                f"SMTP {self.host}:{self.port} unreachable: {type(exc).__name__}: {exc}"
            ) from None


def from_settings(settings: Settings) -> EmailChannel:
    """E-mail is always on: every office and staff notice goes by e-mail."""
    return EmailChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
