"""lapor.process.redaction on a scripted engine (httpx.MockTransport): what it plans for running, ended and
changed variables, and that applying never overwrites a value written after the plan. The real engine:
tests/api/test_engine_identity.py."""

import hashlib
import json
from dataclasses import dataclass, field

import httpx

from lapor.process import EngineClient, VariableRedaction
from lapor.process.redaction import apply, plan

NOTE = "Sudah ditelepon Bu Siti"


def redact(text: str) -> str:
    return text.replace("Siti", "[dihapus]")


@dataclass
class ScriptedEngine:
    """One instance: runtime variables by id, historic variable instances by id, details; the calls it got."""

    runtime: dict[str, dict[str, object]] = field(default_factory=dict)
    history: dict[str, dict[str, object]] = field(default_factory=dict)
    details: list[dict[str, object]] = field(default_factory=list)
    calls: list[tuple[str, str, object]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path.removeprefix("/engine-rest"), request.method
        body = json.loads(request.content) if request.content else None
        self.calls.append((method, path, body))
        if method == "GET" and path == "/variable-instance":
            return httpx.Response(200, json=list(self.runtime.values()))
        if method == "GET" and path == "/history/variable-instance":
            return httpx.Response(200, json=list(self.history.values()))
        if method == "GET" and path == "/history/detail":
            return httpx.Response(200, json=self.details)
        if method == "GET" and path.startswith("/variable-instance/"):
            found = self.runtime.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=found) if found else httpx.Response(404, json={"message": "no"})
        if method == "DELETE" and path.startswith("/history/variable-instance/"):
            gone = self.history.pop(path.rsplit("/", 1)[1], None)
            return httpx.Response(204) if gone else httpx.Response(404, json={"message": "no"})
        if method == "PUT" and "/localVariables/" in path:
            return httpx.Response(204)
        return httpx.Response(500, json={"message": f"unscripted {method} {path}"})

    def client(self) -> EngineClient:
        return EngineClient(
            "http://engine/engine-rest", user="svc-api", password="x", transport=httpx.MockTransport(self.handle)
        )


def variable(variable_id: str, name: str, value: object, **more: object) -> dict[str, object]:
    return {
        "id": variable_id,
        "name": name,
        "type": "String",
        "value": value,
        "executionId": "pi-1",
        "taskId": None,
    } | more


def test_a_running_variable_that_once_named_her_is_planned_with_its_redacted_value() -> None:
    engine = ScriptedEngine(
        runtime={"v1": variable("v1", "verificationNote", NOTE), "v2": variable("v2", "dispatchNote", "Segera")},
        history={"v1": variable("v1", "verificationNote", NOTE), "v2": variable("v2", "dispatchNote", "Segera")},
        details=[
            {
                "type": "variableUpdate",
                "variableInstanceId": "v2",
                "value": "Tolong Siti dihubungi",
            },  # an earlier value
            {"type": "formField", "fieldId": "verificationNote", "fieldValue": NOTE},
        ],
    )
    with engine.client() as client:
        planned = plan(client, "pi-1", redact)
    assert planned.form_fields == 1
    assert planned.variables == (
        VariableRedaction(
            "pi-1",
            "v1",
            "verificationNote",
            True,
            "pi-1",
            None,
            "Sudah ditelepon Bu [dihapus]",
            hashlib.sha256(NOTE.encode()).hexdigest(),
        ),
        VariableRedaction(
            "pi-1", "v2", "dispatchNote", True, "pi-1", None, "Segera", hashlib.sha256(b"Segera").hexdigest()
        ),
    )
    assert (
        VariableRedaction.from_payload(json.loads(json.dumps(planned.variables[0].to_payload())))
        == planned.variables[0]
    )
    assert "Siti" not in json.dumps([v.to_payload() for v in planned.variables])


def test_applying_deletes_history_sets_the_value_again_and_is_idempotent() -> None:
    engine = ScriptedEngine(
        runtime={"v1": variable("v1", "verificationNote", NOTE)},
        history={"v1": variable("v1", "verificationNote", NOTE)},
    )
    with engine.client() as client:
        [planned] = plan(client, "pi-1", redact).variables
        assert apply(client, planned) == "redacted"
        engine.runtime["v1"]["value"] = planned.redacted  # what the engine now holds
        assert apply(client, planned) == "redacted"  # again: the history is gone already (404), the value the same
    writes = [(m, p, b) for m, p, b in engine.calls if m in ("PUT", "DELETE")]
    assert writes == [
        ("DELETE", "/history/variable-instance/v1", None),
        (
            "PUT",
            "/execution/pi-1/localVariables/verificationNote",
            {"value": "Sudah ditelepon Bu [dihapus]", "type": "String"},
        ),
        ("DELETE", "/history/variable-instance/v1", None),
        (
            "PUT",
            "/execution/pi-1/localVariables/verificationNote",
            {"value": "Sudah ditelepon Bu [dihapus]", "type": "String"},
        ),
    ]


def test_a_value_written_after_the_plan_is_left_alone_and_an_ended_instance_loses_history_only() -> None:
    engine = ScriptedEngine(
        runtime={"v1": variable("v1", "verificationNote", NOTE)},
        history={"v1": variable("v1", "verificationNote", NOTE), "v9": variable("v9", "responseText", "Bu Siti puas")},
    )
    with engine.client() as client:
        first, ended = plan(client, "pi-1", redact).variables
        engine.runtime["v1"]["value"] = "Catatan baru petugas"
        assert apply(client, first) == "changed"
        assert (ended.execution_id, ended.redacted) == (None, None)
        assert apply(client, ended) == "history"
    assert [(m, p) for m, p, _ in engine.calls if m in ("PUT", "DELETE")] == [
        ("DELETE", "/history/variable-instance/v1"),
        ("DELETE", "/history/variable-instance/v9"),
    ]
