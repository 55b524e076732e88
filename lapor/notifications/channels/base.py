"""What every delivery channel is: a name for the ledger, the recipient's contact it uses, and `send`."""

from enum import StrEnum
from typing import Protocol

from lapor.notifications.templates import RenderedMessage

__all__ = ["CHANNEL_NAME_LENGTH", "Channel", "Contact", "NotificationDeliveryError"]

CHANNEL_NAME_LENGTH = 8  # Notification.channel


class Contact(StrEnum):
    """The contacts a recipient may have (the fields of `Recipient`); a channel reaches one of them."""

    EMAIL = "email"
    PHONE = "phone"


class NotificationDeliveryError(RuntimeError):
    """A message could not be handed over; technical, so the job is retried.

    The text never contains the recipient's address or number: it ends up in logs and Operate incidents.
    `permanent` is True when the other side refused the message itself (SMTP 5xx, HTTP 4xx), where a retry
    is unlikely to help.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    """One way a message reaches people; the notifier sends each message once per recipient and channel.

    `name` is the ledger's channel code (at most CHANNEL_NAME_LENGTH characters, stable: the ledger keeps it),
    `label` the word the audit trail shows (Bahasa Indonesia), `contact` which of the recipient's contacts it
    sends to. `send` raises NotificationDeliveryError, never with the address in its text.
    """

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def contact(self) -> Contact: ...

    def send(self, to: str, message: RenderedMessage) -> None: ...
