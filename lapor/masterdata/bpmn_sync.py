"""The parts of bpmn/ that the master data decides, generated from it: `python -m lapor.masterdata.bpmn_sync [--write]`.

Two parts: the rules of the routing decision (routing-opd.dmn, from categories.csv, opd.csv and wilayah.csv) and the
options of the disposition form's `opdCode` select (disposisi-opd.form, from opd.csv). Without --write the command
checks that bpmn/ is in step and prints what would change; with --write it rewrites those two parts and leaves every
other byte of the files alone, so what a designer changed elsewhere in the Modeler stays.
"""

import argparse
import contextlib
import difflib
import json
import sys
from collections.abc import Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from xml.sax.saxutils import escape

from lapor.masterdata import MasterData, MasterDataError, read_master_data
from lapor.masterdata._xml import XmlElement, parse_xml
from lapor.masterdata.routing import OutOfStepError, Problem, RoutingRule, form_options, routing_rules
from lapor.settings import ROOT
from lapor.vocabulary import ROUTING_DECISION_ID, FormField

__all__ = ["BPMN_DIR", "OutOfStepError", "Problem", "check_models", "generate_models", "main", "write_models"]

BPMN_DIR = ROOT / "bpmn"
DMN_FILE = "routing-opd.dmn"
FORM_FILE = "disposisi-opd.form"
COMMAND = "python -m lapor.masterdata.bpmn_sync --write"
# The decision's inputs, in the order of the input entries of every rule.
DECISION_INPUTS = ("category", "kecamatanCode")
DECISION_OUTPUT = "opdCode"
_STEP = "  "  # the Modeler's indentation
_RUN = f"jalankan {COMMAND}"
_RULE_PARTS = (
    "description",
    "category entry (id and text)",
    "kecamatan entry (id and text)",
    "output entry (id and text)",
)


# --- routing-opd.dmn ---------------------------------------------------------------------------------------------


def _decision_table(root: XmlElement, display: str) -> XmlElement:
    decision = next((d for d in root.children_named("decision") if d.attrs.get("id") == ROUTING_DECISION_ID), None)
    table = decision.child_named("decisionTable") if decision else None
    if table is None:
        raise OutOfStepError(
            [
                Problem(
                    display,
                    ROUTING_DECISION_ID,
                    "berkas tidak memuat tabel keputusan dengan id ini",
                    "pulihkan dari git",
                )
            ]
        )
    inputs = tuple(
        (i.child_named("inputExpression") or i).text_of("text").strip() for i in table.children_named("input")
    )
    outputs = tuple(o.attrs.get("name", "") for o in table.children_named("output"))
    if inputs != DECISION_INPUTS or outputs != (DECISION_OUTPUT,):
        message = f"keputusan membaca {inputs} dan memberi {outputs}; generator menulis aturan untuk "
        message += f"{DECISION_INPUTS} -> ({DECISION_OUTPUT!r},)"
        raise OutOfStepError([Problem(display, table.attrs.get("id", ""), message, "pulihkan input dan output-nya")])
    return table


def _rule_xml(rule: RoutingRule, indent: str, prefix: str) -> str:
    inner, deeper = indent + _STEP, indent + _STEP * 2
    (category_id, category), (kecamatan_id, kecamatan), (output_id, output) = rule.entries()
    lines = [
        f'<{prefix}rule id="{rule.id}">',
        f"{inner}<{prefix}description>{escape(rule.description)}</{prefix}description>",
    ]
    for tag, entry_id, text in (
        ("inputEntry", category_id, category),
        ("inputEntry", kecamatan_id, kecamatan),
        ("outputEntry", output_id, output),
    ):
        lines += [
            f'{inner}<{prefix}{tag} id="{entry_id}">',
            f"{deeper}<{prefix}text>{escape(text)}</{prefix}text>",
            f"{inner}</{prefix}{tag}>",
        ]
    lines.append(f"{indent}</{prefix}rule>")
    return "\n".join(lines)


def render_dmn(data: bytes, rules: Sequence[RoutingRule], display: str = f"bpmn/{DMN_FILE}") -> bytes:
    """The DMN with its rules replaced by these; every byte before the first and after the last rule is kept."""
    table = _decision_table(parse_xml(data), display)
    prefix = table.tag[: -len("decisionTable")]
    current = table.children_named("rule")
    if current:
        start, end = current[0].start, current[-1].end
        lead = ""
    else:  # rules follow the inputs, outputs and annotations
        start = end = table.children[-1].end
        lead = "\n" + _line_indent(data, table.children[-1].start)
    indent = _line_indent(data, current[0].start) if current else lead[1:]
    region = lead + ("\n" + indent).join(_rule_xml(rule, indent, prefix) for rule in rules)
    return data[:start] + region.encode("utf-8") + data[end:]


