"""What the engine holds after a restore, read once: instances by tracking id, status task runs, open tasks,
dispositions, due dates and where each deadline started; and which status each status task of the model records."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import ParseError

from lapor.bpmn_reader import PROCESS_MODEL, BpmnModel, camunda, properties
from lapor.deadlines import Sla, SlaRule, rules_by_element
from lapor.models import ReportStatus
from lapor.process import EngineClient, EngineError, ExternalTaskRun, HistoricInstance
from lapor.vocabulary import ENGINE_NOW_VARIABLE, PROCESS_ID, Actor, Deadline, FormField, Topic

RUNNING = frozenset({"ACTIVE", "SUSPENDED"})  # states of an instance still running


@cache
def status_tasks(model: Path = PROCESS_MODEL) -> dict[str, tuple[ReportStatus, Actor]]:
    """Element id -> (status, actor) of every service task that records a status (lapor-status, auto-complete)."""
    found: dict[str, tuple[ReportStatus, Actor]] = {}
    for task in BpmnModel(model).all("serviceTask"):
        topic = camunda(task, "topic")
        props = properties(task)
        if topic == Topic.STATUS and props.get("status") and props.get("actor"):
            found[str(task.get("id"))] = (ReportStatus(props["status"]), Actor(props["actor"]))
        elif topic == Topic.AUTO_COMPLETE:
            found[str(task.get("id"))] = (ReportStatus.SELESAI, Actor.SISTEM)
        elif topic == Topic.MERGE_DUPLICATE:  # when it merges: the instance then ends (read_engine checks that)
            found[str(task.get("id"))] = (ReportStatus.DIGABUNGKAN, Actor.ADMIN_PENGADUAN)
    return found


@dataclass
class Held:
    """The engine's side of the pair, read once at the start of a run."""

    instances: dict[str, list[HistoricInstance]]  # business key -> instances, oldest first
    runs: dict[str, list[ExternalTaskRun]]  # instance id -> status task runs, oldest first
    open_tasks: set[str]  # external tasks not completed yet: a worker may have written their event already
    opd_codes: dict[str, str]  # instance id -> the OPD it was dispatched to (the `opdCode` variable)
    due: dict[Deadline, dict[str, datetime]]  # the due date variables the timers read, per instance id
    # instance id -> deadline -> where it started: the engine's clock (`engineNow`) when its deadline task last ran,
    # with the length that task's properties set in the model version the instance runs
    starts: dict[str, dict[Deadline, Sla]] = field(default_factory=dict)

    def status_of(self, instance_id: str) -> ReportStatus:
        """The status the instance's last status task recorded; a new instance's is the first one."""
        runs = self.runs.get(instance_id)
        return status_tasks()[runs[-1].activity_id][0] if runs else ReportStatus.BELUM_TERVERIFIKASI


def read_engine(engine: EngineClient) -> Held:
    """Everything the comparison needs from the engine, in a few calls for all reports."""
    # The open tasks before the runs: a task completed in between is among the runs, never in neither.
    open_tasks = {t.id for t in engine.external_tasks()}
    instances: dict[str, list[HistoricInstance]] = defaultdict(list)
    for instance in engine.historic_instances(PROCESS_ID):
        instances[str(instance.business_key)].append(instance)
    known = status_tasks()
    # A merge that refused the tracking id sends the report back to verification, its instance still running; a
    # merge that joined the report ends the instance at once.
    ended = {i.id for rows in instances.values() for i in rows if i.state == "COMPLETED"}
    runs: dict[str, list[ExternalTaskRun]] = defaultdict(list)
    for topic in (Topic.STATUS, Topic.AUTO_COMPLETE, Topic.MERGE_DUPLICATE):
        for run in engine.external_task_runs(PROCESS_ID, topic=topic):
            if topic is Topic.MERGE_DUPLICATE and run.process_instance_id not in ended:
                continue
            if run.process_instance_id and run.activity_id in known:
                runs[run.process_instance_id].append(run)
    for rows in runs.values():
        rows.sort(key=lambda r: r.timestamp or datetime.min.replace(tzinfo=UTC))
    opd_codes = {k: v for k, v in engine.historic_values(PROCESS_ID, FormField.OPD_CODE).items() if isinstance(v, str)}
    due: dict[Deadline, dict[str, datetime]] = {}
    for deadline in Deadline:
        if deadline.column is not None:
            values = engine.historic_values(PROCESS_ID, deadline.due_variable)
            due[deadline] = {k: v for k, v in values.items() if isinstance(v, datetime)}
    return Held(instances, runs, open_tasks, opd_codes, due, _deadline_starts(engine, instances))


def _deadline_starts(
    engine: EngineClient, instances: dict[str, list[HistoricInstance]]
) -> dict[str, dict[Deadline, Sla]]:
    """Each deadline task's run with the `engineNow` it computed from (its input parameter), the latest per deadline,
    and the length the task's properties set in the instance's own model version."""
    definition_of = {i.id: i.definition_id for rows in instances.values() for i in rows}
    rules: dict[str | None, dict[str, SlaRule]] = {}
    engine_now = engine.historic_local_values(PROCESS_ID, ENGINE_NOW_VARIABLE)
    starts: dict[str, dict[Deadline, Sla]] = defaultdict(dict)
    for run in engine.external_task_runs(PROCESS_ID, topic=Topic.DEADLINE):  # oldest first: a later round wins
        started = engine_now.get(run.activity_instance_id or "")
        if run.process_instance_id is None or not isinstance(started, datetime):
            continue
        definition = definition_of.get(run.process_instance_id)
        if definition not in rules:
            rules[definition] = _rules_of(engine, definition)
        rule = rules[definition].get(run.activity_id)
        if rule is not None:
            starts[run.process_instance_id][rule.deadline] = rule.start(started)
    return dict(starts)


def _rules_of(engine: EngineClient, definition_id: str | None) -> dict[str, SlaRule]:
    """The deadline tasks' SLAs of a deployed model version; the shipped model's when the engine lacks it."""
    if definition_id is not None:
        try:
            return rules_by_element(BpmnModel.from_xml(engine.definition_xml(definition_id)))
        except (EngineError, ValueError, ParseError):
            pass  # a model version removed since, or unreadable: the model shipped with the code
    return rules_by_element(BpmnModel(PROCESS_MODEL))
