"""bpmn/ agrees with itself and with the vocabulary (typos here become incidents later). The parts the master data
decides (the routing rules, the disposition form's OPD options) are generated and checked by
tests/unit/lapor/test_bpmn_sync.py.

Reads the Camunda 7 dialect (`camunda:` extensions) that Operaton executes; no engine is needed. What only the
engine can check (expressions evaluate, the DMN and forms deploy) is left to the deployment and e2e tests.
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lapor.bpmn_reader import NS
from lapor.models import ReportStatus
from lapor.notifications.templates import TEMPLATES
from lapor.vocabulary import (
    PROCESS_ID,
    RECAP_PROCESS_ID,
    RECIPIENTS,
    ROUTING_DECISION_ID,
    Actor,
    Deadline,
    ErrorCode,
    FormField,
    Message,
    Notice,
    Topic,
)

ROOT = Path(__file__).resolve().parents[3]
BPMN_DIR = ROOT / "bpmn"
TEST_MODELS = [ROOT / "tests/resources/toolchain.bpmn", ROOT / "tests/deploy/resources/opd-task.bpmn"]

PROCESSES = sorted(BPMN_DIR.glob("*.bpmn"))
ALL_MODELS = PROCESSES + TEST_MODELS
HISTORY_TIME_TO_LIVE = "P1825D"  # five years
EXECUTION_PLATFORM = ("Camunda Platform", "7.24.0")
# The form-js bundled with the Tasklist of Operaton 1.0.3 (operaton-webapp-webjar, lib/deps.js) reads schemas up to 19.
MAX_FORM_SCHEMA_VERSION = 19
DEADLINE_CODES = {d.code for d in Deadline}
DATE_VARIABLES = {d.due_variable for d in Deadline} | {d.reminder_variable for d in Deadline if d.reminder_variable}
EXPRESSION = re.compile(r"^\$\{(\w+)\}$")


def attr(element: ET.Element, name: str) -> str | None:
    return element.get(f"{{{NS['camunda']}}}{name}")


def forms() -> dict[str, dict[str, object]]:
    return {json.loads(p.read_text())["id"]: json.loads(p.read_text()) for p in BPMN_DIR.glob("*.form")}


def root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def service_tasks(path: Path) -> list[ET.Element]:
    return root(path).findall(".//bpmn:serviceTask", NS)


def properties(task: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in task.findall(".//camunda:property", NS)}


def all_service_tasks() -> list[ET.Element]:
    return [task for path in PROCESSES for task in service_tasks(path)]


@pytest.mark.parametrize("path", ALL_MODELS, ids=lambda p: p.name)
def test_every_model_is_in_the_camunda_7_dialect_and_keeps_its_history_for_a_while(path: Path) -> None:
    definitions = root(path)
    platform = definitions.get("{http://camunda.org/schema/modeler/1.0}executionPlatform")
    assert platform == "Camunda Platform", f"{path.name}: the Modeler must open it in Camunda 7 mode"
    processes = definitions.findall("bpmn:process", NS)
    assert processes
    for process in processes:
        assert process.get("isExecutable") == "true", process.get("id")
        ttl = attr(process, "historyTimeToLive")
        assert ttl, f"{process.get('id')} needs camunda:historyTimeToLive (the engine enforces it)"
        if path in PROCESSES:
            assert ttl == HISTORY_TIME_TO_LIVE, process.get("id")
    platform = (
        definitions.get(f"{{{NS['modeler']}}}executionPlatform"),
        definitions.get(f"{{{NS['modeler']}}}executionPlatformVersion"),
    )
    assert platform == EXECUTION_PLATFORM, path.name


def test_the_processes_are_the_ones_the_code_starts() -> None:
    ids = {p.get("id") for path in PROCESSES for p in root(path).findall("bpmn:process", NS)}
    assert ids == {PROCESS_ID, RECAP_PROCESS_ID}


def test_every_topic_is_used_by_the_models() -> None:
    assert {attr(task, "topic") for task in all_service_tasks()} == set(Topic)


def test_task_properties_agree_with_the_vocabulary() -> None:
    statuses, actors, deadlines, notices = set(ReportStatus), set(Actor), set(), set()
    for task in all_service_tasks():
        task_id, topic, props = task.get("id"), attr(task, "topic"), properties(task)
        if "status" in props or topic == Topic.STATUS:
            assert props.get("status") in statuses, f"{task_id}: status {props.get('status')!r}"
            assert props.get("actor") in actors, f"{task_id}: actor {props.get('actor')!r}"
        if "actor" in props:
            assert props["actor"] in actors, f"{task_id}: actor {props['actor']!r}"
        if "sla" in props or topic == Topic.DEADLINE:
            assert props.get("sla") in DEADLINE_CODES, f"{task_id}: sla {props.get('sla')!r}"
            deadlines.add(props["sla"])
        if "deadline" in props or topic == Topic.REMINDER:
            deadline = Deadline.from_code(props.get("deadline", ""))
            assert deadline.reminder_variable, f"{task_id}: {deadline.code} has no reminder"
            assert props.get("kind") in {"reminder", "escalation"}, task_id
        if topic == Topic.NOTIFY:
            assert props.get("template") in set(Notice), f"{task_id}: template {props.get('template')!r}"
            assert props.get("recipient") in RECIPIENTS, f"{task_id}: recipient {props.get('recipient')!r}"
            notices.add(props["template"])
    assert deadlines == DEADLINE_CODES, "every deadline is computed somewhere"
    # Every notice is sent by a model, but the reminders' (lapor-reminder picks them), the API's registration code,
    # the notice of a corrected contact (lapor.correction), a follower's (workers.notifications picks it), the
    # merge's (lapor-merge-duplicate sends both) and an undone merge's (an operator's command).
    by_workers = {
        Notice.PENGINGAT,
        Notice.ESKALASI,
        Notice.KODE_VERIFIKASI,
        Notice.KONTAK_DIUBAH,
        Notice.LAPORAN_DIIKUTI,
    }
    by_merge = {Notice.LAPORAN_DIGABUNGKAN, Notice.DUPLIKAT_DIGABUNGKAN, Notice.PENGGABUNGAN_DIBATALKAN}
    assert notices == set(Notice) - by_workers - by_merge


def test_every_notice_has_its_wording_and_every_form_field_the_code_reads_is_on_a_form() -> None:
    assert set(TEMPLATES) == set(Notice)
    on_forms = {
        name
        for path in [*BPMN_DIR.glob("*.form"), *BPMN_DIR.glob("*.html")]
        for name in re.findall(r'"key":\s*"(\w+)"|cam-variable-name="(\w+)"', path.read_text())
        for name in name
        if name
    }
    written_by_workers = {FormField.REJECTION_REASON}
    assert set(FormField) - written_by_workers <= on_forms, set(FormField) - written_by_workers - on_forms


DUE_DATE_VARIABLES = {d.due_variable for d in Deadline} | {"recapReviewDueAt"}


def test_errors_and_messages_are_the_ones_of_the_vocabulary_and_all_are_caught() -> None:
    errors: dict[str, str] = {}
    messages: dict[str, str] = {}
    caught_errors: set[str] = set()
    caught_messages: set[str] = set()
    for path in PROCESSES:
        definitions = root(path)
        errors |= {e.get("id", ""): e.get("errorCode", "") for e in definitions.findall("bpmn:error", NS)}
        messages |= {m.get("id", ""): m.get("name", "") for m in definitions.findall("bpmn:message", NS)}
        for boundary in definitions.findall(".//bpmn:boundaryEvent", NS):
            for definition in boundary.findall("bpmn:errorEventDefinition", NS):
                caught_errors.add(errors.get(definition.get("errorRef", ""), ""))
        caught_messages |= {m.get("messageRef", "") for m in definitions.findall(".//bpmn:messageEventDefinition", NS)}
        caught_messages |= {r.get("messageRef", "") for r in definitions.findall(".//bpmn:receiveTask", NS)}
    assert set(errors.values()) == set(ErrorCode)
    assert caught_errors == set(ErrorCode), "every business error has a boundary event"
    assert set(messages.values()) == set(Message)
    assert {messages[ref] for ref in caught_messages} == set(Message), "every message is caught somewhere"


def test_the_models_use_the_tracking_id_and_no_json_variables() -> None:
    for path in [*PROCESSES, *BPMN_DIR.glob("*.form")]:
        text = path.read_text()
        assert "reportId" not in text, f"{path.name}: the variable is trackingId"
        assert "photoLinks" not in text, f"{path.name}: the engine has no JSON variables; link reportSummaryUrl"


def test_the_business_rule_task_calls_the_routing_decision() -> None:
    (task,) = root(BPMN_DIR / "lapor-pengaduan.bpmn").findall(".//bpmn:businessRuleTask", NS)
    assert attr(task, "decisionRef") == ROUTING_DECISION_ID
    assert attr(task, "mapDecisionResult") == "singleEntry"
    assert attr(task, "resultVariable") == "proposedOpdCode"
    decision = root(BPMN_DIR / "routing-opd.dmn").find("dmn:decision", NS)
    assert decision is not None and decision.get("id") == ROUTING_DECISION_ID
    assert decision.get(f"{{{NS['camundaDmn']}}}historyTimeToLive") == HISTORY_TIME_TO_LIVE


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.form")), ids=lambda p: p.name)
def test_every_form_is_a_camunda_7_form_the_tasklist_can_render(path: Path) -> None:
    form = json.loads(path.read_text())
    assert form["id"] == path.stem, "user tasks find a form by its id (camunda:formRef)"
    assert (form["executionPlatform"], form["executionPlatformVersion"]) == EXECUTION_PLATFORM
    assert form["schemaVersion"] <= MAX_FORM_SCHEMA_VERSION
    for component in form["components"]:
        if "key" in component:
            assert component.get("label"), f"{path.name}: {component['key']} needs a label"
