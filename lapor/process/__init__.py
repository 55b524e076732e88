"""The one boundary to the Operaton engine: REST client, variable codec, external-task worker loop, identity.

Nothing outside this package (and engine/) knows Operaton's REST shapes: the client answers with the typed records
of `records.py` (and `history.py`), never with the engine's JSON, and takes filters as keyword arguments.
The worker loop is our own, on httpx:
the two Python clients on PyPI were measured unfit (see README, "The engine"): `operaton-tasks` 1.0b3 turns any
exception into a failure with no retries and unlocks every task of a worker id shared by all replicas at start;
`operaton-external-task-client-python3` 1.0.4 is synchronous and its async path imports httpx without declaring it.
"""

from lapor.process.client import EngineAuthError, EngineClient, EngineError, EngineUnavailable, NotFound
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
from lapor.process.redaction import InstanceRedaction, VariableRedaction
from lapor.process.tasks import BpmnError, ExternalTask, Handler, ModelError
from lapor.process.worker import ExternalTaskWorker, WorkerConfig, unique_worker_id

__all__ = [
    "ActivityInstance",
    "BpmnError",
    "Deployment",
    "EngineAuthError",
    "EngineClient",
    "EngineError",
    "EngineUnavailable",
    "ExternalTask",
    "ExternalTaskRun",
    "ExternalTaskState",
    "ExternalTaskWorker",
    "Handler",
    "HistoricInstance",
    "Incident",
    "InstanceRedaction",
    "Job",
    "JobRun",
    "ModelError",
    "NotFound",
    "ProcessInstance",
    "Task",
    "TimerJob",
    "VariableRedaction",
    "WorkerConfig",
    "unique_worker_id",
]
