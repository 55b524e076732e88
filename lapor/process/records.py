"""What the engine answers, typed: process instances, tasks, jobs, incidents, history rows, deployments.

Operaton's JSON stays inside this package: each record is built from one row of a REST answer by its `_from_row`
and nothing outside `lapor.process` reads the engine's field names.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lapor.process.codec import parse_date

Row = Mapping[str, object]  # one decoded JSON object of a REST answer


def _text(row: Row, name: str) -> str | None:
    value = row.get(name)
    return None if value is None else str(value)


def _required(row: Row, name: str) -> str:
    return str(row[name])


def _moment(row: Row, name: str) -> datetime | None:
    value = row.get(name)
    return parse_date(str(value)) if value else None


def _number(row: Row, name: str) -> int | None:
    value = row.get(name)
    return None if value is None else int(str(value))


@dataclass(frozen=True, slots=True)
class Deployment:
    id: str
    name: str
    resources: list[str]  # what the engine stored anew; empty when nothing changed (duplicate filtering)


@dataclass(frozen=True, slots=True)
class ProcessInstance:
    """A running process instance; the business key is the report's tracking id."""

    id: str
    business_key: str | None
    definition_id: str
    suspended: bool

    @classmethod
    def _from_row(cls, row: Row) -> "ProcessInstance":
        return cls(
            id=_required(row, "id"),
            business_key=_text(row, "businessKey"),
            definition_id=_required(row, "definitionId"),
            suspended=bool(row.get("suspended")),
        )


@dataclass(frozen=True, slots=True)
class HistoricInstance:
    """A process instance as history keeps it, running or finished."""

    id: str
    business_key: str | None
    definition_key: str | None
    definition_id: str | None
    definition_version: int | None
    state: str  # ACTIVE, SUSPENDED, COMPLETED, EXTERNALLY_TERMINATED, INTERNALLY_TERMINATED
    start_time: datetime | None
    end_time: datetime | None

    @classmethod
    def _from_row(cls, row: Row) -> "HistoricInstance":
        return cls(
            id=_required(row, "id"),
            business_key=_text(row, "businessKey"),
            definition_key=_text(row, "processDefinitionKey"),
            definition_id=_text(row, "processDefinitionId"),
            definition_version=_number(row, "processDefinitionVersion"),
            state=str(row.get("state") or ""),
            start_time=_moment(row, "startTime"),
            end_time=_moment(row, "endTime"),
        )


@dataclass(frozen=True, slots=True)
class Task:
    """An open user task as Tasklist shows it."""

    id: str
    name: str | None
    definition_key: str  # the element id in the model (VerifyReportTask, ...)
    process_instance_id: str | None
    assignee: str | None
    owner: str | None
    due: datetime | None
    follow_up: datetime | None
    created: datetime | None
    priority: int | None
    description: str | None

    @classmethod
    def _from_row(cls, row: Row) -> "Task":
        return cls(
            id=_required(row, "id"),
            name=_text(row, "name"),
            definition_key=str(row.get("taskDefinitionKey") or ""),
            process_instance_id=_text(row, "processInstanceId"),
            assignee=_text(row, "assignee"),
            owner=_text(row, "owner"),
            due=_moment(row, "due"),
            follow_up=_moment(row, "followUp"),
            created=_moment(row, "created"),
            priority=_number(row, "priority"),
            description=_text(row, "description"),
        )


@dataclass(frozen=True, slots=True)
class Job:
    """A job of the job executor: a timer waiting for its due date, or an asynchronous continuation."""

    id: str
    process_instance_id: str | None
    job_definition_id: str | None
    due_date: datetime | None
    retries: int
    exception_message: str | None
    suspended: bool

    @classmethod
    def _from_row(cls, row: Row) -> "Job":
        return cls(
            id=_required(row, "id"),
            process_instance_id=_text(row, "processInstanceId"),
            job_definition_id=_text(row, "jobDefinitionId"),
            due_date=_moment(row, "dueDate"),
            retries=_number(row, "retries") or 0,
            exception_message=_text(row, "exceptionMessage"),
            suspended=bool(row.get("suspended")),
        )


