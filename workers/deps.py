"""What the handlers need, built once from settings by the worker process and bound to each handler where the topics
are registered (workers/topics.py); tests build their own."""

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
from lapor.notifications.service import Notifier
from lapor.process import EngineClient
from lapor.settings import Settings
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar


@dataclass
class Deps:
    settings: Settings
    db: Engine
    calendar: WorkingCalendar
    notifier: Notifier  # the channels settings turn on, behind the sent-once ledger
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
        warn_if_holidays_outdated(datetime.now(PONTIANAK_TZ).date())  # at start: is next year's SKB in the calendar?
        return cls(
            settings=settings,
            db=make_engine(settings.database_url),
            calendar=default_calendar(settings),
            notifier=Notifier.from_settings(settings),
            national=adapter_from(settings),
            engine=EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password),
        )
