"""The delivery channels the notifier may use, one module each, listed once in FACTORIES.

Adding a channel (WhatsApp, a push notice) is a module here with a class that fits `Channel` and a
`from_settings(settings) -> Channel | None`, and one line in FACTORIES.
"""

from collections.abc import Callable

from lapor.notifications.channels import sms_gateway, smtp
from lapor.notifications.channels.base import CHANNEL_NAME_LENGTH, Channel, Contact, NotificationDeliveryError
from lapor.notifications.channels.sms_gateway import SmsGatewayChannel
from lapor.notifications.channels.smtp import EmailChannel
from lapor.settings import Settings

__all__ = [
    "CHANNEL_NAME_LENGTH",
    "FACTORIES",
    "Channel",
    "ChannelFactory",
    "Contact",
    "EmailChannel",
    "NotificationDeliveryError",
    "SmsGatewayChannel",
    "build_channels",
]

# A channel built from settings, or None while its settings leave it off.
ChannelFactory = Callable[[Settings], Channel | None]

# Every channel, in the order a recipient's messages go out: one line per channel.
FACTORIES: tuple[ChannelFactory, ...] = (
    smtp.from_settings,
    sms_gateway.from_settings,
)


def build_channels(settings: Settings) -> list[Channel]:
    """The channels settings turn on, in FACTORIES order (read at call time, so a test may add one)."""
    return [channel for factory in FACTORIES if (channel := factory(settings)) is not None]
