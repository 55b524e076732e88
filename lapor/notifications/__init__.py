"""Notifications to reporters, OPD liaisons and staff: Indonesian templates, e-mail and SMS, sent once."""

from lapor.notifications.channels import EmailChannel, NotificationDeliveryError, SmsGatewayChannel
from lapor.notifications.service import (
    Recipient,
    RecipientKind,
    build_channels,
    resolve_recipients,
    send_once,
)
from lapor.notifications.templates import TEMPLATES, UnknownTemplate, format_due_date, render

__all__ = [
    "TEMPLATES",
    "EmailChannel",
    "NotificationDeliveryError",
    "Recipient",
    "RecipientKind",
    "SmsGatewayChannel",
    "UnknownTemplate",
    "build_channels",
    "format_due_date",
    "render",
    "resolve_recipients",
    "send_once",
]