@dataclass(frozen=True, slots=True)
class TimerJob:
    """A pending timer and the element of the model it belongs to (a job names only its job definition)."""

    job: Job
    element_id: str | None  # the timer event's id, e.g. VerificationDeadlineTimer

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def process_instance_id(self) -> str | None:
        return self.job.process_instance_id

    @property
    def due_date(self) -> datetime | None:
        return self.job.due_date


@dataclass(frozen=True, slots=True)
class JobRun:
    """One successful run of a job (history's job log), with the engine node (host name) that ran it."""

    job_id: str
    process_instance_id: str | None
    hostname: str | None
    timestamp: datetime | None

    @classmethod
    def _from_row(cls, row: Row) -> "JobRun":
        return cls(
            job_id=_required(row, "jobId"),
            process_instance_id=_text(row, "processInstanceId"),
            hostname=_text(row, "hostname"),
            timestamp=_moment(row, "timestamp"),
        )


@dataclass(frozen=True, slots=True)
class ExternalTaskRun:
    """One successful completion of an external task (history's external task log): which element, when."""

    external_task_id: str
    activity_id: str
    process_instance_id: str | None
    timestamp: datetime | None
    activity_instance_id: str | None = None  # the scope of the task's local variables (its input parameters)

    @classmethod
    def _from_row(cls, row: Row) -> "ExternalTaskRun":
        return cls(
            external_task_id=_required(row, "externalTaskId"),
            activity_id=_required(row, "activityId"),
            process_instance_id=_text(row, "processInstanceId"),
            timestamp=_moment(row, "timestamp"),
            activity_instance_id=_text(row, "activityInstanceId"),
        )


@dataclass(frozen=True, slots=True)
class Incident:
    """Something the engine could not do and waits for an operator on (a failed job or external task)."""

    id: str
    incident_type: str  # failedJob, failedExternalTask
    process_instance_id: str | None
    activity_id: str | None
    message: str | None
    configuration: str | None  # the failed job's or external task's id

    @classmethod
    def _from_row(cls, row: Row) -> "Incident":
        return cls(
            id=_required(row, "id"),
            incident_type=str(row.get("incidentType") or ""),
            process_instance_id=_text(row, "processInstanceId"),
            activity_id=_text(row, "activityId"),
            message=_text(row, "incidentMessage"),
            configuration=_text(row, "configuration"),
        )


@dataclass(frozen=True, slots=True)
class ActivityInstance:
    """One passage of the token through an element (history), ended or not."""

    id: str
    activity_id: str
    activity_name: str | None
    activity_type: str | None
    process_instance_id: str | None
    parent_activity_instance_id: str | None
    start_time: datetime | None
    end_time: datetime | None
    canceled: bool

    @property
    def ended(self) -> bool:
        return self.end_time is not None

    @classmethod
    def _from_row(cls, row: Row) -> "ActivityInstance":
        return cls(
            id=_required(row, "id"),
            activity_id=str(row.get("activityId") or ""),
            activity_name=_text(row, "activityName"),
            activity_type=_text(row, "activityType"),
            process_instance_id=_text(row, "processInstanceId"),
            parent_activity_instance_id=_text(row, "parentActivityInstanceId"),
            start_time=_moment(row, "startTime"),
            end_time=_moment(row, "endTime"),
            canceled=bool(row.get("canceled")),
        )


@dataclass(frozen=True, slots=True)
class ExternalTaskState:
    """An external task as the engine holds it: who has it locked and what its last failure left."""

    id: str
    topic: str
    process_instance_id: str | None
    activity_id: str | None
    worker_id: str | None
    lock_expiration_time: datetime | None
    retries: int | None
    error_message: str | None

    @classmethod
    def _from_row(cls, row: Row) -> "ExternalTaskState":
        return cls(
            id=_required(row, "id"),
            topic=str(row.get("topicName") or ""),
            process_instance_id=_text(row, "processInstanceId"),
            activity_id=_text(row, "activityId"),
            worker_id=_text(row, "workerId"),
            lock_expiration_time=_moment(row, "lockExpirationTime"),
            retries=_number(row, "retries"),
            error_message=_text(row, "errorMessage"),
        )
