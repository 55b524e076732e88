"""lapor-status and lapor-auto-complete: the timeline the reporter reads in tracking, written once per task."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lapor import reports
from lapor.models import ReportEvent, ReportMessage, ReportStatus
from lapor.process.tasks import ModelError
from lapor.vocabulary import Actor, Topic
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import (
    ENGINE_NOW,
    REPORTER_EMAIL,
    REPORTER_NAME,
    TRACKING_ID,
    Installed,
    TaskFactory,
    add_report,
)
from workers.status import auto_complete, record_status


def timeline(session_factory: SessionFactory) -> list[tuple[str, str, str | None]]:
    """(status as people read it, who, note) in order."""
    with session_factory() as session:
        events = session.scalars(select(ReportEvent).order_by(ReportEvent.id)).all()
        return [(ReportStatus(e.status or "").label, Actor(e.actor).label, e.detail) for e in events]


def opd_messages(session_factory: SessionFactory) -> list[tuple[str, str]]:
    with session_factory() as session:
        return [(m.kind, m.text) for m in session.scalars(select(ReportMessage).order_by(ReportMessage.id))]


def test_verified_report_shows_the_admin_and_the_dispatched_opd(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    record_status(
        installed.deps, task(Topic.STATUS, {"status": "TERVERIFIKASI", "actor": "admin-pengaduan"}, opdCode="PUPR")
    )
    assert timeline(session_factory) == [("Terverifikasi (belum ditindaklanjuti)", "Admin Pengaduan Daerah", None)]
    with session_factory() as session:
        report = reports.get_by_tracking_id(session, TRACKING_ID)
        assert (report.status, report.opd_code, report.closed_at) == ("TERVERIFIKASI", "PUPR", None)
        assert session.scalars(select(ReportEvent.occurred_at)).one() == ENGINE_NOW


def test_a_type_corrected_at_verification_reaches_the_report_and_its_timeline(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    verified = {"status": "TERVERIFIKASI", "actor": "admin-pengaduan"}
    record_status(installed.deps, task(Topic.STATUS, verified, opdCode="PUPR", reportType="aspirasi"))
    note = "Jenis laporan dikoreksi: Pengaduan menjadi Aspirasi."
    assert timeline(session_factory) == [("Terverifikasi (belum ditindaklanjuti)", "Admin Pengaduan Daerah", note)]
    with session_factory() as session:
        assert reports.get_by_tracking_id(session, TRACKING_ID).report_type == "aspirasi"


def test_an_unknown_report_type_is_an_incident_not_a_silent_complaint(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    verified = {"status": "TERVERIFIKASI", "actor": "admin-pengaduan"}
    with pytest.raises(ModelError, match="reportType='keluhan'"):
        record_status(installed.deps, task(Topic.STATUS, verified, opdCode="PUPR", reportType="keluhan"))
    assert timeline(session_factory) == []
    with session_factory() as session:
        assert reports.get_by_tracking_id(session, TRACKING_ID).report_type == "pengaduan"


def test_a_retried_task_writes_the_timeline_once(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    properties = {"status": "PROSES", "actor": "opd"}
    first = task(Topic.STATUS, properties, responseText="Tim akan menambal jalan minggu ini.")
    record_status(installed.deps, first)
    record_status(installed.deps, first)  # the engine handed the same task out again (lock expired, answer lost)
    assert timeline(session_factory) == [("Proses", "OPD / Pejabat Penghubung", None)]
    assert opd_messages(session_factory) == [("opd_response", "Tim akan menambal jalan minggu ini.")]
    # The same step reached again (the reporter rejected the result) is another task, so another entry.
    record_status(installed.deps, task(Topic.STATUS, {"status": "PROSES", "actor": "pelapor"}, responseText="(lama)"))
    assert timeline(session_factory)[-1] == ("Proses", "Pelapor", None)
    assert len(opd_messages(session_factory)) == 1  # the OPD's old words are not stored again as new


def test_the_opd_completion_text_is_kept_for_the_reporter(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.PROSES)
    record_status(
        installed.deps,
        task(
            Topic.STATUS,
            {"status": "MENUNGGU_KONFIRMASI", "actor": "admin-pengaduan"},
            completionText="Lubang sudah ditambal dengan aspal.",
            responseText="Tim akan menambal jalan minggu ini.",
        ),
    )
    assert timeline(session_factory) == [("Menunggu Konfirmasi Pelapor", "Admin Pengaduan Daerah", None)]
    assert opd_messages(session_factory) == [("opd_completion", "Lubang sudah ditambal dengan aspal.")]


def test_auto_complete_closes_the_report_in_the_name_of_the_system(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.MENUNGGU_KONFIRMASI)
    assert auto_complete(installed.deps, task(Topic.AUTO_COMPLETE)) == {"autoCompleted": True}
    assert timeline(session_factory) == [
        (
            "Selesai",
            "Sistem",
            "Selesai otomatis: pelapor tidak menanggapi hasil tindak lanjut dalam batas waktu.",
        )
    ]
    with session_factory() as session:
        report = reports.get_by_tracking_id(session, TRACKING_ID)
        assert (report.status, report.closed_at) == ("SELESAI", ENGINE_NOW)


@pytest.mark.parametrize(
    ("properties", "complaint"),
    [
        ({"actor": "sistem"}, "no property 'status'"),
        ({"status": "SELESAI"}, "no property 'actor'"),
        ({"status": "DIPROSES", "actor": "sistem"}, "status='DIPROSES'"),
        ({"status": "SELESAI", "actor": "walikota"}, "actor='walikota'; known: admin-pengaduan, opd, pelapor, sistem"),
    ],
)
def test_an_unknown_status_or_actor_is_a_model_error_and_writes_nothing(
    installed: Installed,
    session_factory: SessionFactory,
    task: TaskFactory,
    properties: dict[str, str],
    complaint: str,
) -> None:
    add_report(session_factory)
    with pytest.raises(ModelError, match=complaint):
        record_status(installed.deps, task(Topic.STATUS, properties))
    assert timeline(session_factory) == []


def test_admin_pengaduans_note_is_kept_for_the_reporter_once(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    returned = task(
        Topic.STATUS,
        {"status": "DIKEMBALIKAN", "actor": "admin-pengaduan"},
        verificationNote="Mohon lampirkan foto lubang dari dekat.",
    )
    record_status(installed.deps, returned)
    record_status(installed.deps, returned)  # a retried task
    assert opd_messages(session_factory) == [("return_note", "Mohon lampirkan foto lubang dari dekat.")]


def test_the_documentation_note_stays_with_staff_and_an_empty_one_is_not_kept(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.PROSES)
    documented = {"status": "MENUNGGU_KONFIRMASI", "actor": "admin-pengaduan"}
    record_status(
        installed.deps, task(Topic.STATUS, documented, completionText="Selesai.", documentationNote="Foto cocok.")
    )
    record_status(installed.deps, task(Topic.STATUS, documented, completionText="Selesai lagi.", documentationNote=""))
    assert opd_messages(session_factory) == [
        ("opd_completion", "Selesai."),
        ("documentation_note", "Foto cocok."),
        ("opd_completion", "Selesai lagi."),
    ]


def test_a_rejection_hands_the_opd_the_reporters_reason_without_contact_details_or_name(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    report = add_report(session_factory, opd_code="PUPR", status=ReportStatus.MENUNGGU_KONFIRMASI)
    reason = (
        f"Lubang masih ada. Saya {REPORTER_NAME.upper()}, telepon 0812-3456-7890 atau +62 812 3456 7890, "
        f"surel {REPORTER_EMAIL}."
    )
    with session_factory() as session:
        session.add(ReportMessage(report_id=report.id, author="pelapor", kind="confirmation", text="Lama.",
                                  accepted=False, created_at=ENGINE_NOW))  # fmt: skip
        session.add(ReportMessage(report_id=report.id, author="pelapor", kind="confirmation", text=reason,
                                  accepted=False, created_at=ENGINE_NOW + timedelta(days=3)))  # fmt: skip
    result = record_status(installed.deps, task(Topic.STATUS, {"status": "PROSES", "actor": "pelapor"}))
    assert result == {
        "rejectionReason": "Lubang masih ada. Saya [disamarkan], telepon [disamarkan] atau [disamarkan], "
        "surel [disamarkan]."
    }
    for personal in (REPORTER_NAME, REPORTER_EMAIL, "3456"):
        assert personal not in str(result)


def test_other_statuses_set_no_rejection_reason(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    assert (
        record_status(installed.deps, task(Topic.STATUS, {"status": "PROSES", "actor": "opd"}, responseText="Segera."))
        is None
    )
