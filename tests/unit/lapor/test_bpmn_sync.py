"""lapor.masterdata.bpmn_sync: the routing DMN's rules and the disposition form's OPD options come from the master
data, a check names what is out of step, and --write changes only those parts (and nothing the second time)."""

import json
import shutil
from pathlib import Path

import pytest

from lapor import masterdata
from lapor.masterdata import bpmn_sync
from lapor.masterdata._xml import parse_xml
from lapor.masterdata.bpmn_sync import BPMN_DIR, DMN_FILE, FORM_FILE, check_models, generate_models, main, write_models
from lapor.masterdata.routing import OutOfStepError, RoutingRule, routing_rules

MASTERDATA_DIR = Path(masterdata.__file__).parent
NEW_OPD = "DISPORA,Dinas Pemuda dan Olahraga,Dispora,opd-dispora,perangkat_daerah,dispora@pontianak.go.id\n"
NEW_CATEGORY = "OLAHRAGA,Fasilitas Olahraga,DISPORA\n"
NEW_RULE = """      <rule id="CategoryOlahragaRule">
        <description>Kategori "Fasilitas Olahraga": Dinas Pemuda dan Olahraga</description>
        <inputEntry id="CategoryOlahragaRuleCategory">
          <text>"OLAHRAGA"</text>
        </inputEntry>
        <inputEntry id="CategoryOlahragaRuleKecamatan">
          <text>-</text>
        </inputEntry>
        <outputEntry id="CategoryOlahragaRuleOpd">
          <text>"DISPORA"</text>
        </outputEntry>
      </rule>
"""


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the two generated files and of the master data, to change without touching the repository."""
    bpmn_dir, data_dir = tmp_path / "bpmn", tmp_path / "masterdata"
    bpmn_dir.mkdir()
    data_dir.mkdir()
    for name in (DMN_FILE, FORM_FILE):
        shutil.copy(BPMN_DIR / name, bpmn_dir / name)
    for name in ("opd.csv", "categories.csv", "wilayah.csv"):
        shutil.copy(MASTERDATA_DIR / name, data_dir / name)
    return bpmn_dir, data_dir


def append(path: Path, row: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + row, encoding="utf-8")


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def opd_options(bpmn_dir: Path) -> list[dict[str, str]]:
    form = json.loads((bpmn_dir / FORM_FILE).read_text(encoding="utf-8"))
    (select,) = [c for c in form["components"] if c.get("key") == "opdCode"]
    return select["values"]  # type: ignore[no-any-return]


def route(rules: list[RoutingRule], category: str, kecamatan_code: str) -> str:
    """What the FIRST hit policy makes of the rules."""
    for rule in rules:
        if (not rule.categories or category in rule.categories) and rule.kecamatan_code in (None, kecamatan_code):
            return rule.opd_code
    raise AssertionError("no rule matched")


def test_the_committed_dmn_and_form_are_what_the_master_data_generates() -> None:
    assert check_models() == []
    for path, content in generate_models().items():
        assert path.read_bytes() == content, path.name


def test_the_rules_route_a_category_to_its_opd_else_to_the_kecamatan_office_else_to_diskominfo() -> None:
    rules, problems = routing_rules(masterdata.read_master_data())
    assert problems == []
    for category in masterdata.category_list():
        for kecamatan in masterdata.kecamatan_list():
            expected = category.default_opd
            if expected == "DISKOMINFO":  # LAINNYA: triage at the kecamatan office first
                expected = "KEC-PTK-" + kecamatan.name.removeprefix("Pontianak ").upper()
            assert route(rules, category.code, kecamatan.code) == expected, (category.code, kecamatan.code)
    assert route(rules, "TIDAK_ADA", "61.71.03") == "KEC-PTK-BARAT"
    assert route(rules, "TIDAK_ADA", "61.71.99") == "DISKOMINFO"
    assert [r.id for r in rules][-7:] == [
        "KecamatanPontianakSelatanRule",
        "KecamatanPontianakTimurRule",
        "KecamatanPontianakBaratRule",
        "KecamatanPontianakUtaraRule",
        "KecamatanPontianakKotaRule",
        "KecamatanPontianakTenggaraRule",
        "FallbackDiskominfoRule",
    ]


def test_an_opd_added_to_the_master_data_gets_its_rule_and_its_option_and_nothing_else_changes(
    copies: tuple[Path, Path],
) -> None:
    bpmn_dir, data_dir = copies
    dmn_before = (bpmn_dir / DMN_FILE).read_text(encoding="utf-8")
    options_before = opd_options(bpmn_dir)
    append(data_dir / "opd.csv", NEW_OPD)
    append(data_dir / "categories.csv", NEW_CATEGORY)

    problems = check_models(bpmn_dir, data_dir)
    assert {(p.file.rsplit("/", 1)[-1], p.element) for p in problems} >= {
        (DMN_FILE, "CategoryOlahragaRule"),
        (FORM_FILE, "opdCode"),
    }
    assert all("--write" in p.fix for p in problems)

    assert write_models(bpmn_dir, data_dir) == [bpmn_dir / DMN_FILE, bpmn_dir / FORM_FILE]
    assert check_models(bpmn_dir, data_dir) == []
    # The new rule comes after the other category rules, before the kecamatan offices; every other byte is kept.
    dmn_after = (bpmn_dir / DMN_FILE).read_text(encoding="utf-8")
    anchor = '      <rule id="KecamatanPontianakSelatanRule">'
    assert dmn_after == dmn_before.replace(anchor, NEW_RULE + anchor)
    assert opd_options(bpmn_dir) == [
        *options_before,
        {"label": "Dispora — Dinas Pemuda dan Olahraga", "value": "DISPORA"},
    ]


def test_an_opd_the_master_data_does_not_know_is_reported_by_the_rule_and_the_field_that_name_it(
    copies: tuple[Path, Path],
) -> None:
    bpmn_dir, data_dir = copies
    replace_text(bpmn_dir / DMN_FILE, '<text>"DLH"</text>', '<text>"DINAS-X"</text>')
    replace_text(bpmn_dir / FORM_FILE, '"value": "DLH"', '"value": "DINAS-Y"')

    problems = check_models(bpmn_dir, data_dir)

    unknown = [p for p in problems if "tidak ada di opd.csv" in p.message]
    assert [(p.file, p.element) for p in unknown] == [
        (str(bpmn_dir / DMN_FILE), "CategorySampahRule"),
        (str(bpmn_dir / FORM_FILE), "opdCode"),
    ]
    assert '"DINAS-X"' in unknown[0].message and '"DINAS-Y"' in unknown[1].message
    assert "CategorySampahRule" in str(unknown[0]) and "--write" in str(unknown[0])
    write_models(bpmn_dir, data_dir)
    assert check_models(bpmn_dir, data_dir) == []


def test_a_hand_written_rule_is_reported_and_the_write_restores_the_generated_rules(
    copies: tuple[Path, Path],
) -> None:
    bpmn_dir, data_dir = copies
    anchor = '      <rule id="FallbackDiskominfoRule">'
    replace_text(bpmn_dir / DMN_FILE, anchor, NEW_RULE.replace("Olahraga", "Kolam") + anchor)

    problems = check_models(bpmn_dir, data_dir)

    assert [p.element for p in problems] == ["CategoryKolamRule", "CategoryKolamRule"]  # unknown OPD, not generated
    write_models(bpmn_dir, data_dir)
    assert (bpmn_dir / DMN_FILE).read_bytes() == (BPMN_DIR / DMN_FILE).read_bytes()


def test_write_twice_is_idempotent_and_keeps_the_designers_other_edits(copies: tuple[Path, Path]) -> None:
    bpmn_dir, data_dir = copies
    dmn, form = bpmn_dir / DMN_FILE, bpmn_dir / FORM_FILE
    # A designer moved the decision in the diagram and relabelled the note field; the rules and options are gone.
    replace_text(dmn, 'x="160" y="100"', 'x="300" y="240"')
    replace_text(form, '"label": "Catatan disposisi untuk OPD"', '"label": "Catatan untuk OPD"')
    table = parse_xml(dmn.read_bytes()).children[0].children_named("decisionTable")[0]
    rules = table.children_named("rule")
    data = dmn.read_bytes()
    dmn.write_bytes(data[: rules[0].start].rstrip(b" ") + data[rules[-1].end :].lstrip(b"\n"))
    assert b"<rule" not in dmn.read_bytes()
    replace_text(form, json.dumps(opd_options(bpmn_dir), indent=2, ensure_ascii=False).replace("\n", "\n      "), "[]")

    assert write_models(bpmn_dir, data_dir) == [dmn, form]
    first = dmn.read_bytes(), form.read_bytes()
    assert write_models(bpmn_dir, data_dir) == []
    assert (dmn.read_bytes(), form.read_bytes()) == first
    assert check_models(bpmn_dir, data_dir) == []
    # Everything but the designer's two edits is as committed.
    committed_dmn = (BPMN_DIR / DMN_FILE).read_text(encoding="utf-8")
    assert dmn.read_text(encoding="utf-8") == committed_dmn.replace('x="160" y="100"', 'x="300" y="240"')
    committed_form = (BPMN_DIR / FORM_FILE).read_text(encoding="utf-8")
    assert form.read_text(encoding="utf-8") == committed_form.replace(
        '"label": "Catatan disposisi untuk OPD"', '"label": "Catatan untuk OPD"'
    )


def test_master_data_the_rules_cannot_come_from_is_reported_and_not_written(copies: tuple[Path, Path]) -> None:
    bpmn_dir, data_dir = copies
    append(data_dir / "categories.csv", "OLAHRAGA,Fasilitas Olahraga,DISPORA\n")  # no such OPD in opd.csv
    append(data_dir / "opd.csv", NEW_OPD.replace("DISPORA,Dinas Pemuda dan Olahraga", "KEC-X,Kecamatan Entah"))

    problems = check_models(bpmn_dir, data_dir)

    assert ("lapor/masterdata/categories.csv", "OLAHRAGA") in {(p.file, p.element) for p in problems}
    assert ("lapor/masterdata/opd.csv", "KEC-X") not in {(p.file, p.element) for p in problems}  # not a kecamatan
    with pytest.raises(OutOfStepError, match="OLAHRAGA"):
        write_models(bpmn_dir, data_dir)
    assert main(["--bpmn-dir", str(bpmn_dir), "--masterdata-dir", str(data_dir), "--write"]) == 1
    assert (bpmn_dir / DMN_FILE).read_bytes() == (BPMN_DIR / DMN_FILE).read_bytes()


def test_a_kecamatan_office_must_name_a_kecamatan_and_every_kecamatan_needs_one(copies: tuple[Path, Path]) -> None:
    bpmn_dir, data_dir = copies
    replace_text(data_dir / "opd.csv", "Kecamatan Pontianak Kota,", "Kecamatan Kota Pontianak,")

    problems = {(p.file, p.element) for p in check_models(bpmn_dir, data_dir)}

    assert ("lapor/masterdata/opd.csv", "KEC-PTK-KOTA") in problems
    assert ("lapor/masterdata/wilayah.csv", "61.71.05") in problems


def test_the_command_checks_by_default_and_writes_with_write(
    copies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bpmn_dir, data_dir = copies
    append(data_dir / "opd.csv", NEW_OPD)
    arguments = ["--bpmn-dir", str(bpmn_dir), "--masterdata-dir", str(data_dir)]

    assert main(arguments) == 1
    out, err = capsys.readouterr()
    assert '+          "value": "DISPORA"' in out  # what --write would change, as a diff
    assert "opdCode" in err and bpmn_sync.COMMAND in err

    assert main([*arguments, "--write"]) == 0
    assert main(arguments) == 0
    assert "sesuai dengan data induk" in capsys.readouterr().out


def test_a_form_the_modeler_would_not_write_is_reported_even_when_its_options_are_right(
    copies: tuple[Path, Path],
) -> None:
    bpmn_dir, data_dir = copies
    form = bpmn_dir / FORM_FILE
    form.write_text(json.dumps(json.loads(form.read_text(encoding="utf-8")), indent=4), encoding="utf-8")

    problems = check_models(bpmn_dir, data_dir)

    assert [(p.file, p.element) for p in problems] == [(str(form), "opdCode")]
    assert "tersusun berbeda" in problems[0].message
