"""The process designer's loop after an edit in the Modeler: `python -m lapor.designer [--check | --plan |
--migrate]` (docs/designers.md). Without an option it checks and deploys; running reports stay on their version.

`--check` checks bpmn/ against the code's contract (lapor.modelcheck) and changes nothing.
`--plan` also shows what changed against the deployed version and, for each older version with running reports,
where those reports wait and which of them could move to the new version; it changes nothing either.
`--migrate` checks, deploys, then asks the engine for a migration plan from each older version to the new one
(activities of the same id), validates it and moves the running reports in batches; reports waiting in an element
the new version no longer has stay on their version and are listed with the reason.

A moved report keeps its deadlines: its `<x>DueAt` variables, timers and task due dates are not recomputed (the
engine's plan is generated without updating event triggers), so a shorter SLA in the new version applies to the
deadlines computed after the move (a new report, a new round) and never shortens a deadline a reporter or an OPD
was already told.
"""

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from lapor.bpmn_reader import NS
from lapor.deploy import BPMN_DIR, admin_client, deploy_directory
from lapor.logging import configure_logging
from lapor.modelcheck import Finding, check
from lapor.process import EngineAuthError, EngineClient, EngineError, EngineUnavailable
from lapor.process import migration as engine_migration
from lapor.process.migration import ProcessDefinition, Waiting
from lapor.settings import get_settings

# Reports moved per engine batch (each batch job moves one report, whole or not at all).
BATCH_SIZE = 500
_FLOW_TAGS = {
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask", "manualTask",
    "callActivity", "subProcess", "startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "sequenceFlow",
}  # fmt: skip
_KIND_WORDS = {"userTask": "tugas", "serviceTask": "tugas sistem", "sequenceFlow": "alur", "boundaryEvent": "peristiwa"}


@dataclass(frozen=True)
class Change:
    """One element that differs between the deployed version and the model in bpmn/."""

    element_id: str
    name: str
    kind: str  # baru | dihapus | diubah
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        label = f"{self.name} ({self.element_id})" if self.name else self.element_id
        return f"{self.kind}: {label}" + "".join(f"\n      {d}" for d in self.details)


@dataclass(frozen=True)
class Stuck:
    """A running report that cannot move, and why."""

    tracking_id: str
    activity_id: str
    reason: str


@dataclass
class VersionPlan:
    """An older version with running reports: where they wait, which activities can move, which reports cannot."""

    definition: ProcessDefinition
    waiting: list[Waiting]
    movable: set[str]  # activity ids the new version maps
    stuck: list[Stuck] = field(default_factory=list)
    plan_failures: list[str] = field(default_factory=list)  # the engine refused the whole plan
    moved: int = 0  # after --migrate: reports moved
    failed: list[str] = field(default_factory=list)  # after --migrate: the engine's message per failed report

    movable_reports: int = 0  # reports the plan would move (all but the stuck ones)
    names: dict[str, str] = field(default_factory=dict)  # element id -> name in this version, for the report


@dataclass
class ProcessPlan:
    key: str
    file: str
    deployed: ProcessDefinition | None
    changes: list[Change]
    versions: list[VersionPlan]
    target: ProcessDefinition | None = None  # after --migrate: the version reports were moved to


@dataclass(frozen=True)
class ResourcePlan:
    """A decision or form file and how it differs from its deployed copy (tasks find them by binding latest, so a
    deploy changes them for every running report at once)."""

    file: str
    deployed: bool  # a copy was deployed before
    changes: tuple[Change, ...]


@dataclass
class Outcome:
    findings: list[Finding]
    processes: list[ProcessPlan] = field(default_factory=list)
    resources: list[ResourcePlan] = field(default_factory=list)
    deployed_resources: list[str] = field(default_factory=list)
    deployed: bool = False
    migrated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings and all(
            not v.failed and not v.plan_failures for p in self.processes for v in p.versions
        )


# -- what changed --------------------------------------------------------------------------------------------------
def _elements(xml: bytes) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(xml)  # noqa: S314 - the engine's copy of our own model, or our own file
    return {
        str(e.get("id")): e
        for e in root.iter()
        if e.get("id") and e.tag.rsplit("}", 1)[-1] in _FLOW_TAGS and e.tag.startswith(f"{{{NS['bpmn']}}}")
    }


