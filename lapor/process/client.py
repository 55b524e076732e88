"""Operaton's REST API in domain words: deploy, start by tracking id, find, correlate, cancel, tasks and jobs.

Every call logs in with HTTP Basic. Errors become `EngineError` subclasses that say what went wrong in a line.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from lapor.process.codec import decode_all, encode_all, format_date
from lapor.process.records import (
    ActivityInstance,
    Deployment,
    ExternalTaskRun,
    ExternalTaskState,
    HistoricInstance,
    Incident,
    Job,
    JobRun,
    ProcessInstance,
    Task,
    TimerJob,
)

if TYPE_CHECKING:
    from lapor.process.redaction import InstanceRedaction, VariableRedaction


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


def _query(**params: str | None) -> dict[str, str]:
    """The query parameters given; a filter left as None is not sent."""
    return {name: value for name, value in params.items() if value is not None}


def _decoded(name: str, row: Mapping[str, Any]) -> object:
    """The value of one variable-instance row (history), decoded by its type."""
    return decode_all({name: {"type": row["type"], "value": row["value"]}})[name]


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
        """One call; the decoded JSON answer (None for 204). For this package's modules, and for tests whose point is
        the REST call itself; everyone else calls the typed methods below."""
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
    def start(
        self, process_key: str, *, business_key: str, variables: Mapping[str, object], at: str | None = None
    ) -> str:
        """Start the latest version (before the element `at`, for benchmarks that need reports mid-way); its id."""
        body: dict[str, object] = {"businessKey": business_key, "variables": encode_all(variables)}
        if at is not None:
            body["startInstructions"] = [{"type": "startBeforeActivity", "activityId": at}]
        answer = self.request("POST", f"/process-definition/key/{process_key}/start", json=body)
        return str(answer["id"])

    def find_instance(self, process_key: str, *, business_key: str, running_only: bool = False) -> str | None:
        """The running or finished instance of this report (history), oldest first; None when there is none.
        `running_only`: the running one only (a report restarted after its instance ended)."""
        if running_only:
            running = self.running_instances(process_key, business_key=business_key)
            return running[0].id if running else None
        found = self.historic_instances(process_key, business_key=business_key)
        return found[0].id if found else None

    def historic_instances(
        self, process_key: str | None = None, *, business_key: str | None = None
    ) -> list[HistoricInstance]:
        """Instances running or ended (history), oldest first: of a process, of one report, or all."""
        params = _query(processDefinitionKey=process_key, processInstanceBusinessKey=business_key)
        rows = self.request(
            "GET", "/history/process-instance", params={**params, "sortBy": "startTime", "sortOrder": "asc"}
        )
        return [HistoricInstance._from_row(row) for row in rows]

    def running_instances(self, process_key: str, *, business_key: str | None = None) -> list[ProcessInstance]:
        params = _query(processDefinitionKey=process_key, businessKey=business_key)
        return [ProcessInstance._from_row(row) for row in self.request("GET", "/process-instance", params=params)]

    def instance(self, instance_id: str) -> ProcessInstance:
        """One running instance (NotFound once it has ended)."""
        return ProcessInstance._from_row(self.request("GET", f"/process-instance/{instance_id}"))

    def set_suspended(self, instance_id: str, suspended: bool) -> None:
        """Suspend a running instance (nothing of it moves: no task completes, no job runs) or activate it again."""
        self.request("PUT", f"/process-instance/{instance_id}/suspended", json={"suspended": suspended})

    def correlate(self, message: str, *, business_key: str, variables: Mapping[str, object] | None = None) -> bool:
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

    def variables(self, instance_id: str) -> dict[str, object]:
        """The process-level variables of a running instance, decoded."""
        return decode_all(self.request("GET", f"/process-instance/{instance_id}/variables"))

    def historic_variables(self, instance_id: str) -> dict[str, object]:
        """Every variable of an instance (all scopes, running or finished), decoded; the latest value per name."""
        rows = self.request(
            "GET", "/history/variable-instance", params={"processInstanceId": instance_id, "deserializeValues": "false"}
        )
        return decode_all({r["name"]: {"type": r["type"], "value": r["value"]} for r in rows})

    def _variable_history(self, process_key: str, name: str) -> list[dict[str, Any]]:
        """The history rows of one variable in every instance of a process (all scopes), values not yet decoded."""
        rows: list[dict[str, Any]] = self.request(
            "GET",
            "/history/variable-instance",
            params={"processDefinitionKey": process_key, "variableName": name, "deserializeValues": "false"},
        )
        return rows

    def historic_values(self, process_key: str, name: str) -> dict[str, object]:
        """One variable of every instance of a process (history, running or finished), decoded: instance id -> value."""
        return {
            str(r["processInstanceId"]): _decoded(name, r)
            for r in self._variable_history(process_key, name)
            if r.get("processInstanceId")
        }

    def historic_local_values(self, process_key: str, name: str) -> dict[str, object]:
        """One variable local to activities (an input parameter) in every instance of a process, from history,
        decoded: activity instance id -> value."""
        return {
            str(r["activityInstanceId"]): _decoded(name, r)
            for r in self._variable_history(process_key, name)
            if r.get("activityInstanceId") and r.get("activityInstanceId") != r.get("processInstanceId")
        }

    def definition_xml(self, definition_id: str) -> str:
        """The BPMN XML of one deployed process definition (version), as it was deployed."""
        return str(self.request("GET", f"/process-definition/{definition_id}/xml")["bpmn20Xml"])

    def historic_instance(self, instance_id: str) -> HistoricInstance:
        return HistoricInstance._from_row(self.request("GET", f"/history/process-instance/{instance_id}"))

    def activities(self, instance_id: str, *, activity_id: str | None = None) -> list[ActivityInstance]:
        """Activity instances (history) of an instance, in order: what the token passed through."""
        params = _query(processInstanceId=instance_id, activityId=activity_id)
        rows = self.request(
            "GET", "/history/activity-instance", params={**params, "sortBy": "startTime", "sortOrder": "asc"}
        )
        return [ActivityInstance._from_row(row) for row in rows]

    def finished_activities(self, activity_id: str) -> list[ActivityInstance]:
        """Every ended passage through one element, of every instance (history)."""
        params = {"activityId": activity_id, "finished": "true"}
        return [
            ActivityInstance._from_row(row) for row in self.request("GET", "/history/activity-instance", params=params)
        ]

    # -- user tasks -------------------------------------------------------------------------------------------
    def tasks(
        self,
        *,
        process_instance_id: str | None = None,
        process_instance_ids: Sequence[str] | None = None,
        definition_key: str | None = None,
        process_key: str | None = None,
        business_key: str | None = None,
        candidate_group: str | None = None,
        assignee: str | None = None,
        task_id: str | None = None,
    ) -> list[Task]:
        """Open user tasks, as this login may see them; each filter given narrows the list."""
        params = _query(
            processInstanceId=process_instance_id,
            processInstanceIdIn=",".join(process_instance_ids) if process_instance_ids is not None else None,
            taskDefinitionKey=definition_key,
            processDefinitionKey=process_key,
            processInstanceBusinessKey=business_key,
            candidateGroup=candidate_group,
            assignee=assignee,
            taskId=task_id,
        )
        return [Task._from_row(row) for row in self.request("GET", "/task", params=params)]

    def count_tasks(self, *, definition_key: str, business_key_like: str) -> int:
        """How many open tasks of an element belong to reports whose tracking id matches (`%` as wildcard)."""
        params = {"taskDefinitionKey": definition_key, "processInstanceBusinessKeyLike": business_key_like}
        return int(self.request("GET", "/task/count", params=params)["count"])

    def task(self, task_id: str) -> Task:
        return Task._from_row(self.request("GET", f"/task/{task_id}"))

    def candidate_groups(self, task_id: str) -> list[str]:
        links = self.request("GET", f"/task/{task_id}/identity-links", params={"type": "candidate"})
        return sorted(str(link["groupId"]) for link in links if link.get("groupId"))

    def form_variables(self, task_id: str) -> dict[str, object]:
        """What the task's form sees: its local variables over the instance's, decoded."""
        return decode_all(self.request("GET", f"/task/{task_id}/form-variables"))

    def claim(self, task_id: str, user_id: str) -> None:
        self.request("POST", f"/task/{task_id}/claim", json={"userId": user_id})

    def complete_task(self, task_id: str, variables: Mapping[str, object] | None = None) -> None:
        self.request("POST", f"/task/{task_id}/complete", json={"variables": encode_all(variables or {})})

    # -- jobs and incidents (timers, failed tasks) -----------------------------------------------------------------
    def jobs(
        self,
        *,
        process_instance_id: str | None = None,
        process_key: str | None = None,
        activity_id: str | None = None,
        job_id: str | None = None,
        timers: bool = False,
    ) -> list[Job]:
        """Jobs waiting for the job executor; `activity_id` is the element (a timer event's id)."""
        params = _query(
            processInstanceId=process_instance_id,
            processDefinitionKey=process_key,
            activityId=activity_id,
            jobId=job_id,
            timers="true" if timers else None,
        )
        return [Job._from_row(row) for row in self.request("GET", "/job", params=params)]

    def execute_job(self, job_id: str) -> None:
        """Run a job now (a timer fires); synchronous."""
        self.request("POST", f"/job/{job_id}/execute")

    def set_job_retries(self, job_id: str, retries: int) -> None:
        """Retries left; 0 makes a failed job an incident, more lets the job executor try it again."""
        self.request("PUT", f"/job/{job_id}/retries", json={"retries": retries})

    def timer_runs(self, activity_id: str) -> list[JobRun]:
        """Every successful run of the timers of one element (history's job log), with the node that ran it."""
        rows = self.request("GET", "/history/job-log", params={"activityIdIn": activity_id, "successLog": "true"})
        return [JobRun._from_row(row) for row in rows]

    def incidents(self, *, process_instance_id: str | None = None) -> list[Incident]:
        params = _query(processInstanceId=process_instance_id)
        return [Incident._from_row(row) for row in self.request("GET", "/incident", params=params)]

    def count_incidents(self) -> int:
        return int(self.request("GET", "/incident/count")["count"])

    def external_tasks(
        self, *, process_instance_id: str | None = None, worker_id: str | None = None, locked: bool | None = None
    ) -> list[ExternalTaskState]:
        params = _query(
            processInstanceId=process_instance_id,
            workerId=worker_id,
            locked="true" if locked else None,
            notLocked="true" if locked is False else None,
        )
        return [ExternalTaskState._from_row(row) for row in self.request("GET", "/external-task", params=params)]

    def external_task_error_details(self, task_id: str) -> str:
        """What the worker sent as the details of the task's last failure (e.g. a traceback)."""
        return str(self.request("GET", f"/external-task/{task_id}/errorDetails") or "")

    def count_external_task_runs(self) -> int:
        """External tasks completed so far (history's external task log, successes only)."""
        return int(self.request("GET", "/history/external-task-log/count", params={"successLog": "true"})["count"])

    def external_task_runs(self, process_key: str, *, topic: str) -> list[ExternalTaskRun]:
        """Every successful completion of a topic's external tasks in a process's instances (history), oldest first."""
        params = {"processDefinitionKey": process_key, "topicName": topic, "successLog": "true"}
        rows = self.request(
            "GET", "/history/external-task-log", params={**params, "sortBy": "timestamp", "sortOrder": "asc"}
        )
        return [ExternalTaskRun._from_row(row) for row in rows]

    def unlock_external_task(self, task_id: str) -> None:
        """Release a task's lock (or its retry backoff) so a worker fetches it now."""
        self.request("POST", f"/external-task/{task_id}/unlock")

    def set_external_task_retries(self, task_id: str, retries: int) -> None:
        self.request("PUT", f"/external-task/{task_id}/retries", json={"retries": retries})

    # -- moving deadlines (lapor.recompute) ------------------------------------------------------------------------
    def timer_jobs(self, process_key: str) -> list[TimerJob]:
        """Every pending timer job of a process's instances, each with the element id of its timer."""
        # A job does not name its element; its job definition does.
        definitions = self.request("GET", "/job-definition", params={"processDefinitionKey": process_key})
        element_of = {str(d["id"]): d.get("activityId") for d in definitions}
        return [
            TimerJob(job, element_of.get(str(job.job_definition_id)))
            for job in self.jobs(process_key=process_key, timers=True)
        ]

    def set_job_due_date(self, job_id: str, due: datetime) -> None:
        """When a timer fires; a due date in the past makes it fire at the next job acquisition."""
        self.request("PUT", f"/job/{job_id}/duedate", json={"duedate": format_date(due), "cascade": False})

    def set_task_due_date(self, task_id: str, due: datetime) -> None:
        """The due date Tasklist shows. `PUT /task/{id}` replaces every field, so the current ones are sent back."""
        # Every field the update sets; a field left out would be cleared.
        fields = "name description priority assignee owner delegationState due followUp parentTaskId caseInstanceId"
        current = self.request("GET", f"/task/{task_id}")
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

    def variable_redactions(self, instance_id: str, *, redact: Callable[[str], str]) -> "InstanceRedaction":
        """The string variables of an instance (running or ended) whose value or history `redact` changes."""
        from lapor.process import redaction  # it builds on this client

        return redaction.plan(self, instance_id, redact)

    def apply_redaction(self, planned: "VariableRedaction") -> str:
        """Take one variable's identifying values out of runtime and history (idempotent); what was done."""
        from lapor.process import redaction

        return redaction.apply(self, planned)

    def set_variables(self, instance_id: str, variables: Mapping[str, object]) -> None:
        """Set process-level variables of a running instance (typed by the codec)."""
        body = {"modifications": encode_all(variables)}
        self.request("POST", f"/process-instance/{instance_id}/variables", json=body)
