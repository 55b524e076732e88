"""What a worker handler sees of an external task, and how it reports a business outcome or a modelling error."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class BpmnError(Exception):
    """A business outcome the model catches (a boundary error event with this code); never retried."""

    def __init__(self, code: str, message: str = "", variables: Mapping[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.variables = dict(variables or {})


class ModelError(ValueError):
    """The model asked for something the handler does not know (a missing or unknown property or variable).

    Retrying cannot help, so the task fails with no retries left and Cockpit shows the incident at once.
    """


@dataclass(frozen=True)
class ExternalTask:
    """One locked external task: decoded variables in, the handler's variables out."""

    id: str
    topic: str
    process_instance_id: str
    activity_id: str
    business_key: str | None = None
    retries: int | None = None  # None on the first attempt; then what the last failure left
    variables: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)  # camunda:properties of the service task

    def prop(self, name: str) -> str:
        """A camunda:property of the task; a missing one is a modelling error."""
        value = self.properties.get(name)
        if value is None or value == "":
            raise ModelError(f"{self.activity_id} ({self.topic}) has no property {name!r}")
        return value

    def var(self, name: str) -> Any:
        """A process variable the handler needs; a missing one is a modelling error."""
        if name not in self.variables or self.variables[name] is None:
            raise ModelError(f"{self.activity_id} ({self.topic}) has no variable {name!r}")
        return self.variables[name]


# A handler runs in a worker thread: task in, variables to set on completion out (None = nothing to set).
Handler = Callable[[ExternalTask], Mapping[str, Any] | None]
