"""The restore command's reading of the model and its report to the operator (the comparison itself runs on the
real engine: tests/e2e/test_restore.py)."""

from lapor.models import ReportStatus
from lapor.restore import Finding, Kind, Outcome, describe, status_tasks
from lapor.vocabulary import Actor


def test_every_status_the_model_records_is_known_with_who_decides_it() -> None:
    tasks = status_tasks()
    assert {status for status, _actor in tasks.values()} == set(ReportStatus)
    assert tasks["RecordVerifiedStatusTask"] == (ReportStatus.TERVERIFIKASI, Actor.ADMIN_PENGADUAN)
    assert tasks["AutoCompleteReportTask"] == (ReportStatus.SELESAI, Actor.SISTEM)


def test_the_operator_reads_each_finding_then_what_is_left_for_a_person() -> None:
    outcome = Outcome(applied=False, reports=3, instances=2, closed_without_instance=1)
    outcome.findings = [
        Finding("PTK-2612-AAAAAA", Kind.NO_INSTANCE, "started again through the outbox, at verification"),
        Finding("PTK-2612-BBBBBB", Kind.REPORT_AHEAD, "set back from TERVERIFIKASI to BELUM_TERVERIFIKASI", "redo"),
    ]
    assert describe(outcome).splitlines() == [
        "PTK-2612-AAAAAA  report without instance     started again through the outbox, at verification",
        "PTK-2612-BBBBBB  report ahead of instance    set back from TERVERIFIKASI to BELUM_TERVERIFIKASI",
        "for a person:",
        "  PTK-2612-BBBBBB  report ahead of instance: redo",
        "3 reports, 2 instances, 1 closed reports the engine does not know; 2 would repair (dry run), 1 for a person",
    ]
    assert outcome.needs_person
    assert not Outcome(applied=True).needs_person