def _line_indent(data: bytes, position: int) -> str:
    line_start = data.rfind(b"\n", 0, position) + 1
    return data[line_start:position].decode("utf-8")


def _dmn_problems(data: bytes, rules: Sequence[RoutingRule], opd_codes: set[str], display: str) -> list[Problem]:
    table = _decision_table(parse_xml(data), display)
    actual = {rule.attrs.get("id", ""): rule for rule in table.children_named("rule")}
    expected = {rule.id: rule for rule in rules}
    problems: list[Problem] = []
    for rule_id, element in actual.items():
        for output in element.children_named("outputEntry"):
            code = output.text_of("text").strip().strip('"')
            if code not in opd_codes:
                problems.append(
                    Problem(
                        display,
                        rule_id,
                        f'aturan mengirim laporan ke OPD "{code}", yang tidak ada di opd.csv',
                        f"tambahkan OPD itu ke opd.csv, atau {_RUN} untuk menulis ulang aturan",
                    )
                )
        if rule_id not in expected:
            problems.append(
                Problem(
                    display,
                    rule_id,
                    "aturan ini tidak berasal dari data induk dan akan dihapus",
                    f"masukkan yang dirutekannya ke categories.csv atau opd.csv, lalu {_RUN}",
                )
            )
    for rule_id, rule in expected.items():
        written = actual.get(rule_id)
        if written is None:
            problems.append(Problem(display, rule_id, f"aturan tidak ada: {rule.description}", _RUN))
            continue
        found = [written.text_of("description")] + [
            f"{e.attrs.get('id', '')} {e.text_of('text')}"
            for e in written.children
            if e.local_name in {"inputEntry", "outputEntry"}
        ]
        wanted = [rule.description] + [f"{entry_id} {text}" for entry_id, text in rule.entries()]
        for part, was, should in zip(_RULE_PARTS, found, wanted, strict=False):
            if was != should:
                message = f"{part} berisi {was!r}; data induk memberi {should!r}"
                problems.append(Problem(display, rule_id, message, _RUN))
        if len(found) != len(wanted):
            problems.append(Problem(display, rule_id, "aturan tidak punya dua input entry dan satu output entry", _RUN))
    in_both = [rule_id for rule_id in actual if rule_id in expected]
    if in_both != [rule_id for rule_id in expected if rule_id in actual]:
        order = ", ".join(expected)
        problems.append(Problem(display, table.attrs.get("id", ""), f"urutan aturan bukan {order}", _RUN))
    return problems


# --- disposisi-opd.form ------------------------------------------------------------------------------------------


