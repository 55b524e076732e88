"""`python -m lapor.designer --check`: each contract check finds its broken model and names the element.

Each test breaks a copy of bpmn/ the way a designer might in the Modeler (a misspelt topic, a renamed form field, a
deleted property) and asserts the one finding it causes: the file, the element's id and name, what is wrong.
"""

import shutil
from pathlib import Path

import pytest

from lapor.modelcheck import BPMN_DIR, Finding, check

PROCESS = "lapor-pengaduan.bpmn"


def broken(tmp_path: Path, file: str, old: str, new: str, *, count: int = 1) -> Path:
    """A copy of bpmn/ with one edit in one file (the first `count` occurrences)."""
    copy = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, copy)
    text = (copy / file).read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}: the test no longer breaks anything"
    (copy / file).write_text(text.replace(old, new, count), encoding="utf-8")
    return copy


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, "\n".join(map(str, findings))
    return findings[0]


def test_the_shipped_models_keep_the_contract_and_pass_bpmnlint() -> None:
    assert check(BPMN_DIR) == []


def test_a_misspelt_topic(tmp_path: Path) -> None:
    old = 'id="RecordUnverifiedStatusTask" name="Catat status Belum Terverifikasi" camunda:type="external" '
    models = broken(tmp_path, PROCESS, old + 'camunda:topic="lapor-status"', old + 'camunda:topic="lapor-statsu"')
    finding = only(check(models, lint=False))
    assert (finding.file, finding.element_id) == (PROCESS, "RecordUnverifiedStatusTask")
    assert "topic 'lapor-statsu' tidak dikerjakan oleh worker mana pun" in str(finding)
    assert str(finding).startswith(f"{PROCESS} · Catat status Belum Terverifikasi (RecordUnverifiedStatusTask): ")


def test_an_sla_length_that_is_not_a_number(tmp_path: Path) -> None:
    old = (
        '<camunda:property name="sla" value="opd-response" />\n          <camunda:property name="length" value="10" />'
    )
    models = broken(tmp_path, PROCESS, old, old.replace('"10"', '"sepuluh"'))
    finding = only(check(models, lint=False))
    assert finding.element_id == "ComputeResponseDeadlineTask"
    assert finding.problem == "SLA tanggapan OPD: properti 'length' bernilai 'sepuluh'"
    assert finding.fix == "isi dengan bilangan bulat jumlah hari, mis. 3"


def test_a_deleted_reminder_property(tmp_path: Path) -> None:
    old = '<camunda:property name="sla" value="verification" />\n          <camunda:property name="length" value="3" />'
    old += '\n          <camunda:property name="unit" value="working-days" />\n'
    old += '          <camunda:property name="reminderWorkingDaysBefore" value="1" />'
    models = broken(tmp_path, PROCESS, old, old.rsplit("\n", 1)[0])
    finding = only(check(models, lint=False))
    assert finding.element_id == "ComputeVerificationDeadlineTask"
    assert "'reminderWorkingDaysBefore' tidak ada" in finding.problem


def test_a_status_the_code_does_not_know(tmp_path: Path) -> None:
    models = broken(tmp_path, PROCESS, 'value="BELUM_TERVERIFIKASI"', 'value="BELUM_DIVERIFIKASI"')
    finding = only(check(models, lint=False))
    assert finding.element_id == "RecordUnverifiedStatusTask"
    assert finding.problem == "properti 'status' bernilai 'BELUM_DIVERIFIKASI'"
    assert "BELUM_TERVERIFIKASI" in finding.fix


def test_a_form_field_the_workers_read_renamed(tmp_path: Path) -> None:
    models = broken(tmp_path, "verifikasi-laporan.form", '"key": "verificationNote"', '"key": "catatanVerifikasi"')
    finding = only(check(models, lint=False))
    assert finding.element_id == "verificationNote"
    assert "dibaca oleh worker tetapi tidak ada di formulir mana pun" in finding.problem


def test_a_message_name_and_an_error_code_the_code_does_not_know(tmp_path: Path) -> None:
    models = broken(tmp_path, PROCESS, 'name="laporan-dilengkapi"', 'name="laporan-lengkap"')
    finding = only(check(models, lint=False))
    assert (finding.element_id, finding.element_name) == ("ReportSupplementedMessage", "laporan-lengkap")
    assert "tidak pernah dikirim oleh API" in finding.problem
    models = broken(tmp_path / "2", PROCESS, 'errorCode="PROOF_PHOTO_UNREADABLE"', 'errorCode="FOTO_RUSAK"')
    finding = only(check(models, lint=False))
    assert finding.element_id == "ProofPhotoUnreadableError" and "'FOTO_RUSAK'" in finding.problem


def test_a_decision_output_that_names_no_opd(tmp_path: Path) -> None:
    models = broken(tmp_path, "routing-opd.dmn", '<text>"DLH"</text>', '<text>"DINAS_KEBERSIHAN"</text>')
    findings = check(models, lint=False)
    assert {(f.file, f.element_id) for f in findings} == {("routing-opd.dmn", "CategorySampahRule")}
    assert findings[0].element_name.startswith("Kategori")  # the rule's description, as the Modeler shows it
    assert any('"DINAS_KEBERSIHAN", yang tidak ada di opd.csv' in f.problem for f in findings)