def _features(element: ElementTree.Element) -> dict[str, str]:
    """What a designer may change on an element, as readable key → value pairs."""
    found: dict[str, str] = {}
    for name, value in element.attrib.items():
        if name in ("id",):
            continue
        found[name.rsplit("}", 1)[-1]] = value
    for prop in element.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS):
        found[f"properti {prop.get('name')}"] = str(prop.get("value", ""))
    for param in element.findall("bpmn:extensionElements/camunda:inputOutput/*", NS):
        found[f"{param.tag.rsplit('}', 1)[-1]} {param.get('name')}"] = (param.text or "").strip()
    for tag in ("timeDate", "timeDuration", "timeCycle", "conditionExpression", "documentation"):
        for child in element.iter(f"{{{NS['bpmn']}}}{tag}"):
            found[tag] = (child.text or "").strip()
    return found


def changes_between(deployed: bytes | None, model: bytes) -> list[Change]:
    new = _elements(model)
    if deployed is None:
        return [Change(i, e.get("name", ""), "baru") for i, e in sorted(new.items())]
    old = _elements(deployed)
    result: list[Change] = []
    for element_id in sorted(old.keys() | new.keys()):
        before, after = old.get(element_id), new.get(element_id)
        if before is None and after is not None:
            result.append(Change(element_id, after.get("name", ""), "baru"))
        elif after is None and before is not None:
            result.append(Change(element_id, before.get("name", ""), "dihapus"))
        elif before is not None and after is not None:
            a, b = _features(before), _features(after)
            if before.tag != after.tag:
                details = [f"jenis: {before.tag.rsplit('}', 1)[-1]} → {after.tag.rsplit('}', 1)[-1]}"]
            else:
                details = [
                    f"{k}: {a.get(k, '—')!s} → {b.get(k, '—')!s}"
                    for k in sorted(a.keys() | b.keys())
                    if a.get(k) != b.get(k)
                ]
            if details:
                result.append(Change(element_id, after.get("name", ""), "diubah", tuple(details)))
    return result


def _dmn_rules(xml: bytes) -> dict[str, tuple[str, ...]]:
    root = ElementTree.fromstring(xml)  # noqa: S314 - our own decision, or the engine's copy of it
    return {
        str(rule.get("id")): tuple((e.findtext("{*}text") or "").strip() for e in rule if e.tag.endswith("Entry"))
        for rule in root.iter()
        if rule.tag.endswith("}rule")
    }


def _form_fields(text: bytes) -> dict[str, str]:
    def walk(components: object) -> Iterator[tuple[str, str]]:
        for c in components if isinstance(components, list) else []:
            if isinstance(c, dict):
                if isinstance(c.get("key") or c.get("id"), str):
                    yield str(c.get("key") or c.get("id")), json.dumps(c, sort_keys=True, ensure_ascii=False)
                yield from walk(c.get("components"))

    try:
        return dict(walk(json.loads(text).get("components")))
    except (ValueError, AttributeError):
        return {}


def resource_changes(name: str, deployed: bytes | None, current: bytes) -> tuple[Change, ...]:
    """What differs in a DMN (rules by id) or a form (fields by key) against the deployed copy."""
    if deployed is not None and deployed.strip() == current.strip():
        return ()
    old: dict[str, object]
    new: dict[str, object]
    if name.endswith(".dmn"):
        old, new, word = dict(_dmn_rules(deployed) if deployed else {}), dict(_dmn_rules(current)), "aturan"
    elif name.endswith(".form"):
        old, new, word = dict(_form_fields(deployed) if deployed else {}), dict(_form_fields(current)), "isian"
    else:
        return (Change(name, "", "diubah"),)
    changes = [
        Change(key, word, "baru" if key not in old else "dihapus" if key not in new else "diubah")
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]
    return tuple(changes) or (Change(name, "", "diubah", ("tata letak atau teks saja",)),)


