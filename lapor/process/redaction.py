"""Free text redacted in the engine (issue 23 item 2): the string variables of one process instance, runtime and
history, whose value or any earlier value (a historic detail) holds what `redact` changes, and the commands that
take those values out.

`plan` reads (READ_INSTANCE and READ_HISTORY on the process definition); `apply` writes (DELETE_HISTORY and
UPDATE_INSTANCE), once per variable, and may run again with the same effect (the outbox retries it). The identity
never leaves the caller: a `VariableRedaction` carries ids, the variable's name, the redacted value and the SHA-256
of the value it replaces (so a value written after the plan is never overwritten).

How the engine keeps a variable (Operaton 1.x, history level full): its runtime row and its historic variable
instance share one id; each value it took is a historic detail of that instance. Deleting the historic variable
instance (`DELETE /history/variable-instance/{id}`) deletes its details with it; setting the runtime variable
afterwards writes a new historic variable instance under the same id, with the redacted value only (the engine's
DbHistoryEventHandler inserts one when an update finds none). A variable of an ended instance, or one the instance no
longer holds, leaves history altogether. Tasklist's form submissions also wrote a "form field" detail per string
value, not linked to the variable: the engine plugin engine/.../NoFormFieldHistory.java stops writing them (each
duplicates a variable update); `plan` counts those written before it (`form_fields`), which only the end of
history's time to live removes.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lapor.process.client import NotFound

if TYPE_CHECKING:
    from lapor.process.client import EngineClient

Row = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class VariableRedaction:
    """What takes one variable's identifying values out of the engine."""

    instance_id: str
    variable_id: str  # the runtime variable's id, which its historic variable instance shares
    name: str
    delete_history: bool  # its historic variable instance (and so every detail of it) goes
    execution_id: str | None  # where the instance still holds it; None: history only
    task_id: str | None  # a task-local variable's task
    redacted: str | None  # the value it is set to again (runtime only)
    replaces_sha256: str | None  # the digest of the value `redacted` replaces

    def to_payload(self) -> dict[str, object]:
        """For an outbox row (JSON): ids, the name, the redacted value and a digest; never the value replaced."""
        return {
            "instance_id": self.instance_id,
            "variable_id": self.variable_id,
            "name": self.name,
            "delete_history": self.delete_history,
            "execution_id": self.execution_id,
            "task_id": self.task_id,
            "redacted": self.redacted,
            "replaces_sha256": self.replaces_sha256,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> "VariableRedaction":
        def text(name: str) -> str | None:
            value = payload.get(name)
            return None if value is None else str(value)

        return cls(
            instance_id=str(payload["instance_id"]),
            variable_id=str(payload["variable_id"]),
            name=str(payload["name"]),
            delete_history=bool(payload.get("delete_history")),
            execution_id=text("execution_id"),
            task_id=text("task_id"),
            redacted=text("redacted"),
            replaces_sha256=text("replaces_sha256"),
        )


@dataclass(frozen=True, slots=True)
class InstanceRedaction:
    instance_id: str
    variables: tuple[VariableRedaction, ...]
    form_fields: int  # form-field details holding the text that no REST call removes one by one


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _string(row: Row, name: str = "value") -> str | None:
    value = row.get(name)
    return value if isinstance(value, str) else None


def plan(client: "EngineClient", instance_id: str, redact: Callable[[str], str]) -> InstanceRedaction:
    """The variables of one instance (running or ended) any of whose string values `redact` changes."""
    unserialized = {"deserializeValues": "false"}
    runtime: list[Row] = client.request(
        "GET", "/variable-instance", params={"processInstanceIdIn": instance_id, **unserialized}
    )
    history: list[Row] = client.request(
        "GET", "/history/variable-instance", params={"processInstanceId": instance_id, **unserialized}
    )
    details: list[Row] = client.request(
        "GET", "/history/detail", params={"processInstanceId": instance_id, **unserialized}
    )

    def named(text: str | None) -> bool:
        return text is not None and redact(text) != text

    earlier: dict[str, bool] = {}  # variable id -> one of its earlier values holds the text
    form_fields = 0
    for detail in details:
        variable_id = _string(detail, "variableInstanceId")
        if variable_id is not None:
            earlier[variable_id] = earlier.get(variable_id, False) or named(_string(detail))
        elif named(_string(detail, "fieldValue")) or named(_string(detail)):
            form_fields += 1
    live = {str(row["id"]): row for row in runtime}
    kept = {str(row["id"]): row for row in history}
    found = []
    for variable_id in sorted(live.keys() | kept.keys()):
        now, past = live.get(variable_id), kept.get(variable_id)
        value = _string(now) if now is not None else None
        in_history = past is not None and (named(_string(past)) or earlier.get(variable_id, False))
        if not (named(value) or in_history):
            continue
        row = now or past
        assert row is not None
        found.append(
            VariableRedaction(
                instance_id=instance_id,
                variable_id=variable_id,
                name=str(row["name"]),
                delete_history=past is not None,
                execution_id=_string(now, "executionId") if now is not None else None,
                task_id=_string(now, "taskId") if now is not None else None,
                redacted=redact(value) if value is not None else None,
                replaces_sha256=_digest(value) if value is not None else None,
            )
        )
    return InstanceRedaction(instance_id, tuple(found), form_fields)


def apply(client: "EngineClient", redaction: VariableRedaction) -> str:
    """Take the variable's identifying values out (idempotent); what was done, in a word for the log."""
    if redaction.delete_history:
        try:
            client.request("DELETE", f"/history/variable-instance/{redaction.variable_id}")
        except NotFound:
            pass  # deleted by an earlier attempt, or by history's time to live
    if redaction.redacted is None or redaction.execution_id is None:
        return "history"
    try:
        current = client.request(
            "GET", f"/variable-instance/{redaction.variable_id}", params={"deserializeValue": "false"}
        )
    except NotFound:
        return "gone"  # the instance ended or removed the variable meanwhile: history was all there was
    value = _string(current)
    if value != redaction.redacted and (value is None or _digest(value) != redaction.replaces_sha256):
        return "changed"  # someone wrote a newer value since the plan: it is theirs, not ours to overwrite
    scope = f"/task/{redaction.task_id}" if redaction.task_id is not None else f"/execution/{redaction.execution_id}"
    client.request(
        "PUT", f"{scope}/localVariables/{redaction.name}", json={"value": redaction.redacted, "type": "String"}
    )
    return "redacted"
