"""Process versions and the engine's migration API, typed: what runs on which version, where it waits, and moving
it to another version (`/migration/generate`, `/migration/validate`, `/migration/executeAsync`, `/batch`).

A migration plan stays the engine's JSON inside this module (`MigrationPlan.body`); callers read its instructions
as activity ids.
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lapor.process.client import EngineClient, EngineError, NotFound
from lapor.process.records import Row, _number, _required, _text

# How long to wait for a migration batch, and how often to look.
BATCH_TIMEOUT_SECONDS = 600.0
BATCH_POLL_SECONDS = 0.5
# Instances per page when listing those waiting in an activity.
PAGE = 500


@dataclass(frozen=True, slots=True)
class ProcessDefinition:
    """One deployed version of a process."""

    id: str
    key: str
    version: int
    deployment_id: str | None

    @classmethod
    def _from_row(cls, row: Row) -> "ProcessDefinition":
        return cls(
            id=_required(row, "id"),
            key=_required(row, "key"),
            version=_number(row, "version") or 0,
            deployment_id=_text(row, "deploymentId"),
        )


@dataclass(frozen=True, slots=True)
class Waiting:
    """How many instances of a version are in one activity (a task, a timer, a subprocess that holds them)."""

    activity_id: str
    instances: int
    incidents: int


@dataclass(frozen=True, slots=True)
class Instruction:
    source_activity_id: str
    target_activity_id: str


@dataclass(frozen=True)
class MigrationPlan:
    """A plan the engine generated from one version to another, mapping activities of the same id."""

    source_id: str
    target_id: str
    instructions: tuple[Instruction, ...]
    body: dict[str, Any]

    @property
    def mapped(self) -> frozenset[str]:
        """The source activities an instance may wait in and still be moved."""
        return frozenset(i.source_activity_id for i in self.instructions)


@dataclass(frozen=True, slots=True)
class BatchResult:
    id: str
    jobs: int
    failed_jobs: int
    failures: tuple[str, ...]  # the engine's message for each failed job


def definitions(client: EngineClient, key: str) -> list[ProcessDefinition]:
    """Every deployed version of a process, oldest first."""
    rows = client.request(
        "GET", "/process-definition", params={"key": key, "sortBy": "version", "sortOrder": "asc", "maxResults": "1000"}
    )
    return [ProcessDefinition._from_row(row) for row in rows]


def latest(client: EngineClient, key: str) -> ProcessDefinition | None:
    try:
        return ProcessDefinition._from_row(client.request("GET", f"/process-definition/key/{key}"))
    except NotFound:
        return None


def definition_xml(client: EngineClient, definition_id: str) -> bytes:
    """The BPMN XML of a deployed version, as it was deployed."""
    return str(client.request("GET", f"/process-definition/{definition_id}/xml")["bpmn20Xml"]).encode("utf-8")


def deployed_resource(client: EngineClient, name: str, *, deployments: int = 100) -> bytes | None:
    """The latest deployed copy of a resource (a DMN, a form) by file name; None when it was never deployed.

    Deployments keep only the resources that changed, so the newest deployment holding the name holds the latest.
    """
    rows = client.request(
        "GET", "/deployment", params={"sortBy": "deploymentTime", "sortOrder": "desc", "maxResults": str(deployments)}
    )
    for row in rows:
        deployment_id = _required(row, "id")
        for resource in client.request("GET", f"/deployment/{deployment_id}/resources"):
            if resource.get("name") == name:
                data = client.request("GET", f"/deployment/{deployment_id}/resources/{resource['id']}/data")
                return data.encode("utf-8") if isinstance(data, str) else json.dumps(data).encode("utf-8")
    return None


def waiting(client: EngineClient, definition_id: str) -> list[Waiting]:
    """Where the running instances of a version are, by activity (Cockpit's numbers on the diagram)."""
    rows = client.request("GET", f"/process-definition/{definition_id}/statistics", params={"incidents": "true"})
    result = []
    for row in rows:
        incidents = sum(int(i.get("incidentCount") or 0) for i in row.get("incidents") or [])
        result.append(Waiting(activity_id=_required(row, "id"), instances=int(row["instances"]), incidents=incidents))
    return sorted(result, key=lambda w: w.activity_id)


def instances_in(client: EngineClient, definition_id: str, activity_id: str) -> list[tuple[str, str | None]]:
    """(instance id, business key) of the running instances of a version that are in an activity."""
    found: list[tuple[str, str | None]] = []
    while True:
        rows = client.request(
            "GET",
            "/process-instance",
            params={
                "processDefinitionId": definition_id,
                "activityIdIn": activity_id,
                "firstResult": str(len(found)),
                "maxResults": str(PAGE),
            },
        )
        found.extend((_required(row, "id"), _text(row, "businessKey")) for row in rows)
        if len(rows) < PAGE:
            return found


def instances(client: EngineClient, definition_id: str) -> list[tuple[str, str | None]]:
    """(instance id, business key) of every running instance of a version."""
    found: list[tuple[str, str | None]] = []
    while True:
        rows = client.request(
            "GET",
            "/process-instance",
            params={"processDefinitionId": definition_id, "firstResult": str(len(found)), "maxResults": str(PAGE)},
        )
        found.extend((_required(row, "id"), _text(row, "businessKey")) for row in rows)
        if len(rows) < PAGE:
            return found


def generate(client: EngineClient, source_id: str, target_id: str) -> MigrationPlan:
    """The engine's plan: every activity whose id (and kind) is in both versions; timers keep their due dates."""
    body = client.request(
        "POST",
        "/migration/generate",
        json={"sourceProcessDefinitionId": source_id, "targetProcessDefinitionId": target_id},
    )
    instructions = tuple(
        Instruction(str(source), str(target))
        for row in body.get("instructions") or []
        for source, target in zip(row["sourceActivityIds"], row["targetActivityIds"], strict=True)
    )
    return MigrationPlan(source_id, target_id, instructions, body)


def validate(client: EngineClient, plan: MigrationPlan) -> list[str]:
    """What the engine finds wrong with a plan as a whole (each failure with its activity); empty when valid."""
    answer = client.request("POST", "/migration/validate", json=plan.body)
    failures = [
        f"{', '.join(report['instruction']['sourceActivityIds'])}: {failure}"
        for report in answer.get("instructionReports") or []
        for failure in report.get("failures") or []
    ]
    failures += [
        f"{name}: {failure}"
        for name, report in (answer.get("variableReports") or {}).items()
        for failure in report.get("failures") or []
    ]
    return failures


def execute(
    client: EngineClient, plan: MigrationPlan, instance_ids: Sequence[str], *, timeout: float = BATCH_TIMEOUT_SECONDS
) -> BatchResult:
    """Move the instances as one batch of the job executor and wait until it is done; failed jobs are reported,
    their instances stay where they were (a migration job moves its instance whole or not at all)."""
    batch = client.request(
        "POST",
        "/migration/executeAsync",
        json={"migrationPlan": plan.body, "processInstanceIds": list(instance_ids), "skipCustomListeners": True},
    )
    batch_id = str(batch["id"])
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = client.request("GET", "/batch/statistics", params={"batchId": batch_id})
        except NotFound:
            state = []
        if not state:  # a batch is removed once all its jobs succeeded
            return BatchResult(batch_id, int(batch.get("totalJobs") or 0), 0, ())
        row = state[0]
        remaining, failed = int(row.get("remainingJobs") or 0), int(row.get("failedJobs") or 0)
        created, total = int(row.get("jobsCreated") or 0), int(row.get("totalJobs") or 0)
        if created == total and remaining == failed:  # remaining counts failed jobs and those not yet created
            failures = _failures(client, str(row["batchJobDefinitionId"]))
            return BatchResult(batch_id, total, failed, failures)
        if time.monotonic() > deadline:
            raise EngineError(f"migration batch {batch_id}: {remaining} jobs still open after {timeout:.0f} s")
        time.sleep(BATCH_POLL_SECONDS)


def _failures(client: EngineClient, job_definition_id: str) -> tuple[str, ...]:
    rows = client.request(
        "GET", "/job", params={"jobDefinitionId": job_definition_id, "withException": "true", "noRetriesLeft": "true"}
    )
    return tuple(str(row.get("exceptionMessage") or "") for row in rows)
