"""What every handler reads from its task, checked against lapor.vocabulary: a mismatch is a modelling error."""

from datetime import datetime
from enum import Enum
from typing import TypeVar

from lapor.deadlines import SlaRule, rule_from_properties
from lapor.process.tasks import ExternalTask, ModelError
from lapor.vocabulary import (
    ENGINE_NOW_VARIABLE,
    REPORT_TYPE_VARIABLE,
    SLA_PROPERTY,
    TRACKING_ID_VARIABLE,
    Deadline,
    ReportType,
)

E = TypeVar("E", bound=Enum)


def tracking_id(task: ExternalTask) -> str:
    """The report's tracking id (`trackingId`)."""
    value = task.var(TRACKING_ID_VARIABLE)
    if not isinstance(value, str):
        raise ModelError(f"{task.activity_id}: {TRACKING_ID_VARIABLE} is {type(value).__name__}, not a string")
    return value


def report_type(task: ExternalTask) -> ReportType:
    """The report's type (`reportType`), as submitted or as corrected at verification."""
    value = task.var(REPORT_TYPE_VARIABLE)
    try:
        return ReportType(value)
    except ValueError:
        known = ", ".join(t.value for t in ReportType)
        raise ModelError(f"{task.activity_id}: {REPORT_TYPE_VARIABLE}={value!r}; known: {known}") from None


def engine_now(task: ExternalTask) -> datetime:
    """The engine's clock (`engineNow` = `${now()}`), so moving the engine clock moves every deadline."""
    value = task.var(ENGINE_NOW_VARIABLE)
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ModelError(f"{task.activity_id}: {ENGINE_NOW_VARIABLE} must be a Date variable, got {value!r}")
    return value


def due_at(task: ExternalTask, deadline: Deadline) -> datetime:
    """A due date the deadline task computed earlier (`<prefix>DueAt`)."""
    value = task.var(deadline.due_variable)
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ModelError(f"{task.activity_id}: {deadline.due_variable} must be a Date variable, got {value!r}")
    return value


def optional_text(task: ExternalTask, name: str) -> str | None:
    """A text variable the handler can do without (a form field left empty, a variable not set yet)."""
    value = task.variables.get(name)
    return None if value is None or str(value).strip() == "" else str(value)


def sla_rule(task: ExternalTask) -> SlaRule:
    """The SLA a `lapor-deadline` task sets: its `sla`, `length`, `unit` and `reminderWorkingDaysBefore` properties."""
    deadline = deadline_prop(task, SLA_PROPERTY)
    try:
        return rule_from_properties(deadline, task.properties, f"{task.activity_id} ({task.topic})")
    except ValueError as err:
        raise ModelError(str(err)) from err


def deadline_prop(task: ExternalTask, name: str) -> Deadline:
    """A property naming a deadline by its code (`sla`, `deadline`)."""
    code = task.prop(name)
    try:
        return Deadline.from_code(code)
    except ValueError as err:
        raise ModelError(f"{task.activity_id} ({task.topic}): property {name}: {err}") from err


def enum_prop(task: ExternalTask, name: str, kind: type[E]) -> E:
    """A property whose value must be one of an enum's values (`status`, `actor`, `recipient`)."""
    value = task.prop(name)
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(str(member.value) for member in kind)
        raise ModelError(f"{task.activity_id} ({task.topic}): property {name}={value!r}; known: {known}") from None
