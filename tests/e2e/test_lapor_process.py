"""Every path of the LAPOR! SOP on the real engine, driven like staff and citizens drive it."""

import asyncio
from datetime import timedelta

import pytest
from pyzeebe import ZeebeClient
from sqlalchemy import select

from lapor import reports
from lapor.camunda import CamundaRest
from lapor.db import session_scope
from lapor.models import EventKind, ReportMessage, ReportStatus
from tests.conftest import EngineClock, eventually
from tests.e2e.conftest import (
    REPORTER,
    Mailbox,
    NationalInbox,
    Submitted,
    body_of,
    complete_task,
    open_task,
    reached,
    report_row,
    status_becomes,
    submit,
    timeline,
)
from workers.deps import Deps

pytestmark = pytest.mark.engine
OPD_PUPR_EMAIL = "pupr@pontianak.go.id"


def opd_messages(deps: Deps, instance: Submitted) -> list[tuple[str, str]]:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        rows = session.scalars(
            select(ReportMessage).where(ReportMessage.report_id == report.id, ReportMessage.author == "opd")
        )
        return [(m.kind, m.text) for m in rows]


def statuses(deps: Deps, instance: Submitted) -> list[tuple[str | None, str]]:
    return [(e.status, e.actor) for e in timeline(deps, instance) if e.kind == EventKind.STATUS]


async def verify(camunda: CamundaRest, instance: Submitted, result: str, note: str = "") -> None:
    await complete_task(camunda, instance, "VerifyReportTask", {"verificationResult": result, "verificationNote": note})


async def dispatch_and_respond(camunda: CamundaRest, instance: Submitted, opd_code: str = "PUPR") -> None:
    await complete_task(camunda, instance, "DispatchReportTask", {"opdCode": opd_code, "dispatchNote": "Segera"})
    await complete_task(
        camunda,
        instance,
        "OpdResponseTask",
        {"opdDecision": "tanggapi", "responseText": "Tim akan menambal jalan minggu ini."},
    )


async def finish_work(camunda: CamundaRest, instance: Submitted) -> None:
    await complete_task(
        camunda,
        instance,
        "OpdCompletionTask",
        {"completionText": "Jalan sudah ditambal.", "proofPhotoId": "foto-1"},
    )
    await complete_task(camunda, instance, "DocumentCompletionTask", {"documented": True, "documentationNote": "OK"})


async def test_complete_report_is_routed_answered_done_and_auto_completed(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock, mailbox: Mailbox
) -> None:
    instance = await submit(lapor_process, worker_deps, clock, category="JALAN")
    verification = await open_task(camunda, instance, "VerifyReportTask")
    assert verification["candidateGroups"] == ["admin-pengaduan"]
    assert verification["dueDate"], "Tasklist shows the 3-working-day verification deadline"
    assert report_row(worker_deps, instance).verification_due_at is not None
    await verify(camunda, instance, "lengkap")

    dispatch = await open_task(camunda, instance, "DispatchReportTask")
    key = instance.process_instance_key
    assert await eventually(lambda: camunda.variables(key).get("proposedOpdCode")) == "PUPR"  # the DMN's proposal
    assert set(dispatch["candidateGroups"]) >= {"admin-pengaduan", "analis", "kepala-bidang"}
    await complete_task(camunda, instance, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})

    response = await open_task(camunda, instance, "OpdResponseTask")
    assert response["candidateGroups"] == ["opd-pupr"]
    row = await status_becomes(worker_deps, instance, ReportStatus.TERVERIFIKASI)
    assert row.opd_code == "PUPR"
    await complete_task(camunda, instance, "OpdResponseTask", {"opdDecision": "tanggapi", "responseText": "Segera."})
    await status_becomes(worker_deps, instance, ReportStatus.PROSES)
    await finish_work(camunda, instance)
    await status_becomes(worker_deps, instance, ReportStatus.MENUNGGU_KONFIRMASI)
    assert opd_messages(worker_deps, instance) == [  # what the reporter reads in tracking
        ("opd_response", "Segera."),
        ("opd_completion", "Jalan sudah ditambal."),
    ]
    summary_url = await eventually(lambda: camunda.variables(key).get("reportSummaryUrl"))
    assert summary_url.startswith(f"{worker_deps.settings.public_base_url}/files/reports/{instance.tracking_id}?")

    # No answer from the reporter for 10 days (until the end of the 10th day): the report completes by itself.
    clock.advance(timedelta(days=9))
    await asyncio.sleep(2)
    assert report_row(worker_deps, instance).status == ReportStatus.MENUNGGU_KONFIRMASI
    clock.advance(timedelta(days=2))
    await reached(camunda, instance, "FollowUpAutoCompletedEndEvent")
    done = await status_becomes(worker_deps, instance, ReportStatus.SELESAI)
    assert done.closed_at is not None
    assert statuses(worker_deps, instance) == [
        ("BELUM_TERVERIFIKASI", "sistem"),
        ("TERVERIFIKASI", "admin-pengaduan"),
        ("PROSES", "opd"),
        ("MENUNGGU_KONFIRMASI", "admin-pengaduan"),
        ("SELESAI", "sistem"),
    ]
    reporter_mail = await eventually(lambda: len(m := mailbox.to(REPORTER["email"], instance.tracking_id)) >= 4 and m)
    assert len(reporter_mail) == 4  # received, OPD responded, result to confirm, completed
    opd_mail = mailbox.to(OPD_PUPR_EMAIL, instance.tracking_id)
    assert len(opd_mail) == 1
    for personal in REPORTER.values():  # the OPD never learns who reported from the notification
        assert personal not in body_of(opd_mail[0])