def _opd_select(form: dict[str, object], display: str) -> dict[str, object]:
    components = form.get("components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and component.get("key") == FormField.OPD_CODE:
            if component.get("type") != "select":
                break
            return component
    raise OutOfStepError(
        [
            Problem(
                display,
                FormField.OPD_CODE,
                "formulir tidak punya isian pilihan (select) dengan key ini",
                "pulihkan dari git",
            )
        ]
    )


def render_form(text: str, options: list[dict[str, str]], display: str = f"bpmn/{FORM_FILE}") -> str:
    """The form with the OPD select's options replaced, written as the Modeler writes JSON (two-space indent)."""
    form = json.loads(text)
    _opd_select(form, display)["values"] = options
    return json.dumps(form, indent=2, ensure_ascii=False) + "\n"


def _form_problems(text: str, options: list[dict[str, str]], opd_codes: set[str], display: str) -> list[Problem]:
    values = _opd_select(json.loads(text), display).get("values")
    actual = [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []
    key = FormField.OPD_CODE.value
    problems = [
        Problem(display, key, f'pilihan "{v.get("value")}" menyebut OPD yang tidak ada di opd.csv', _RUN)
        for v in actual
        if v.get("value") not in opd_codes
    ]
    labels = {v.get("value"): v.get("label") for v in actual}
    for option in options:
        label = labels.get(option["value"])
        if option["value"] not in labels:
            problems.append(Problem(display, key, f'OPD "{option["value"]}" tidak ada di pilihan', _RUN))
        elif label != option["label"]:
            problems.append(
                Problem(
                    display,
                    key,
                    f'pilihan "{option["value"]}" berbunyi {label!r}, seharusnya {option["label"]!r}',
                    _RUN,
                )
            )
    in_both = [v.get("value") for v in actual if v.get("value") in {o["value"] for o in options}]
    if not problems and in_both != [o["value"] for o in options]:
        problems.append(Problem(display, key, "urutan pilihan tidak mengikuti opd.csv", _RUN))
    return problems


# --- the check and the rewrite -----------------------------------------------------------------------------------


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _read_data(masterdata_dir: Traversable | None) -> tuple[MasterData | None, list[Problem]]:
    try:
        return read_master_data(masterdata_dir), []
    except MasterDataError as err:
        return None, [Problem("lapor/masterdata", "-", str(err), "perbaiki berkas itu")]


def generate_models(bpmn_dir: Path = BPMN_DIR, masterdata_dir: Traversable | None = None) -> dict[Path, bytes]:
    """The two files as the master data makes them; OutOfStepError when the master data or a file's frame is wrong."""
    data, problems = _read_data(masterdata_dir)
    if data is None:
        raise OutOfStepError(problems)
    rules, problems = routing_rules(data)
    if problems:
        raise OutOfStepError(problems)
    dmn, form = bpmn_dir / DMN_FILE, bpmn_dir / FORM_FILE
    return {
        dmn: render_dmn(dmn.read_bytes(), rules, _display(dmn)),
        form: render_form(form.read_text(encoding="utf-8"), form_options(data), _display(form)).encode("utf-8"),
    }


def check_models(bpmn_dir: Path = BPMN_DIR, masterdata_dir: Traversable | None = None) -> list[Problem]:
    """What keeps the routing decision and the disposition form out of step with the master data; [] when in step."""
    data, problems = _read_data(masterdata_dir)
    if data is None:
        return problems
    rules, problems = routing_rules(data)
    codes = {o.code for o in data.opds}
    dmn, form = bpmn_dir / DMN_FILE, bpmn_dir / FORM_FILE
    try:
        problems += _dmn_problems(dmn.read_bytes(), rules, codes, _display(dmn))
        problems += _form_problems(form.read_text(encoding="utf-8"), form_options(data), codes, _display(form))
        if not problems:  # in step in substance; the generator would still change the layout
            elements = {dmn: ROUTING_DECISION_ID, form: FormField.OPD_CODE.value}
            for path, content in generate_models(bpmn_dir, masterdata_dir).items():
                if path.read_bytes() != content:
                    message = "bagian yang dihasilkan tersusun berbeda (indentasi, format JSON)"
                    problems.append(Problem(_display(path), elements[path], message, _RUN))
    except OutOfStepError as err:
        problems += err.problems
    return problems


def write_models(bpmn_dir: Path = BPMN_DIR, masterdata_dir: Traversable | None = None) -> list[Path]:
    """Rewrite the generated parts; the files that changed."""
    changed = []
    for path, content in generate_models(bpmn_dir, masterdata_dir).items():
        if path.read_bytes() != content:
            path.write_bytes(content)
            changed.append(path)
    return changed


def _diff(bpmn_dir: Path, masterdata_dir: Traversable | None) -> str:
    lines: list[str] = []
    for path, content in generate_models(bpmn_dir, masterdata_dir).items():
        lines += difflib.unified_diff(
            path.read_text(encoding="utf-8").splitlines(keepends=True),
            content.decode("utf-8").splitlines(keepends=True),
            fromfile=_display(path),
            tofile=f"{_display(path)} (generated)",
        )
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lapor.masterdata.bpmn_sync", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the generated parts of bpmn/")
    parser.add_argument("--bpmn-dir", type=Path, default=BPMN_DIR)
    parser.add_argument("--masterdata-dir", type=Path, default=None, help="default: the bundled lapor/masterdata")
    args = parser.parse_args(argv)
    if args.write:
        try:
            changed = write_models(args.bpmn_dir, args.masterdata_dir)
        except OutOfStepError as err:
            print("\n".join(map(str, err.problems)), file=sys.stderr)
            return 1
        print("\n".join(f"ditulis ulang: {_display(path)}" for path in changed) or "bpmn/ sudah sesuai data induk")
        return 0
    problems = check_models(args.bpmn_dir, args.masterdata_dir)
    if not problems:
        print("bpmn/ sesuai dengan data induk")
        return 0
    print("\n".join(map(str, problems)), file=sys.stderr)
    with contextlib.suppress(OutOfStepError):  # nothing can be generated: the problems above say why
        print(_diff(args.bpmn_dir, args.masterdata_dir), end="")
    return 1


if __name__ == "__main__":
    sys.exit(main())