def test_an_opd_option_of_the_disposition_form_that_names_no_opd(tmp_path: Path) -> None:
    models = broken(tmp_path, "disposisi-opd.form", '"value": "DLH"', '"value": "DINAS_KEBERSIHAN"')
    findings = check(models, lint=False)
    assert {(f.file, f.element_id) for f in findings} == {("disposisi-opd.form", "opdCode")}
    assert any("DINAS_KEBERSIHAN" in f.problem for f in findings)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('camunda:candidateGroups="admin-pengaduan" camunda:dueDate="${verificationDueAt}"',
         'camunda:dueDate="${verificationDueAt}"', "tidak ada Candidate groups"),
        ('camunda:formRef="verifikasi-laporan"', 'camunda:formRef="verifikasi"', "formulir 'verifikasi' tidak ada"),
        (' camunda:dueDate="${verificationDueAt}">', ">", "tidak ada Due date"),
    ],
)  # fmt: skip
def test_a_user_task_without_groups_form_or_due_date(tmp_path: Path, old: str, new: str, problem: str) -> None:
    finding = only(check(broken(tmp_path, PROCESS, old, new), lint=False))
    assert (finding.element_id, finding.element_name) == ("VerifyReportTask", "Verifikasi laporan")
    assert problem in finding.problem


def test_a_timer_on_a_variable_nobody_sets(tmp_path: Path) -> None:
    models = broken(tmp_path, PROCESS, "${responseDueAt}</bpmn:timeDate>", "${responseDueDate}</bpmn:timeDate>")
    finding = only(check(models, lint=False))
    assert finding.element_id == "ResponseDeadlineTimer"
    assert "bukan variabel tanggal" in finding.problem


def test_a_timer_and_due_date_whose_variable_is_not_set_on_every_path_before_them(tmp_path: Path) -> None:
    """The response deadline computed as another deadline: responseDueAt is no longer set before the OPD's task."""
    models = broken(tmp_path, PROCESS, 'value="opd-response" />', 'value="opd-completion" />')
    findings = check(models, lint=False)
    assert {(f.element_id, f.problem.split(" ")[0]) for f in findings} == {
        ("OpdResponseTask", "responseDueAt"),
        ("ResponseDeadlineTimer", "responseDueAt"),
        ("ResponseReminderTimer", "responseReminderAt"),
    }
    assert all("belum tentu diisi sebelum elemen ini" in f.problem for f in findings)


def test_a_model_saved_for_another_engine(tmp_path: Path) -> None:
    models = broken(
        tmp_path, PROCESS, 'modeler:executionPlatformVersion="7.24.0"', 'modeler:executionPlatformVersion="7.21.0"'
    )
    finding = only(check(models, lint=False))
    assert finding.file == PROCESS and "Camunda Platform 7.21.0" in finding.problem


def test_bpmnlint_findings_name_the_element(tmp_path: Path) -> None:
    models = broken(tmp_path, PROCESS, "<bpmn:incoming>StartVerificationRoundFlow</bpmn:incoming>", "")
    findings = check(models)
    assert [(f.element_id, f.element_name) for f in findings] == [
        ("ComputeVerificationDeadlineTask", "Hitung tenggat verifikasi")
    ]
    assert "bpmnlint error (no-implicit-start)" in findings[0].problem


@pytest.mark.parametrize(
    ("file", "old", "new", "element", "problem"),
    [
        (PROCESS, 'name="recipient" value="pelapor" />', 'name="recipient" value="warga" />',
         "NotifyReportReceivedTask", "properti 'recipient' bernilai 'warga'"),
        (PROCESS, 'name="kind" value="escalation" />', 'name="kind" value="eskalasi" />',
         "EscalateVerificationTask", "properti 'kind' bernilai 'eskalasi'"),
        (PROCESS, '<camunda:property name="template" value="laporan-diterima" />',
         '<camunda:property name="templat" value="laporan-diterima" />',
         "NotifyReportReceivedTask", "properti 'template' tidak ada"),
        (PROCESS, 'camunda:type="external" camunda:topic="lapor-notify">', 'camunda:class="x.Y">',
         "NotifyReportReceivedTask", "bukan external task"),
        (PROCESS, 'camunda:decisionRef="RoutingOpd"', 'camunda:decisionRef="RutingOpd"',
         "ProposeOpdTask", "keputusan 'RutingOpd' tidak ada"),
        ("lapor-rekap-bulanan.bpmn", ' camunda:historyTimeToLive="P1825D"', "",
         "lapor-rekap-bulanan", "History time to live kosong"),
        ("verifikasi-laporan.form", '"key": "verificationNote"', '"key": "verificationResult"',
         "verificationResult", "kunci 'verificationResult' dipakai dua kali"),
    ],
)  # fmt: skip
def test_more_contract_checks_each_name_the_element(
    tmp_path: Path, file: str, old: str, new: str, element: str, problem: str
) -> None:
    findings = [f for f in check(broken(tmp_path, file, old, new), lint=False) if f.element_id == element]
    assert findings, f"nothing found at {element}"
    assert any(problem in f.problem for f in findings), "\n".join(map(str, findings))
