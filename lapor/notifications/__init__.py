"""Notifications to reporters, OPD liaisons and staff: Indonesian templates, a list of channels, sent once."""

from lapor.notifications.channels import (
    Channel,
    Contact,
    EmailChannel,
    NotificationDeliveryError,
    SmsGatewayChannel,
    build_channels,
)
from lapor.notifications.service import Notifier, Recipient, resolve_recipients
from lapor.notifications.templates import TEMPLATES, UnknownTemplate, format_due_date, render

__all__ = [
    "TEMPLATES",
    "Channel",
    "Contact",
    "EmailChannel",
    "NotificationDeliveryError",
    "Notifier",
    "Recipient",
    "SmsGatewayChannel",
    "UnknownTemplate",
    "build_channels",
    "format_due_date",
    "render",
    "resolve_recipients",
]