async def test_incomplete_report_supplemented_goes_back_to_verification(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "tidak_lengkap", "Foto lokasi belum jelas")
    await status_becomes(worker_deps, instance, ReportStatus.DIKEMBALIKAN)
    await lapor_process.publish_message(
        "laporan-dilengkapi",
        correlation_key=instance.tracking_id,
        variables={},
        message_id=f"{instance.tracking_id}-1",
    )
    await verify(camunda, instance, "lengkap")
    await open_task(camunda, instance, "DispatchReportTask")
    assert [s for s, _ in statuses(worker_deps, instance)] == [
        "BELUM_TERVERIFIKASI",
        "DIKEMBALIKAN",
        "BELUM_TERVERIFIKASI",
    ]


async def test_incomplete_report_never_supplemented_is_closed(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "tidak_lengkap", "Alamat tidak lengkap")
    await status_becomes(worker_deps, instance, ReportStatus.DIKEMBALIKAN)
    clock.advance(timedelta(days=11))
    await reached(camunda, instance, "ReportClosedEndEvent")
    closed = await status_becomes(worker_deps, instance, ReportStatus.DITUTUP)
    assert closed.closed_at is not None


async def test_report_outside_city_authority_returns_to_admin_pusat(
    lapor_process: ZeebeClient,
    camunda: CamundaRest,
    worker_deps: Deps,
    clock: EngineClock,
    national_inbox: NationalInbox,
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "bukan_kewenangan", "Jalan nasional, kewenangan Kementerian PU")
    await reached(camunda, instance, "ReturnedToNationalEndEvent")
    await status_becomes(worker_deps, instance, ReportStatus.DIKEMBALIKAN_KE_PUSAT)
    sent = [r for r in national_inbox.received if r["body"]["trackingId"] == instance.tracking_id]
    assert len(sent) == 1
    assert "Kementerian PU" in sent[0]["body"]["reason"]
    returned = [e for e in timeline(worker_deps, instance) if e.kind == EventKind.NATIONAL_RETURN]
    assert returned and "PUSAT-" in (returned[0].detail or "")


async def test_opd_declines_and_the_report_is_rerouted(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "lengkap")
    await complete_task(camunda, instance, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    await complete_task(
        camunda,
        instance,
        "OpdResponseTask",
        {"opdDecision": "bukan_kewenangan_opd", "responseText": "Ini sampah."},
    )
    await complete_task(camunda, instance, "DispatchReportTask", {"opdCode": "DLH", "dispatchNote": "Ke DLH"})
    rerouted = await open_task(camunda, instance, "OpdResponseTask")
    assert rerouted["candidateGroups"] == ["opd-dlh"]
    assert (await status_becomes(worker_deps, instance, ReportStatus.TERVERIFIKASI)).opd_code == "DLH"


async def test_citizen_rejects_result_and_it_goes_back_to_the_opd(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "lengkap")
    await dispatch_and_respond(camunda, instance)
    await finish_work(camunda, instance)
    await status_becomes(worker_deps, instance, ReportStatus.MENUNGGU_KONFIRMASI)
    await lapor_process.publish_message(
        "tanggapan-pelapor",
        correlation_key=instance.tracking_id,
        variables={"citizenAccepted": False},
        message_id=f"{instance.tracking_id}-tolak",
    )
    await finish_work(camunda, instance)  # the OPD has to report completion again
    await status_becomes(worker_deps, instance, ReportStatus.MENUNGGU_KONFIRMASI)
    await lapor_process.publish_message(
        "tanggapan-pelapor",
        correlation_key=instance.tracking_id,
        variables={"citizenAccepted": True},
        message_id=f"{instance.tracking_id}-terima",
    )
    await status_becomes(worker_deps, instance, ReportStatus.SELESAI)
    assert statuses(worker_deps, instance)[-1] == ("SELESAI", "pelapor")


async def test_verification_deadline_passed_escalates_and_report_stays_open(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock, mailbox: Mailbox
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await open_task(camunda, instance, "VerifyReportTask")
    clock.advance(timedelta(days=9))  # past 3 working days, whatever weekends and holidays fall in between

    def kinds() -> set[str] | None:
        found = {e.kind for e in timeline(worker_deps, instance)}
        return found if {EventKind.REMINDER, EventKind.ESCALATION} <= found else None

    await eventually(kinds)
    coordinator = worker_deps.settings.koordinator_email
    assert await eventually(lambda: mailbox.to(coordinator, instance.tracking_id))
    await open_task(camunda, instance, "VerifyReportTask")  # still waiting for the admin
    assert report_row(worker_deps, instance).status == ReportStatus.BELUM_TERVERIFIKASI
    key = instance.process_instance_key
    assert await eventually(lambda: (camunda.process_instance(key) or {}).get("state") == "ACTIVE" or None)


async def test_sixty_day_deadline_passed_escalates(
    lapor_process: ZeebeClient, camunda: CamundaRest, worker_deps: Deps, clock: EngineClock
) -> None:
    instance = await submit(lapor_process, worker_deps, clock)
    await verify(camunda, instance, "lengkap")
    await dispatch_and_respond(camunda, instance)
    await open_task(camunda, instance, "OpdCompletionTask")
    due = report_row(worker_deps, instance).completion_due_at
    assert due is not None
    clock.pin(max(clock.now, due.astimezone(clock.now.tzinfo)) + timedelta(hours=1))

    def completion_escalated() -> bool:
        return any(
            e.kind == EventKind.ESCALATION and "penyelesaian" in (e.detail or "")
            for e in timeline(worker_deps, instance)
        )

    await eventually(completion_escalated)
    await open_task(camunda, instance, "OpdCompletionTask")  # the report stays with the OPD
    assert report_row(worker_deps, instance).status == ReportStatus.PROSES
