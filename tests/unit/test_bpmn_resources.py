"""bpmn/ agrees with itself, with the master data and with the workers (typos here become incidents later)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lapor import masterdata
from lapor.zeebe import BPMN_DIR
from workers.main import ROUTERS

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
PROCESSES = sorted(BPMN_DIR.glob("*.bpmn"))


def forms() -> dict[str, dict[str, object]]:
    return {json.loads(p.read_text())["id"]: json.loads(p.read_text()) for p in BPMN_DIR.glob("*.form")}


def service_tasks(path: Path) -> list[ET.Element]:
    return ET.parse(path).getroot().findall(".//bpmn:serviceTask", NS)


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_every_job_type_has_a_worker_and_reads_time_from_the_engine(path: Path) -> None:
    registered = {task.type for router in ROUTERS for task in router.tasks}
    for task in service_tasks(path):
        job_type = task.find(".//zeebe:taskDefinition", NS).get("type")  # type: ignore[union-attr]
        assert job_type in registered, f"{task.get('id')}: no worker for job type {job_type}"
        inputs = {i.get("target"): i.get("source") for i in task.findall(".//zeebe:input", NS)}
        assert inputs.get("engineNow") == "=now()", f"{task.get('id')} must map the engine clock to engineNow"


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_every_user_task_is_a_camunda_user_task_with_a_form_and_candidate_groups(path: Path) -> None:
    known_forms = forms()
    tasks = ET.parse(path).getroot().findall(".//bpmn:userTask", NS)
    assert tasks
    for task in tasks:
        assert task.find(".//zeebe:userTask", NS) is not None, task.get("id")
        form = task.find(".//zeebe:formDefinition", NS)
        assert form is not None and form.get("formId") in known_forms, task.get("id")
        groups = task.find(".//zeebe:assignmentDefinition", NS)
        assert groups is not None and groups.get("candidateGroups"), task.get("id")


def test_the_routing_decision_only_names_known_opds_and_covers_every_category() -> None:
    root = ET.parse(BPMN_DIR / "routing-opd.dmn").getroot()
    rules = root.findall(".//dmn:rule", NS)
    outputs = {r.find("dmn:outputEntry/dmn:text", NS).text.strip('"') for r in rules}  # type: ignore[union-attr]
    assert outputs <= {o.code for o in masterdata.opd_list()}
    routed = {
        code.strip().strip('"')
        for r in rules
        for code in (r.find("dmn:inputEntry/dmn:text", NS).text or "").split(",")  # type: ignore[union-attr]
    }
    kecamatan_rules = {
        r.find("dmn:inputEntry[2]/dmn:text", NS).text.strip('"')  # type: ignore[union-attr]
        for r in rules
        if r.find("dmn:inputEntry/dmn:text", NS).text == "-"  # type: ignore[union-attr]
    }
    for category in masterdata.category_list():
        assert category.code in routed or category.code == "LAINNYA", f"{category.code} has no routing rule"
    assert {k.code for k in masterdata.kecamatan_list()} <= kecamatan_rules


def test_the_dispatch_form_offers_exactly_the_opds_of_the_master_data() -> None:
    form = forms()["disposisi-opd"]
    select = next(c for c in form["components"] if c.get("key") == "opdCode")  # type: ignore[attr-defined]
    assert [v["value"] for v in select["values"]] == [o.code for o in masterdata.opd_list()]
