"""What the task functions need, built once from settings (tests install their own with `use`)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lapor.db import make_engine, session_scope
from lapor.deadlines import calendar_from
from lapor.national import NationalAdapter, adapter_from
from lapor.notifications.channels import EmailChannel, SmsGatewayChannel
from lapor.settings import Settings, get_settings
from lapor.workdays import WorkingCalendar


@dataclass
class Deps:
    settings: Settings
    db: Engine
    calendar: WorkingCalendar
    email: EmailChannel | None
    sms: SmsGatewayChannel | None
    national: NationalAdapter

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.db)

    @property
    def session_factory(self) -> Callable[[], AbstractContextManager[Session]]:
        return partial(session_scope, self.db)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Deps":
        return cls(
            settings=settings,
            db=make_engine(settings.database_url),
            calendar=calendar_from(settings),
            email=EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
            ),
            sms=SmsGatewayChannel(settings.sms_gateway_url, settings.sms_gateway_token)
            if settings.sms_gateway_url
            else None,
            national=adapter_from(settings),
        )


_current: Deps | None = None


def use(deps: Deps) -> None:
    global _current
    _current = deps


def deps() -> Deps:
    global _current
    if _current is None:
        _current = Deps.from_settings(get_settings())
    return _current