def _process_files(directory: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(directory.glob("*.bpmn")):
        root = ElementTree.parse(path).getroot()  # noqa: S314 - the designer's own file
        for process in root.findall("bpmn:process", NS):
            yield str(process.get("id")), path


# -- plan and migrate ----------------------------------------------------------------------------------------------
def _same_kind(model: bytes) -> dict[str, str]:
    return {i: e.tag for i, e in _elements(model).items()}


def _stuck_in(client: EngineClient, definition_id: str, activity_id: str, reason: str) -> list[Stuck]:
    return [
        Stuck(business_key or instance_id, activity_id, reason)
        for instance_id, business_key in engine_migration.instances_in(client, definition_id, activity_id)
    ]


def _version_plan(
    client: EngineClient,
    source: ProcessDefinition,
    movable: set[str],
    new_model: dict[str, str],
    name_of: dict[str, str],
) -> VersionPlan:
    waiting = engine_migration.waiting(client, source.id)
    plan = VersionPlan(source, waiting, movable, names=name_of)
    for w in waiting:
        if w.activity_id in movable:
            continue
        label = f"{name_of.get(w.activity_id, '')} ({w.activity_id})".strip()
        reason = (
            f"{label} tidak ada di versi baru"
            if w.activity_id not in new_model
            else f"{label} berubah jenis di versi baru; mesin tidak dapat memetakannya"
        )
        plan.stuck.extend(_stuck_in(client, source.id, w.activity_id, reason))
    plan.movable_reports = len(engine_migration.instances(client, source.id)) - len({s.tracking_id for s in plan.stuck})
    return plan


def _names(xml: bytes) -> dict[str, str]:
    return {i: e.get("name", "") for i, e in _elements(xml).items()}


def plan(client: EngineClient, directory: Path = BPMN_DIR) -> Outcome:
    """Check the models and predict what a deploy would change and move; changes nothing."""
    outcome = Outcome(check(directory))
    for key, path in _process_files(directory):
        model = path.read_bytes()
        deployed = engine_migration.latest(client, key)
        deployed_xml = engine_migration.definition_xml(client, deployed.id) if deployed else None
        changes = changes_between(deployed_xml, model)
        if deployed_xml is not None and not changes and deployed_xml.strip() != model.strip():
            changes = [Change(key, "", "diubah", ("tata letak diagram atau teks saja; tetap menjadi versi baru",))]
        process = ProcessPlan(key, path.name, deployed, changes, [])
        new_kinds = _same_kind(model)
        for source in engine_migration.definitions(client, key):
            source_xml = engine_migration.definition_xml(client, source.id)
            # A deploy makes a new version only when the model changed; otherwise the latest is the target.
            if not changes and deployed is not None and source.id == deployed.id:
                continue
            old_kinds = _same_kind(source_xml)
            movable = {i for i, tag in old_kinds.items() if new_kinds.get(i) == tag}
            version = _version_plan(client, source, movable, new_kinds, _names(source_xml))
            if version.waiting:
                process.versions.append(version)
        outcome.processes.append(process)
    for path in sorted(p for p in directory.iterdir() if p.suffix in (".dmn", ".form", ".html")):
        deployed_copy = engine_migration.deployed_resource(client, path.name)
        differs = resource_changes(path.name, deployed_copy, path.read_bytes())
        if differs:
            outcome.resources.append(ResourcePlan(path.name, deployed_copy is not None, differs))
    return outcome


def deploy(client: EngineClient, directory: Path = BPMN_DIR) -> Outcome:
    """Check and deploy; running reports stay on their versions (the plan lists them)."""
    outcome = plan(client, directory)
    if not outcome.findings:
        outcome.deployed_resources = deploy_directory(client, directory).resources
        outcome.deployed = True
    return outcome


def migrate(client: EngineClient, directory: Path = BPMN_DIR, *, batch_size: int = BATCH_SIZE) -> Outcome:
    """Check, deploy, and move every running report of an older version that the engine's plan can move."""
    outcome = deploy(client, directory)
    if not outcome.deployed:
        return outcome  # nothing is deployed while the models break the contract
    outcome.migrated = True
    for process in outcome.processes:
        target = engine_migration.latest(client, process.key)
        process.target = target
        if target is None:
            continue
        refreshed: list[VersionPlan] = []
        for source in engine_migration.definitions(client, process.key):
            if source.id == target.id:
                continue
            generated = engine_migration.generate(client, source.id, target.id)
            source_xml = engine_migration.definition_xml(client, source.id)
            version = _version_plan(
                client,
                source,
                set(generated.mapped),
                _same_kind(engine_migration.definition_xml(client, target.id)),
                _names(source_xml),
            )
            if not version.waiting:
                continue
            version.plan_failures = engine_migration.validate(client, generated)
            if not version.plan_failures:
                stuck = {s.tracking_id for s in version.stuck}
                ids = [
                    instance_id
                    for instance_id, business_key in engine_migration.instances(client, source.id)
                    if (business_key or instance_id) not in stuck
                ]
                for start in range(0, len(ids), batch_size):
                    result = engine_migration.execute(client, generated, ids[start : start + batch_size])
                    version.moved += result.jobs - result.failed_jobs
                    version.failed.extend(result.failures)
            refreshed.append(version)
        process.versions = refreshed
    return outcome


# -- what the designer reads ---------------------------------------------------------------------------------------
def report(outcome: Outcome, *, mode: str) -> str:
    """The outcome in words (Bahasa Indonesia), as the command prints it."""
    lines: list[str] = []
    if outcome.findings:
        lines.append(f"Pemeriksaan model: {len(outcome.findings)} masalah ditemukan.")
        lines += [f"  - {f}" for f in outcome.findings]
        if mode in ("deploy", "migrate"):
            lines.append("Tidak ada yang dideploy: perbaiki masalah di atas lalu jalankan lagi.")
    else:
        lines.append("Pemeriksaan model: tidak ada masalah (kontrak kode dan bpmnlint camunda-platform-7-24).")
    if mode == "check":
        return "\n".join(lines)
    for process in outcome.processes:
        deployed = f"versi {process.deployed.version}" if process.deployed else "belum pernah dideploy"
        lines.append(f"\nProses {process.key} ({process.file}), terpasang: {deployed}")
        if process.changes:
            lines.append(f"  Perubahan terhadap versi terpasang ({len(process.changes)}):")
            lines += [f"    {c}" for c in process.changes]
        else:
            lines.append("  Tidak ada perubahan terhadap versi terpasang.")
        if process.target is not None:
            lines.append(f"  Versi tujuan: {process.target.version}")
        if not process.versions:
            lines.append("  Tidak ada laporan berjalan di versi lama.")
        for version in process.versions:
            lines.extend(_version_lines(version, migrated=outcome.migrated))
    if outcome.migrated:
        changed = ", ".join(outcome.deployed_resources) or "tidak ada (semua berkas sama dengan yang terpasang)"
        lines.append(f"\nDideploy: {changed}")
    else:
        lines.append(
            "\nTidak ada yang diubah (--plan). Jalankan dengan --migrate untuk deploy dan memindahkan laporan."
        )
    return "\n".join(lines)


def _version_lines(version: VersionPlan, *, migrated: bool) -> list[str]:
    lines = [f"  Versi {version.definition.version}: laporan berjalan menurut aktivitas"]
    for w in version.waiting:
        state = "dapat dipindah" if w.activity_id in version.movable else "TIDAK dapat dipindah"
        name = version.names.get(w.activity_id, "")
        label = f"{name} ({w.activity_id})" if name else w.activity_id
        lines.append(f"    {label}: {w.instances} laporan ({state})")
    if version.plan_failures:
        lines.append("    Mesin menolak rencana migrasi; semua laporan tetap di versi ini:")
        lines += [f"      - {f}" for f in version.plan_failures]
    if migrated:
        lines.append(f"    Dipindah: {version.moved} laporan")
        lines += [f"    Gagal dipindah: {f}" for f in version.failed]
    else:
        lines.append(f"    Akan dipindah: {version.movable_reports} laporan")
    if version.stuck:
        lines.append(f"    Tetap di versi {version.definition.version} ({len(version.stuck)}):")
        lines += [f"      - {s.tracking_id}: {s.reason}" for s in sorted(version.stuck, key=lambda s: s.tracking_id)]
    return lines


def exit_code(outcome: Outcome) -> int:
    """0 when all is well; 1 when the models have findings or the engine refused a plan or a report."""
    return 0 if outcome.ok else 1


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level="WARNING")
    parser = argparse.ArgumentParser(prog="python -m lapor.designer", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check the models against the code; no engine needed")
    mode.add_argument("--plan", action="store_true", help="check, show the changes and what would move; change nothing")
    mode.add_argument("--migrate", action="store_true", help="check, deploy, and move running reports")
    parser.add_argument("--bpmn-dir", type=Path, default=BPMN_DIR, help="the models (default: bpmn/)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="reports per engine batch")
    args = parser.parse_args(argv)
    if args.check:
        outcome = Outcome(check(args.bpmn_dir))
        print(report(outcome, mode="check"))
        return exit_code(outcome)
    chosen = "plan" if args.plan else "migrate" if args.migrate else "deploy"
    try:
        with admin_client(settings) as client:
            if chosen == "plan":
                outcome = plan(client, args.bpmn_dir)
            elif chosen == "migrate":
                outcome = migrate(client, args.bpmn_dir, batch_size=args.batch_size)
            else:
                outcome = deploy(client, args.bpmn_dir)
    except EngineUnavailable as err:
        print(f"error: the engine at {settings.engine_url} does not answer: {err}", file=sys.stderr)
        return 1
    except EngineAuthError as err:
        print(f"error: the engine refused the administrator login (LAPOR_ENGINE_ADMIN_USER): {err}", file=sys.stderr)
        return 1
    except EngineError as err:  # e.g. a migration batch that did not finish: what moved so far stays moved
        print(f"error: the engine answered: {err}", file=sys.stderr)
        return 1
    print(report(outcome, mode=chosen))
    return exit_code(outcome)


if __name__ == "__main__":
    sys.exit(main())
