"""Checks the models in bpmn/ against the code's contract before they reach the engine: `python -m lapor.designer
--check` shows the findings to a process designer, the tests hold the shipped models to zero findings.

What the engine finds only when a report reaches the element is found here at once: a topic no worker handles, a
property a worker reads that is missing or wrong (the SLA lengths among them), a form field a worker reads that no
form has, a message or error code the code does not know, a DMN output that names no OPD, a user task without
candidate groups, form or due date, a timer on a variable no task sets before it. Each finding names the file, the
element (its name as the Modeler shows it, and its id) and says how to fix it, in Bahasa Indonesia.
"""

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from lapor.bpmn_reader import NS, BpmnModel, camunda, properties
from lapor.deadlines import rule_from_properties
from lapor.masterdata.bpmn_sync import check_models
from lapor.models import ReportStatus
from lapor.settings import ROOT
from lapor.vocabulary import (
    ENGINE_NOW_VARIABLE,
    RECIPIENTS,
    SLA_PROPERTY,
    Actor,
    Deadline,
    ErrorCode,
    FormField,
    Message,
    Notice,
    Topic,
)

EXECUTION_PLATFORM = ("Camunda Platform", "7.24.0")
EXPRESSION = re.compile(r"^\$\{(\w+)\}$")
# Date variables a worker sets besides the deadlines' (lapor-deadline): the recap's review due date.
SET_BY_TOPIC: dict[str, frozenset[str]] = {Topic.RECAP.value: frozenset({"recapReviewDueAt"})}
# Form fields the workers write themselves (the citizen's rejection reason comes from the API's message).
WRITTEN_BY_WORKERS = frozenset({FormField.REJECTION_REASON})
REMINDER_KINDS = ("reminder", "escalation")
BPMN_DIR = ROOT / "bpmn"
BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
BPMNLINT_LINE = re.compile(r"^\s+(?P<id>\S+)\s+(?P<level>error|warning)\s+(?P<message>.+?)(?:\s{2,}(?P<rule>\S+))?\s*$")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing wrong in a model: where (file, element), what, and how a designer fixes it."""

    file: str
    element_id: str
    element_name: str
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.element_name} ({self.element_id})" if self.element_name else self.element_id
        return f"{self.file} · {where}: {self.problem}. Perbaikan: {self.fix}."


class _Model(BpmnModel):
    """One BPMN file, parsed once, with a finding builder that names its elements."""

    def finding(self, element: ElementTree.Element | None, problem: str, fix: str) -> Finding:
        if element is None:
            return Finding(self.path.name, self.root.get("id", "definitions"), "", problem, fix)
        return Finding(self.path.name, element.get("id", "?"), element.get("name", ""), problem, fix)


def check(directory: Path, *, lint: bool = True) -> list[Finding]:
    """Every finding in the models of a directory (BPMN, DMN, forms), sorted by file and element."""
    models = [_Model(p) for p in sorted(directory.glob("*.bpmn"))]
    forms = _forms(directory)
    findings = [f for model in models for f in _check_model(model, directory, forms)]
    findings += _check_forms(forms)
    findings += _check_decisions(directory, models)
    findings += _check_vocabulary_coverage(directory, forms)
    if lint:
        names = {(m.path.name, e.get("id")): e.get("name", "") for m in models for e in m.root.iter() if e.get("id")}
        findings += [
            Finding(f.file, f.element_id, names.get((f.file, f.element_id), ""), f.problem, f.fix)
            for f in bpmnlint([m.path for m in models])
        ]
    return sorted(set(findings))


def _forms(directory: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    forms: dict[str, tuple[Path, dict[str, object]]] = {}
    for path in sorted(directory.glob("*.form")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            schema = {"id": path.stem, "components": [], "_error": str(err)}
        forms[str(schema.get("id") or path.stem)] = (path, schema)
    return forms


def _check_model(model: _Model, directory: Path, forms: dict[str, tuple[Path, dict[str, object]]]) -> Iterator[Finding]:
    yield from _check_dialect(model)
    yield from _check_service_tasks(model)
    yield from _check_user_tasks(model, directory, forms)
    yield from _check_timers_and_due_dates(model)
    yield from _check_errors_and_messages(model)


def _check_dialect(model: _Model) -> Iterator[Finding]:
    platform = (
        model.root.get(f"{{{NS['modeler']}}}executionPlatform"),
        model.root.get(f"{{{NS['modeler']}}}executionPlatformVersion"),
    )
    if platform != EXECUTION_PLATFORM:
        yield model.finding(
            None,
            f"berkas disimpan untuk platform {platform[0]} {platform[1]}, bukan Camunda Platform 7.24",
            "buka di Camunda Modeler, pilih Camunda Platform 7 (7.24) di bilah bawah, lalu simpan",
        )
    for process in model.root.findall("bpmn:process", NS):
        if process.get("isExecutable") != "true":
            yield model.finding(process, "proses tidak dapat dijalankan", "centang Executable pada panel General")
        if not camunda(process, "historyTimeToLive"):
            yield model.finding(
                process, "History time to live kosong", "isi P1825D (lima tahun) pada panel History cleanup"
            )


def _check_service_tasks(model: _Model) -> Iterator[Finding]:
    topics = {t.value for t in Topic}
    for task in model.all("serviceTask"):
        topic = camunda(task, "topic")
        if camunda(task, "type") != "external":
            yield model.finding(task, "bukan external task", "pilih Implementation: External, lalu isi Topic")
            continue
        if topic not in topics:
            yield model.finding(
                task,
                f"topic {topic!r} tidak dikerjakan oleh worker mana pun",
                f"pilih salah satu topic: {', '.join(sorted(topics))}",
            )
            continue
        inputs = {p.get("name"): p.text for p in task.findall(".//camunda:inputParameter", NS)}
        if inputs.get(ENGINE_NOW_VARIABLE) != "${now()}":
            yield model.finding(
                task,
                "tidak membawa jam mesin proses",
                f"tambahkan Input parameter {ENGINE_NOW_VARIABLE} bertipe Expression dengan nilai ${{now()}}",
            )
        yield from _check_properties(model, task, Topic(topic))


def _enum_property(
    model: _Model, task: ElementTree.Element, props: dict[str, str], name: str, allowed: Iterable[str]
) -> Iterator[Finding]:
    values = sorted(set(allowed))
    if props.get(name) not in values:
        got = "tidak ada" if name not in props else f"bernilai {props[name]!r}"
        yield model.finding(
            task, f"properti {name!r} {got}", f"isi Extension property {name} dengan salah satu: {', '.join(values)}"
        )


def _check_properties(model: _Model, task: ElementTree.Element, topic: Topic) -> Iterator[Finding]:
    props = properties(task)
    if topic is Topic.DEADLINE:
        codes = [d.code for d in Deadline]
        if props.get(SLA_PROPERTY) not in codes:
            yield from _enum_property(model, task, props, SLA_PROPERTY, codes)
            return
        deadline = Deadline.from_code(props[SLA_PROPERTY])
        try:
            rule_from_properties(deadline, props, "x")
        except ValueError as err:
            problem = str(err).removeprefix("x: ")
            problem, _, fix = problem.partition("; ")
            yield model.finding(task, f"SLA {deadline.label}: {problem}", fix or "lihat docs/designers.md")
    elif topic is Topic.STATUS:
        yield from _enum_property(model, task, props, "status", (s.value for s in ReportStatus))
        yield from _enum_property(model, task, props, "actor", (a.value for a in Actor))
    elif topic is Topic.NOTIFY:
        yield from _enum_property(model, task, props, "template", (n.value for n in Notice))
        yield from _enum_property(model, task, props, "recipient", (a.value for a in RECIPIENTS))
    elif topic is Topic.REMINDER:
        with_reminder = [d.code for d in Deadline if d.reminder_variable is not None]
        yield from _enum_property(model, task, props, "deadline", with_reminder)
        yield from _enum_property(model, task, props, "kind", REMINDER_KINDS)


def _due_variables() -> set[str]:
    return {d.due_variable for d in Deadline} | set(SET_BY_TOPIC.get(Topic.RECAP.value, ()))


def _check_user_tasks(
    model: _Model, directory: Path, forms: dict[str, tuple[Path, dict[str, object]]]
) -> Iterator[Finding]:
    for task in model.all("userTask"):
        groups = camunda(task, "candidateGroups")
        if not groups or " " in groups:
            yield model.finding(
                task,
                "tidak ada Candidate groups" if not groups else f"Candidate groups {groups!r} memuat spasi",
                "isi Candidate groups dengan grup peran dipisah koma, mis. admin-pengaduan atau analis,kepala-bidang",
            )
        embedded = camunda(task, "formKey")
        form_ref = camunda(task, "formRef")
        if embedded is not None:
            name = embedded.removeprefix("embedded:deployment:")
            if not embedded.startswith("embedded:deployment:") or not (directory / name).is_file():
                yield model.finding(
                    task,
                    f"formulir tertanam {embedded!r} tidak ada di bpmn/",
                    "gunakan embedded:deployment:<berkas>.html dengan berkas yang ada di bpmn/",
                )
        elif form_ref is None:
            yield model.finding(
                task, "tidak memakai formulir", "pilih Form type: Camunda Forms (linked) dan isi Form reference"
            )
        elif form_ref not in forms:
            yield model.finding(
                task,
                f"formulir {form_ref!r} tidak ada di bpmn/",
                f"isi Form reference dengan id salah satu formulir: {', '.join(sorted(forms))}",
            )
        elif camunda(task, "formRefBinding") != "latest":
            yield model.finding(task, "Form binding bukan latest", "pilih Binding: latest")
        due = camunda(task, "dueDate")
        match = EXPRESSION.match(due or "")
        if match is None or match.group(1) not in _due_variables():
            yield model.finding(
                task,
                "tidak ada Due date" if due is None else f"Due date {due!r} bukan variabel tenggat",
                "isi Due date dengan ${<x>DueAt} dari tugas Hitung tenggat sebelumnya, mis. ${verificationDueAt}",
            )


def _check_timers_and_due_dates(model: _Model) -> Iterator[Finding]:
    """A timer's date and a user task's due date read a variable that a task sets on every path before them."""
    date_variables = _due_variables() | {d.reminder_variable for d in Deadline if d.reminder_variable}
    for process in model.root.findall("bpmn:process", NS):
        graph = _Graph(process)
        waits: list[tuple[ElementTree.Element, str]] = []
        for event in process.iter(f"{{{NS['bpmn']}}}timeDate"):
            owner = graph.owner_of(event)
            match = EXPRESSION.match((event.text or "").strip())
            if match is None or match.group(1) not in date_variables:
                yield model.finding(
                    owner,
                    f"timer menunggu {event.text!r}, bukan variabel tanggal dari tugas Hitung tenggat",
                    "isi Timer Date dengan ${<x>DueAt} atau ${<x>ReminderAt}, mis. ${responseDueAt}",
                )
                continue
            waits.append((owner, match.group(1)))
        for task in process.iter(f"{{{NS['bpmn']}}}userTask"):
            match = EXPRESSION.match(camunda(task, "dueDate") or "")
            if match is not None:
                waits.append((task, match.group(1)))
        for element, variable in waits:
            if graph.reachable_without(element, graph.setters(variable)):
                yield model.finding(
                    element,
                    f"{variable} belum tentu diisi sebelum elemen ini: ada jalur dari awal proses yang tidak melewati "
                    "tugas yang menghitungnya",
                    "letakkan tugas Hitung tenggat yang menghitung variabel itu sebelum elemen ini di setiap jalur",
                )


class _Graph:
    """The flow of one process as a graph of element ids: sequence flows, boundary events from their activity,
    a subprocess into its start events and out through its end events, event subprocesses from their scope."""

    ENTRY = "#entry"

    def __init__(self, process: ElementTree.Element) -> None:
        self.edges: dict[str, set[str]] = defaultdict(set)
        self.parent: dict[int, ElementTree.Element] = {
            id(child): parent for parent in process.iter() for child in parent
        }
        self.by_id = {e.get("id", ""): e for e in process.iter() if e.get("id")}
        self._scope(process, self.ENTRY)

    def _scope(self, scope: ElementTree.Element, entry: str) -> None:
        exits = {s.get("id", "") for s in scope.findall("bpmn:subProcess", NS) if s.get("triggeredByEvent") != "true"}
        for child in scope:
            tag = child.tag.rsplit("}", 1)[-1]
            child_id = child.get("id", "")
            if tag == "startEvent":
                self.edges[entry].add(child_id)
            elif tag == "sequenceFlow":
                source = child.get("sourceRef", "")
                self.edges[f"{source}#exit" if source in exits else source].add(child.get("targetRef", ""))
            elif tag == "boundaryEvent":
                self.edges[child.get("attachedToRef", "")].add(child_id)
            elif tag == "subProcess":
                if child.get("triggeredByEvent") == "true":
                    self._scope(child, entry)
                else:
                    self._scope(child, child_id)
                    for end in child.findall("bpmn:endEvent", NS):
                        self.edges[end.get("id", "")].add(f"{child_id}#exit")

    def owner_of(self, element: ElementTree.Element) -> ElementTree.Element:
        """The flow node a definition (a timer's date) belongs to."""
        node = element
        while node.get("id") is None or node.tag.endswith("}timerEventDefinition"):
            node = self.parent[id(node)]
        return node

    def setters(self, variable: str) -> set[str]:
        found = set()
        for element in self.by_id.values():
            if not element.tag.endswith("}serviceTask"):
                continue
            topic, props = camunda(element, "topic"), properties(element)
            if topic == Topic.DEADLINE.value and props.get(SLA_PROPERTY) in {d.code for d in Deadline}:
                deadline = Deadline.from_code(props[SLA_PROPERTY])
                if variable in (deadline.due_variable, deadline.reminder_variable):
                    found.add(element.get("id", ""))
            elif variable in SET_BY_TOPIC.get(topic or "", ()):
                found.add(element.get("id", ""))
        return found

    def reachable_without(self, target: ElementTree.Element, removed: set[str]) -> bool:
        """Whether a path from the start reaches the element without passing any of the removed elements."""
        goal, seen, stack = target.get("id", ""), {self.ENTRY}, [self.ENTRY]
        while stack:
            for nxt in self.edges.get(stack.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen and nxt not in removed:
                    seen.add(nxt)
                    stack.append(nxt)
        return False


def _check_errors_and_messages(model: _Model) -> Iterator[Finding]:
    codes, names = {e.value for e in ErrorCode}, {m.value for m in Message}
    for error in model.root.findall("bpmn:error", NS):
        if error.get("errorCode") not in codes:
            yield model.finding(
                error,
                f"kode galat {error.get('errorCode')!r} tidak dilempar oleh worker mana pun",
                f"pakai salah satu kode: {', '.join(sorted(codes))}",
            )
    for message in model.root.findall("bpmn:message", NS):
        if message.get("name") not in names:
            yield model.finding(
                message,
                f"pesan {message.get('name')!r} tidak pernah dikirim oleh API",
                f"pakai salah satu nama pesan: {', '.join(sorted(names))}",
            )


def _form_keys(schema: dict[str, object]) -> Iterator[str]:
    components = schema.get("components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            if isinstance(component.get("key"), str):
                yield component["key"]
            yield from _form_keys(component)


def _check_forms(forms: dict[str, tuple[Path, dict[str, object]]]) -> Iterator[Finding]:
    for form_id, (path, schema) in forms.items():
        if "_error" in schema:
            yield Finding(
                path.name, form_id, "", f"bukan JSON yang sah ({schema['_error']})", "simpan ulang dari Modeler"
            )
            continue
        if form_id != path.stem:
            yield Finding(
                path.name,
                form_id,
                "",
                f"id formulir {form_id!r} berbeda dari nama berkas",
                f"ubah Id menjadi {path.stem}",
            )
        if (schema.get("executionPlatform"), schema.get("executionPlatformVersion")) != EXECUTION_PLATFORM:
            yield Finding(
                path.name, form_id, "", "formulir bukan untuk Camunda Platform 7.24", "pilih Camunda 7 (7.24)"
            )
        keys = list(_form_keys(schema))
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            yield Finding(path.name, key, "", f"kunci {key!r} dipakai dua kali", "beri setiap isian Key yang berbeda")


def _check_vocabulary_coverage(directory: Path, forms: dict[str, tuple[Path, dict[str, object]]]) -> Iterator[Finding]:
    """The form fields the workers read are on some form (or the embedded HTML form)."""
    on_forms = {key for _, schema in forms.values() for key in _form_keys(schema)}
    for path in directory.glob("*.html"):
        on_forms |= set(re.findall(r'cam-variable-name="(\w+)"', path.read_text(encoding="utf-8")))
    for field in sorted(set(FormField) - WRITTEN_BY_WORKERS):
        if field.value not in on_forms:
            yield Finding(
                "bpmn/*.form",
                field.value,
                "",
                f"isian {field.value!r} dibaca oleh worker tetapi tidak ada di formulir mana pun",
                f"kembalikan isian dengan Key {field.value} ke formulirnya (jangan ganti nama Key yang dibaca kode)",
            )


def _check_decisions(directory: Path, models: list[_Model]) -> Iterator[Finding]:
    """The routing decision and the disposition form agree with the master data (lapor.masterdata.bpmn_sync: every
    output names an OPD of opd.csv, the rules and options are the generated ones); tasks call decisions that exist."""
    decisions: set[str] = set()
    names: dict[tuple[str, str], str] = {}
    for path in sorted(directory.glob("*.dmn")):
        root = ElementTree.parse(path).getroot()  # noqa: S314 - the designer's own file, not remote input
        decisions |= {d.get("id", "") for d in root.findall("dmn:decision", NS)}
        for rule in root.iter(f"{{{NS['dmn']}}}rule"):
            names[(path.name, rule.get("id", ""))] = (rule.findtext("dmn:description", "", NS) or "").strip()
    for problem in check_models(directory):
        file = Path(problem.file).name
        yield Finding(
            file, str(problem.element), names.get((file, str(problem.element)), ""), problem.message, problem.fix
        )
    for model in models:
        for task in model.all("businessRuleTask"):
            if camunda(task, "decisionRef") not in decisions:
                yield model.finding(
                    task,
                    f"keputusan {camunda(task, 'decisionRef')!r} tidak ada di bpmn/*.dmn",
                    f"isi Decision reference dengan salah satu: {', '.join(sorted(decisions))}",
                )


def bpmnlint(paths: list[Path]) -> list[Finding]:
    """bpmnlint with the project's rules (.bpmnlintrc: recommended + camunda-platform-7-24), as findings."""
    if not paths:
        return []
    if not BPMNLINT.exists() or shutil.which("node") is None:
        return [Finding("bpmnlint", "-", "", "bpmnlint tidak terpasang", "jalankan make setup (npm ci) lebih dulu")]
    result = subprocess.run(
        [str(BPMNLINT), *map(str, paths)], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    findings, current = [], ""
    for line in result.stdout.splitlines():
        if line and not line[0].isspace():
            current = Path(line.strip()).name
        elif (match := BPMNLINT_LINE.match(line)) is not None:
            findings.append(
                Finding(
                    current,
                    match["id"],
                    "",
                    f"bpmnlint {match['level']} ({match['rule'] or 'import'}): {match['message']}",
                    "lihat https://github.com/bpmn-io/bpmnlint/tree/main/docs/rules dan perbaiki di Modeler",
                )
            )
    if result.returncode != 0 and not findings:
        findings.append(
            Finding("bpmnlint", "-", "", f"bpmnlint gagal: {result.stderr.strip()[:300]}", "periksa berkas")
        )
    return findings
