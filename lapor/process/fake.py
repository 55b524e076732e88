"""An in-memory stand-in for the engine's process commands, for unit tests of one module (never as proof that a
feature works on the engine: tests/e2e and tests/api/test_engine.py do that on the real one)."""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from lapor.process.client import EngineError, EngineUnavailable
from lapor.process.redaction import VariableRedaction


@dataclass
class FakeInstance:
    id: str
    process_key: str
    business_key: str
    variables: dict[str, object]
    waiting_for: set[str] = field(default_factory=set)  # message names a catch event waits for
    ended: bool = False


class FakeEngine:
    """start / find_instance / correlate / variables with the engine's semantics, and outages on demand."""

    def __init__(self) -> None:
        self.instances: list[FakeInstance] = []
        self.down = False  # every call fails as if nothing listened
        self.lose_next_answer = False  # the next command runs, but its answer is lost
        self.correlated: list[tuple[str, str]] = []
        self._ids = (f"fake-{n}" for n in itertools.count(1))

    def _call(self) -> None:
        if self.down:
            raise EngineUnavailable("fake engine is down")

    def _answered(self) -> None:
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise EngineUnavailable("fake engine: the answer was lost")

    def start(self, process_key: str, *, business_key: str, variables: Mapping[str, object]) -> str:
        self._call()
        instance = FakeInstance(next(self._ids), process_key, business_key, dict(variables))
        self.instances.append(instance)
        self._answered()
        return instance.id

    def find_instance(self, process_key: str, *, business_key: str, running_only: bool = False) -> str | None:
        self._call()
        found = [
            i
            for i in self.instances
            if i.process_key == process_key and i.business_key == business_key and not (running_only and i.ended)
        ]
        return found[0].id if found else None

    def correlate(self, message: str, *, business_key: str, variables: Mapping[str, object] | None = None) -> bool:
        self._call()
        waiting = [i for i in self.instances if i.business_key == business_key and message in i.waiting_for]
        if not waiting:
            return False
        if len(waiting) > 1:
            raise EngineError("fake engine: more than one instance waits", status_code=400)
        waiting[0].waiting_for.discard(message)
        waiting[0].variables.update(variables or {})
        self.correlated.append((message, business_key))
        self._answered()
        return True

    def variables(self, instance_id: str) -> dict[str, object]:
        self._call()
        for instance in self.instances:
            if instance.id == instance_id:
                return dict(instance.variables)
        raise EngineError(f"fake engine: no instance {instance_id}", status_code=404)

    def apply_redaction(self, planned: VariableRedaction) -> str:
        """Set the redacted value where the instance holds the variable (the fake keeps no history)."""
        self._call()
        for instance in self.instances:
            if instance.id == planned.instance_id and planned.name in instance.variables:
                instance.variables[planned.name] = planned.redacted
                self._answered()
                return "redacted"
        return "history"

    def wait_for(self, business_key: str, message: str) -> None:
        """Let the instance of this report wait for a message (as a receive task would)."""
        for instance in self.instances:
            if instance.business_key == business_key:
                instance.waiting_for.add(message)
