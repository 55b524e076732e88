"""Delivery channels: e-mail over SMTP and SMS through an HTTP gateway."""

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import httpx

__all__ = ["EmailChannel", "NotificationDeliveryError", "SmsGatewayChannel"]


class NotificationDeliveryError(RuntimeError):
    """A message could not be handed over; technical, so the job is retried.

    The text never contains the recipient's address or number: it ends up in logs and Operate incidents.
    `permanent` is True when the other side refused the message itself (SMTP 5xx, HTTP 4xx), where a retry
    is unlikely to help.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _sender_domain(sender: str) -> str | None:
    """The domain of the From address, for Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    addresses: tuple[Address, ...] = message["From"].addresses
    if not addresses or not addresses[0].domain:
        return None
    return str(addresses[0].domain)


class EmailChannel:
    """Sends plain-text UTF-8 e-mail through one SMTP server."""

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

    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message; NotificationDeliveryError if the server cannot be reached or refuses it."""
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


class SmsGatewayChannel:
    """Sends SMS by POSTing {"to": ..., "message": ...} as JSON to an HTTP gateway."""

    def __init__(self, url: str, token: str | None, timeout: float = 10) -> None:
        self.url = url
        self._token = token
        self._timeout = timeout

    def send(self, to: str, text: str) -> None:
        """Deliver one SMS; NotificationDeliveryError on connection errors or a non-2xx answer."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            response = httpx.post(self.url, json={"to": to, "message": text}, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            # httpx errors name the URL, never the request body, so they are safe to keep.
            raise NotificationDeliveryError(f"SMS gateway unreachable: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            # The answer body may echo the phone number, so only the status goes into the error.
            status = response.status_code
            raise NotificationDeliveryError(
                f"SMS gateway answered HTTP {status}",
                permanent=400 <= status < 500 and status not in (408, 429),
            )
