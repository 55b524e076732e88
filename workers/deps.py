"""What the handlers need, built once from settings by the worker process (tests install their own with `use`)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lapor.db import make_engine, session_scope
from lapor.deadlines import default_calendar, warn_if_holidays_outdated
from lapor.national import NationalAdapter, adapter_from
from lapor.notifications.channels import EmailChannel, SmsGatewayChannel
from lapor.notifications.service import build_channels
from lapor.process import EngineClient
from lapor.settings import Settings
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar


@dataclass
class Deps:
    settings: Settings
    db: Engine
    calendar: WorkingCalendar
    email: EmailChannel | None
    sms: SmsGatewayChannel | None
    national: NationalAdapter
    # The worker's own engine login, for what a task's variables cannot carry (a proof photo's bytes).
    engine: EngineClient | None = None

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.db)

    @property
    def session_factory(self) -> Callable[[], AbstractContextManager[Session]]:
        return partial(session_scope, self.db)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Deps":
        email, sms = build_channels(settings)
        warn_if_holidays_outdated(datetime.now(PONTIANAK_TZ).date())  # at start: is next year's SKB in the calendar?
        return cls(
            settings=settings,
            db=make_engine(settings.database_url),
            calendar=default_calendar(settings),
            email=email,
            sms=sms,
            national=adapter_from(settings),
            engine=EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password),
        )


_current: Deps | None = None


class DepsNotInstalled(RuntimeError):
    """A handler ran before the worker process (or the test) called `use`."""


def use(deps: Deps) -> None:
    """Install what the handlers use: the worker process does it once at start, tests per test."""
    global _current
    _current = deps


def deps() -> Deps:
    if _current is None:
        raise DepsNotInstalled("workers.deps.use(Deps.from_settings(settings)) must run before any handler")
    return _current
