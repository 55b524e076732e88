"""Operaton's REST API in domain words: deploy, start by tracking id, find, correlate, cancel, tasks and jobs.

Every call logs in with HTTP Basic. Errors become `EngineError` subclasses that say what went wrong in a line.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from lapor.process.codec import decode_all, encode_all, format_date


class EngineError(RuntimeError):
    """The engine refused a call or could not be reached."""

    def __init__(self, message: str, *, status_code: int | None = None, engine_type: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.engine_type = engine_type


class EngineUnavailable(EngineError):
    """No answer: the engine is down, starting, or the network dropped the call (the command may have run)."""


class EngineAuthError(EngineError):
    """401/403: wrong credentials, a locked account, or an account without the permission."""


class NotFound(EngineError):
    """404: no such task, instance or definition."""


@dataclass(frozen=True)
class Deployment:
    id: str
    name: str
    resources: list[str]  # what the engine stored anew; empty when nothing changed (duplicate filtering)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    engine_type = body.get("type") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    request = response.request
    text = f"{request.method} {request.url.path} -> {response.status_code}: {message or response.text[:300]}"
    kind: type[EngineError] = EngineError
    if response.status_code in (401, 403):
        kind = EngineAuthError
    elif response.status_code == 404:
        kind = NotFound
    raise kind(text, status_code=response.status_code, engine_type=engine_type)


class EngineClient:
    """A synchronous client of one engine's REST API (`.../engine-rest`)."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str,
        password: str,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self._http = httpx.Client(base_url=self.base_url, auth=(user, password), timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; the decoded JSON answer (None for 204)."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as err:
            raise EngineUnavailable(f"{method} {path}: engine at {self.base_url} unreachable ({err!r})") from err
        _raise_for(response)
        if not response.content:
            return None
        if "json" not in response.headers.get("content-type", ""):
            return response.text  # e.g. an external task's error details
        return response.json()

    # -- the engine ---------------------------------------------------------------------------------------------
    def version(self) -> str:
        return str(self.request("GET", "/version")["version"])

    def deploy(self, name: str, resources: Mapping[str, bytes], *, source: str = "lapor") -> Deployment:
        """One deployment of every resource; unchanged resources are not deployed again (duplicate filtering)."""
        files = {file_name: (file_name, content) for file_name, content in resources.items()}
        data = {
            "deployment-name": name,
            "deployment-source": source,
            "enable-duplicate-filtering": "true",
            "deploy-changed-only": "true",
        }
        answer = self.request("POST", "/deployment/create", data=data, files=files)
        kinds = ("deployedProcessDefinitions", "deployedDecisionDefinitions", "deployedDecisionRequirementsDefinitions")
        stored = {str(r["resource"]) for kind in kinds for r in (answer.get(kind) or {}).values() if r.get("resource")}
        return Deployment(id=str(answer["id"]), name=str(answer.get("name") or name), resources=sorted(stored))

    def deploy_files(self, name: str, paths: list[Path]) -> Deployment:
        return self.deploy(name, {p.name: p.read_bytes() for p in paths})

    # -- process instances (the business key is the tracking id) --------------------------------------------------
    def start(self, process_key: str, *, business_key: str, variables: Mapping[str, Any]) -> str:
        """Start the latest version; the instance id."""
        body = {"businessKey": business_key, "variables": encode_all(variables)}
        answer = self.request("POST", f"/process-definition/key/{process_key}/start", json=body)
        return str(answer["id"])

    def find_instance(self, process_key: str, *, business_key: str) -> str | None:
        """The running or finished instance of this report (history), oldest first; None when there is none."""
        found = self.request(
            "GET",
            "/history/process-instance",
            params={
                "processDefinitionKey": process_key,
                "processInstanceBusinessKey": business_key,
                "sortBy": "startTime",
                "sortOrder": "asc",
            },
        )
        return str(found[0]["id"]) if found else None

    def running_instances(self, process_key: str, *, business_key: str | None = None) -> list[dict[str, Any]]:
        params = {"processDefinitionKey": process_key}
        if business_key is not None:
            params["businessKey"] = business_key
        result: list[dict[str, Any]] = self.request("GET", "/process-instance", params=params)
        return result

    def correlate(self, message: str, *, business_key: str, variables: Mapping[str, Any] | None = None) -> bool:
        """Deliver a message to the instance waiting for it; False when nobody waits (Operaton buffers nothing)."""
        body = {
            "messageName": message,
            "businessKey": business_key,
            "processVariables": encode_all(variables or {}),
            "resultEnabled": True,
        }
        try:
            self.request("POST", "/message", json=body)
        except EngineError as err:
            if err.status_code == 400 and "correlate" in str(err).lower():
                return False
            raise
        return True

    def cancel(self, instance_id: str, *, reason: str = "") -> None:
        self.request("DELETE", f"/process-instance/{instance_id}", params={"skipCustomListeners": "true"})

    def variables(self, instance_id: str) -> dict[str, Any]:
        """The process-level variables of a running instance, decoded."""
        return decode_all(self.request("GET", f"/process-instance/{instance_id}/variables"))

    def historic_variables(self, instance_id: str) -> dict[str, Any]:
        """Every variable of an instance (all scopes, running or finished), decoded; the latest value per name."""
        rows = self.request(
            "GET", "/history/variable-instance", params={"processInstanceId": instance_id, "deserializeValues": "false"}
        )
        return decode_all({r["name"]: {"type": r["type"], "value": r["value"]} for r in rows})

    def historic_instance(self, instance_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/history/process-instance/{instance_id}")
        return result

    def activities(self, instance_id: str, *, activity_id: str | None = None) -> list[dict[str, Any]]:
        """Activity instances (history) of an instance, in order: what the token passed through."""
        params = {"processInstanceId": instance_id, "sortBy": "startTime", "sortOrder": "asc"}
        if activity_id:
            params["activityId"] = activity_id
        result: list[dict[str, Any]] = self.request("GET", "/history/activity-instance", params=params)
        return result

    # -- user tasks -------------------------------------------------------------------------------------------
    def tasks(self, **filters: Any) -> list[dict[str, Any]]:
        """Open user tasks, e.g. tasks(processInstanceId=..., taskDefinitionKey=...), as this login may see them."""
        result: list[dict[str, Any]] = self.request("GET", "/task", params=filters)
        return result

    def task(self, task_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/task/{task_id}")
        return result

    def candidate_groups(self, task_id: str) -> list[str]:
        links = self.request("GET", f"/task/{task_id}/identity-links", params={"type": "candidate"})
        return sorted(str(link["groupId"]) for link in links if link.get("groupId"))

    def claim(self, task_id: str, user_id: str) -> None:
        self.request("POST", f"/task/{task_id}/claim", json={"userId": user_id})

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> None:
        self.request("POST", f"/task/{task_id}/complete", json={"variables": encode_all(variables or {})})

    # -- jobs and incidents (timers, failed tasks) -----------------------------------------------------------------
    def jobs(self, **filters: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/job", params=filters)
        return result

    def execute_job(self, job_id: str) -> None:
        """Run a job now (a timer fires); synchronous."""
        self.request("POST", f"/job/{job_id}/execute")

    def incidents(self, **filters: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/incident", params=filters)
        return result

    def external_tasks(self, **filters: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/external-task", params=filters)
        return result

    def unlock_external_task(self, task_id: str) -> None:
        """Release a task's lock (or its retry backoff) so a worker fetches it now."""
        self.request("POST", f"/external-task/{task_id}/unlock")

    def set_external_task_retries(self, task_id: str, retries: int) -> None:
        self.request("PUT", f"/external-task/{task_id}/retries", json={"retries": retries})

    # -- moving deadlines (lapor.recompute) ------------------------------------------------------------------------
    def timer_jobs(self, process_key: str) -> list[dict[str, Any]]:
        """Every pending timer job of a process's instances, with `activityId`: the timer's element id."""
        # A job does not name its element; its job definition does.
        definitions = self.request("GET", "/job-definition", params={"processDefinitionKey": process_key})
        element_of = {str(d["id"]): d.get("activityId") for d in definitions}
        jobs = self.jobs(processDefinitionKey=process_key, timers="true")
        return [{**job, "activityId": element_of.get(str(job.get("jobDefinitionId")))} for job in jobs]

    def set_job_due_date(self, job_id: str, due: datetime) -> None:
        """When a timer fires; a due date in the past makes it fire at the next job acquisition."""
        self.request("PUT", f"/job/{job_id}/duedate", json={"duedate": format_date(due), "cascade": False})

    def set_task_due_date(self, task_id: str, due: datetime) -> None:
        """The due date Tasklist shows. `PUT /task/{id}` replaces every field, so the current ones are sent back."""
        # Every field the update sets; a field left out would be cleared.
        fields = "name description priority assignee owner delegationState due followUp parentTaskId caseInstanceId"
        current = self.task(task_id)
        body = {name: current.get(name) for name in [*fields.split(), "tenantId"]}
        body["due"] = format_date(due)
        self.request("PUT", f"/task/{task_id}", json=body)

    def variable_data(self, instance_id: str, name: str, *, max_bytes: int) -> bytes | None:
        """The bytes of a File/Bytes variable of an instance (None when it is not set), at most `max_bytes` + 1."""
        path = f"/process-instance/{instance_id}/variables/{name}/data"
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code == 404:
                    return None
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        break
                return bytes(data[: max_bytes + 1])
        except httpx.TransportError as err:
            raise EngineUnavailable(f"GET {path}: engine at {self.base_url} unreachable ({err!r})") from err

    def delete_variable(self, instance_id: str, name: str) -> None:
        """Remove a process-level variable of a running instance (nothing happens when it is not set)."""
        self.request("DELETE", f"/process-instance/{instance_id}/variables/{name}")

    def set_variables(self, instance_id: str, variables: Mapping[str, Any]) -> None:
        """Set process-level variables of a running instance (typed by the codec)."""
        body = {"modifications": encode_all(variables)}
        self.request("POST", f"/process-instance/{instance_id}/variables", json=body)
