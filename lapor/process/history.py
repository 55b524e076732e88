"""What people did in the engine, typed: the user operation log (claims, completions, reassignments, retries) and
the names of the user tasks those operations touched. The audit trail (lapor.audit) imports these."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from lapor.process.client import EngineClient
from lapor.process.codec import format_date, parse_date

# Logins of the services themselves: what they do is recorded by the application where it happens.
SERVICE_ACCOUNT_PREFIX = "svc-"


@dataclass(frozen=True, slots=True)
class OperationChange:
    """One property an operation changed (assignee, owner, dueDate, ...), with the value before and after."""

    property: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class UserOperation:
    """One operation of one logged-in user on one process instance: a claim, a completion, a retry, ..."""

    operation_id: str
    operation_type: str  # Operaton's name: Claim, Complete, Assign, Delegate, SetOwner, Update, SetJobRetries, ...
    entity_type: str  # Task, Job, ExternalTask, ProcessInstance, Variable, ...
    category: str | None  # TaskWorker, Operator, Admin
    user_id: str
    timestamp: datetime
    process_instance_id: str
    task_id: str | None
    changes: tuple[OperationChange, ...]

    @property
    def by_service(self) -> bool:
        return self.user_id.startswith(SERVICE_ACCOUNT_PREFIX)


@dataclass(frozen=True, slots=True)
class HistoricTask:
    """A user task of an instance, open or done: its name in the model and who holds or held it."""

    id: str
    name: str
    definition_key: str
    assignee: str | None


def _grouped(rows: Iterable[dict[str, object]]) -> list[UserOperation]:
    """The log has one row per changed property; one operation (operationId) is one UserOperation."""
    operations: dict[str, UserOperation] = {}
    for row in rows:
        user = row.get("userId")
        instance = row.get("processInstanceId")
        if not isinstance(user, str) or not isinstance(instance, str):
            continue  # an operation nobody logged in did, or one not on a process instance: not a report's action
        change = OperationChange(_text(row.get("property")), _text(row.get("orgValue")), _text(row.get("newValue")))
        key = str(row["operationId"])
        known = operations.get(key)
        if known is not None:
            operations[key] = replace(known, changes=(*known.changes, change))
            continue
        operations[key] = UserOperation(
            operation_id=key,
            operation_type=str(row.get("operationType")),
            entity_type=str(row.get("entityType")),
            category=_text(row.get("category")),
            user_id=user,
            timestamp=parse_date(str(row["timestamp"])),
            process_instance_id=instance,
            task_id=_text(row.get("taskId")),
            changes=(change,),
        )
    return sorted(operations.values(), key=lambda op: (op.timestamp, op.operation_id))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def user_operations(
    client: EngineClient,
    *,
    process_instance_id: str | None = None,
    process_definition_key: str | None = None,
    after: datetime | None = None,
    max_results: int = 1000,
) -> list[UserOperation]:
    """The operations people did, oldest first: of one instance, or of every instance of a process after a moment."""
    params: dict[str, str | int] = {"sortBy": "timestamp", "sortOrder": "asc", "maxResults": max_results}
    if process_instance_id is not None:
        params["processInstanceId"] = process_instance_id
    if process_definition_key is not None:
        params["processDefinitionKey"] = process_definition_key
    if after is not None:
        params["afterTimestamp"] = format_date(after)
    rows = client.request("GET", "/history/user-operation", params=params)
    return _grouped(rows)


def historic_tasks(client: EngineClient, *, process_instance_id: str) -> list[HistoricTask]:
    """Every user task an instance had, open or done."""
    rows = client.request("GET", "/history/task", params={"processInstanceId": process_instance_id})
    return [
        HistoricTask(
            id=str(row["id"]),
            name=str(row.get("name") or row.get("taskDefinitionKey") or ""),
            definition_key=str(row.get("taskDefinitionKey") or ""),
            assignee=_text(row.get("assignee")),
        )
        for row in rows
    ]
