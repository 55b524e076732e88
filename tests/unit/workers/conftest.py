"""Handlers called directly with their dependencies: an ExternalTask built by hand, the migrated test database,
channels that record."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lapor.deadlines import default_calendar, model_rules
from lapor.models import Report, Reporter, ReportStatus
from lapor.national import NationalAdapter, RecordOnlyAdapter
from lapor.notifications.channels import EmailChannel, SmsGatewayChannel
from lapor.notifications.service import Notifier
from lapor.notifications.templates import RenderedMessage
from lapor.process.tasks import ExternalTask
from lapor.settings import Settings
from lapor.vocabulary import ENGINE_NOW_VARIABLE, REPORT_TYPE_VARIABLE, TRACKING_ID_VARIABLE, Deadline, Topic
from lapor.workdays import PONTIANAK_TZ
from tests.support.builders import report_row
from tests.unit.conftest import SessionFactory
from workers.deps import Deps

# The engine's clock as the codec decodes a Date variable: Thursday 26 November 2026, 10:00 WIB.
ENGINE_NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TRACKING_ID = "PTK-2611-7KQ3MX"
BASE_URL = "https://lapor.pontianak.go.id"
REPORTER_NAME = "Siti Aminah"
REPORTER_EMAIL = "siti.aminah@example.test"
REPORTER_PHONE = "+6281234567890"
ADMIN_EMAIL = "pengaduan@example.test"
KOORDINATOR_EMAIL = "koordinator@example.test"


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PONTIANAK_TZ)


@dataclass
class Email:
    to: str
    subject: str
    body: str


class RecordingEmail(EmailChannel):
    """An SMTP channel that keeps what it would send (the real one: tests/unit/lapor/test_notifications.py)."""

    def __init__(self) -> None:
        super().__init__(host="smtp.invalid", port=25, sender="LAPOR! Pontianak <noreply@pontianak.go.id>")
        self.sent: list[Email] = []

    def send(self, to: str, message: RenderedMessage) -> None:
        self.sent.append(Email(to, message.subject, message.body))


class RecordingSms(SmsGatewayChannel):
    def __init__(self) -> None:
        super().__init__(url="http://sms.invalid/send", token=None)
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, message: RenderedMessage) -> None:
        self.sent.append((to, message.sms))


@dataclass
class Installed:
    """What the handlers get in a test, and what they did with it."""

    deps: Deps
    email: RecordingEmail
    sms: RecordingSms

    @property
    def settings(self) -> Settings:
        return self.deps.settings

    def use_national(self, adapter: NationalAdapter) -> None:
        self.deps.national = adapter


@pytest.fixture
def installed(db_engine: Engine, tmp_path: Path) -> Installed:
    """Deps for the handlers on the test database; tests pass `installed.deps` to the handler they call."""
    settings = Settings(
        public_base_url=BASE_URL,
        admin_email=ADMIN_EMAIL,
        koordinator_email=KOORDINATOR_EMAIL,
        file_signing_key="file-signing-key-for-worker-tests",
        extra_days_off="",
        data_dir=tmp_path,
    )
    email, sms = RecordingEmail(), RecordingSms()
    deps = Deps(
        settings=settings,
        db=db_engine,
        calendar=default_calendar(settings),
        notifier=Notifier((email, sms), settings),
        national=RecordOnlyAdapter(),
    )
    return Installed(deps, email, sms)


@dataclass
class TaskFactory:
    """External tasks as the worker loop hands them over: decoded variables, the task's camunda:properties."""

    counter: int = 0
    ids: list[str] = field(default_factory=list)

    def __call__(
        self,
        topic: Topic,
        properties: Mapping[str, str] | None = None,
        *,
        task_id: str | None = None,
        activity_id: str = "SomeServiceTask",
        **variables: Any,
    ) -> ExternalTask:
        self.counter += 1
        task_id = task_id or f"0f6d{self.counter:04d}-ceea-11f0-9a3b-0242ac120002"
        self.ids.append(task_id)
        # Set at start by the API (lapor.reports.process_variables), as in the real process.
        values: dict[str, Any] = {
            TRACKING_ID_VARIABLE: TRACKING_ID,
            ENGINE_NOW_VARIABLE: ENGINE_NOW,
            REPORT_TYPE_VARIABLE: "pengaduan",
        }
        values.update(variables)
        return ExternalTask(
            id=task_id,
            topic=str(topic),
            process_instance_id="5a1e8c3b-ceea-11f0-9a3b-0242ac120002",
            activity_id=activity_id,
            business_key=TRACKING_ID,
            variables=values,
            properties=dict(properties or {}),
        )


@pytest.fixture
def task() -> TaskFactory:
    return TaskFactory()


def add_report(
    session_factory: SessionFactory,
    *,
    status: ReportStatus = ReportStatus.BELUM_TERVERIFIKASI,
    opd_code: str | None = None,
    with_reporter: bool = True,
) -> Report:
    """The report of TRACKING_ID with its reporter (e-mail and phone), committed and detached."""
    with session_factory() as session:
        reporter = (
            Reporter(name=REPORTER_NAME, email=REPORTER_EMAIL, phone=REPORTER_PHONE, created_at=ENGINE_NOW)
            if with_reporter
            else None
        )
        report = report_row(TRACKING_ID, reporter=reporter, status=status, opd_code=opd_code, created_at=ENGINE_NOW)
        session.add(report)
        session.flush()
        return report


def deadline_properties(code: str) -> dict[str, str]:
    """The properties of the shipped model's `lapor-deadline` task for one deadline (`sla`, `length`, `unit`, …)."""
    rule = model_rules()[Deadline.from_code(code)]
    properties = {"sla": code, "length": str(rule.days), "unit": "working-days" if rule.working_days else "days"}
    if rule.reminder_days_before is not None:
        properties["reminderWorkingDaysBefore"] = str(rule.reminder_days_before)
    return properties
