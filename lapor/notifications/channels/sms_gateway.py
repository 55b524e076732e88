"""The SMS channel: the short text POSTed as JSON to an HTTP gateway."""

import httpx

from lapor.notifications.channels.base import Contact, NotificationDeliveryError
from lapor.notifications.templates import RenderedMessage
from lapor.settings import Settings

__all__ = ["SmsGatewayChannel", "from_settings"]


class SmsGatewayChannel:
    """Sends SMS by POSTing {"to": ..., "message": ...} as JSON to an HTTP gateway: the message's short text."""

    name = "sms"
    label = "SMS"
    contact = Contact.PHONE

    def __init__(self, url: str, token: str | None, timeout: float = 10) -> None:
        self.url = url
        self._token = token
        self._timeout = timeout

    def send(self, to: str, message: RenderedMessage) -> None:
        """Deliver one message's SMS text; NotificationDeliveryError on connection errors or a non-2xx answer."""
        self.send_text(to, message.sms)

    def send_text(self, to: str, text: str) -> None:
        """Deliver one SMS with this text."""
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


def from_settings(settings: Settings) -> SmsGatewayChannel | None:
    """SMS is off while no gateway URL is set."""
    if not settings.sms_gateway_url:
        return None
    return SmsGatewayChannel(settings.sms_gateway_url, settings.sms_gateway_token)
