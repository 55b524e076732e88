"""Every path of the LAPOR! SOP on the real engine, driven like staff, OPDs and citizens drive it.

Staff and OPDs complete their tasks over REST as members of the task's candidate group; the reporter's replies
are correlated by the API's service account; timers are fired through the job API (the engine clock cannot be
moved from outside), after checking that their due date is the deadline the reporter sees in tracking.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import LocalEngine
from lapor import reports
from lapor.db import session_scope
from lapor.models import EventKind, ReportMessage, ReportStatus
from lapor.process import EngineClient
from lapor.process.codec import parse_date
from lapor.vocabulary import Message
from tests.conftest import eventually
from tests.e2e.conftest import (
    REPORTER,
    Mailbox,
    NationalInbox,
    Submitted,
    body_of,
    complete_task,
    correlate,
    fire_timer,
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
PONTIANAK = ZoneInfo("Asia/Pontianak")


def opd_messages(deps: Deps, instance: Submitted) -> list[tuple[str, str]]:
    with session_scope(deps.db) as session:
        report = reports.get_by_tracking_id(session, instance.tracking_id)
        rows = session.scalars(
            select(ReportMessage).where(ReportMessage.report_id == report.id, ReportMessage.author == "opd")
        )
        return [(m.kind, m.text) for m in rows]


def statuses(deps: Deps, instance: Submitted) -> list[tuple[str | None, str]]:
    return [(e.status, e.actor) for e in timeline(deps, instance) if e.kind == EventKind.STATUS]


class Staff:
    """The people who work the report, each logged in as a member of the task's group."""

    def __init__(self, operaton: EngineClient, engine: LocalEngine, instance: Submitted) -> None:
        self.operaton, self.engine, self.instance = operaton, engine, instance

    async def complete(self, element_id: str, **variables: object) -> dict[str, object]:
        return await complete_task(self.operaton, self.engine, self.instance, element_id, dict(variables))

    async def verify(self, result: str, note: str = "") -> None:
        await self.complete("VerifyReportTask", verificationResult=result, verificationNote=note)

    async def dispatch_and_respond(self, opd_code: str = "PUPR") -> None:
        await self.complete("DispatchReportTask", opdCode=opd_code, dispatchNote="Segera")
        await self.complete("OpdResponseTask", opdDecision="tanggapi", responseText="Tim akan menambal jalan.")

    async def finish_work(self) -> None:
        await self.complete("OpdCompletionTask", completionText="Jalan sudah ditambal.", proofPhotoId="foto-1")
        await self.complete("DocumentCompletionTask", documented=True, documentationNote="OK")


@pytest.fixture
async def report(lapor_process: EngineClient, worker_deps: Deps) -> Submitted:
    return await submit(lapor_process, worker_deps)


@pytest.fixture
def staff(operaton: EngineClient, engine: LocalEngine, report: Submitted) -> Staff:
    return Staff(operaton, engine, report)


def wib(value: datetime) -> datetime:
    return value.astimezone(PONTIANAK)


async def test_complete_report_is_routed_answered_done_and_auto_completed(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps, mailbox: Mailbox
) -> None:
    verification = await open_task(operaton, report, "VerifyReportTask")
    assert verification["candidateGroups"] == ["admin-pengaduan"]
    assert verification["name"] == "Verifikasi laporan"
    due = parse_date(verification["due"])
    row = report_row(worker_deps, report)
    assert row.verification_due_at is not None and row.verification_due_at == due  # Tasklist == tracking
    assert (wib(due).hour, wib(due).minute) == (23, 59)
    await staff.verify("lengkap")

    dispatch = await open_task(operaton, report, "DispatchReportTask")
    assert operaton.variables(report.process_instance_id)["proposedOpdCode"] == "PUPR"  # the DMN's proposal
    assert set(dispatch["candidateGroups"]) == {"admin-pengaduan", "analis", "kepala-bidang"}
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="")

    response = await open_task(operaton, report, "OpdResponseTask")
    assert response["candidateGroups"] == ["opd-pupr"]
    assert (await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI)).opd_code == "PUPR"
    await staff.complete("OpdResponseTask", opdDecision="tanggapi", responseText="Segera.")
    await status_becomes(worker_deps, report, ReportStatus.PROSES)
    await staff.finish_work()
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    assert opd_messages(worker_deps, report) == [  # what the reporter reads in tracking
        ("opd_response", "Segera."),
        ("opd_completion", "Jalan sudah ditambal."),
    ]
    summary_url = operaton.variables(report.process_instance_id)["reportSummaryUrl"]
    assert summary_url.startswith(f"{worker_deps.settings.public_base_url}/files/reports/{report.tracking_id}?")

    # No answer from the reporter: the timer waits until the end of the 10th day, then the report completes.
    timer = await fire_timer(operaton, report, "ConfirmationDeadlineTimer")
    confirmation_due = operaton.historic_variables(report.process_instance_id)["confirmationDueAt"]
    assert parse_date(timer["dueDate"]) == confirmation_due
    assert (confirmation_due - datetime.now(PONTIANAK)) > timedelta(days=9)
    await reached(operaton, report, "FollowUpAutoCompletedEndEvent")
    done = await status_becomes(worker_deps, report, ReportStatus.SELESAI)
    assert done.closed_at is not None
    assert statuses(worker_deps, report) == [
        ("BELUM_TERVERIFIKASI", "sistem"),
        ("TERVERIFIKASI", "admin-pengaduan"),
        ("PROSES", "opd"),
        ("MENUNGGU_KONFIRMASI", "admin-pengaduan"),
        ("SELESAI", "sistem"),
    ]
    assert await eventually(lambda: operaton.historic_instance(report.process_instance_id)["state"] == "COMPLETED")
    reporter_mail = await eventually(lambda: len(m := mailbox.to(REPORTER["email"], report.tracking_id)) >= 4 and m)
    assert len(reporter_mail) == 4  # received, OPD responded, result to confirm, completed
    opd_mail = mailbox.to(OPD_PUPR_EMAIL, report.tracking_id)
    assert len(opd_mail) == 1
    for personal in REPORTER.values():  # the OPD never learns who reported from the notification
        assert personal not in body_of(opd_mail[0])
    variables = operaton.historic_variables(report.process_instance_id)
    for personal in REPORTER.values():  # nor from the process variables that Cockpit and Tasklist show
        assert all(personal not in str(value) for value in variables.values())


async def test_incomplete_report_supplemented_goes_back_to_verification(
    report: Submitted, staff: Staff, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("tidak_lengkap", "Foto lokasi belum jelas")
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN)
    await correlate(lapor_process, report, Message.SUPPLEMENTED, {})
    await staff.verify("lengkap")
    await open_task(operaton, report, "DispatchReportTask")
    assert [s for s, _ in statuses(worker_deps, report)] == [
        "BELUM_TERVERIFIKASI",
        "DIKEMBALIKAN",
        "BELUM_TERVERIFIKASI",
    ]


async def test_incomplete_report_never_supplemented_is_closed(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("tidak_lengkap", "Alamat tidak lengkap")
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN)
    timer = await fire_timer(operaton, report, "SupplementDeadlineTimer")
    assert parse_date(timer["dueDate"]) - datetime.now(PONTIANAK) > timedelta(days=9)  # 10 days to supplement
    await reached(operaton, report, "ReportClosedEndEvent")
    closed = await status_becomes(worker_deps, report, ReportStatus.DITUTUP)
    assert closed.closed_at is not None


async def test_report_outside_city_authority_returns_to_admin_pusat(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps, national_inbox: NationalInbox
) -> None:
    await staff.verify("bukan_kewenangan", "Jalan nasional, kewenangan Kementerian PU")
    await reached(operaton, report, "ReturnedToNationalEndEvent")
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN_KE_PUSAT)
    sent = [r for r in national_inbox.received if r["body"]["trackingId"] == report.tracking_id]
    assert len(sent) == 1
    assert "Kementerian PU" in sent[0]["body"]["reason"]
    returned = [e for e in timeline(worker_deps, report) if e.kind == EventKind.NATIONAL_RETURN]
    assert returned and "PUSAT-" in (returned[0].detail or "")


async def test_admin_pusat_refusing_the_return_sends_the_report_back_to_verification(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps, national_inbox: NationalInbox
) -> None:
    national_inbox.refuse.add(report.tracking_id)
    first = await open_task(operaton, report, "VerifyReportTask")
    await staff.verify("bukan_kewenangan", "Menurut kami kewenangan pusat")
    await reached(operaton, report, "NationalReturnRefusedEvent")  # the BPMN error, caught by the model
    again = await open_task(operaton, report, "VerifyReportTask")
    assert again["id"] != first["id"]
    assert not operaton.incidents(processInstanceId=report.process_instance_id)  # a business outcome, no incident
    assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI


async def test_opd_declines_and_the_report_is_rerouted(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="")
    await staff.complete("OpdResponseTask", opdDecision="bukan_kewenangan_opd", responseText="Ini sampah.")
    await staff.complete("DispatchReportTask", opdCode="DLH", dispatchNote="Ke DLH")
    rerouted = await open_task(operaton, report, "OpdResponseTask")
    assert rerouted["candidateGroups"] == ["opd-dlh"]
    assert (await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI)).opd_code == "DLH"


async def test_citizen_rejects_result_and_it_goes_back_to_the_opd(
    report: Submitted, staff: Staff, lapor_process: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    await staff.finish_work()
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": False})
    await staff.finish_work()  # the OPD has to report completion again
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    await status_becomes(worker_deps, report, ReportStatus.SELESAI)
    assert statuses(worker_deps, report)[-1] == ("SELESAI", "pelapor")


async def awaiting_the_reporter(operaton: EngineClient, instance: Submitted) -> None:
    """The event-based gateway is waiting (it stays active until the reply or the timer)."""

    def waiting() -> bool:
        gateways = operaton.activities(instance.process_instance_id, activity_id="CitizenConfirmationGateway")
        return any(not g.get("endTime") for g in gateways)

    assert await eventually(waiting)


async def test_an_aspiration_ends_with_the_opds_answer_which_the_reporter_confirms(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps, mailbox: Mailbox
) -> None:
    aspiration = await submit(lapor_process, worker_deps, report_type="aspirasi")
    staff = Staff(operaton, engine, aspiration)
    await staff.verify("lengkap")
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="")
    await staff.complete("OpdResponseTask", opdDecision="tanggapi", responseText="Usulan taman masuk rencana 2027.")
    await status_becomes(worker_deps, aspiration, ReportStatus.MENUNGGU_KONFIRMASI)  # no completion, no proof photo
    await awaiting_the_reporter(operaton, aspiration)
    answer = await eventually(
        lambda: [
            m
            for m in mailbox.to(REPORTER["email"], aspiration.tracking_id)
            if "Mohon konfirmasi jawaban" in str(m["Subject"])
        ]
    )
    assert "Usulan taman masuk rencana 2027." in body_of(answer[0])
    # Rejected: the OPD answers again (not a completion report), then the reporter accepts.
    await correlate(lapor_process, aspiration, Message.CITIZEN_RESPONSE, {"citizenAccepted": False})
    await staff.complete("OpdResponseTask", opdDecision="tanggapi", responseText="Lokasi taman sudah ditetapkan.")
    await awaiting_the_reporter(operaton, aspiration)
    await correlate(lapor_process, aspiration, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    await status_becomes(worker_deps, aspiration, ReportStatus.SELESAI)
    assert operaton.activities(aspiration.process_instance_id, activity_id="OpdCompletionTask") == []
    assert operaton.activities(aspiration.process_instance_id, activity_id="NotifyFollowUpResultTask") == []
    assert [kind for kind, _ in opd_messages(worker_deps, aspiration)] == ["opd_response", "opd_response"]
    assert statuses(worker_deps, aspiration) == [
        ("BELUM_TERVERIFIKASI", "sistem"),
        ("TERVERIFIKASI", "admin-pengaduan"),
        ("PROSES", "opd"),
        ("MENUNGGU_KONFIRMASI", "admin-pengaduan"),
        ("PROSES", "pelapor"),
        ("PROSES", "opd"),
        ("MENUNGGU_KONFIRMASI", "admin-pengaduan"),
        ("SELESAI", "pelapor"),
    ]


async def test_staff_correct_the_type_at_verification_and_the_path_follows_it(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.complete(
        "VerifyReportTask", verificationResult="lengkap", verificationNote="", reportType="permintaan_informasi"
    )
    await staff.dispatch_and_respond()
    row = await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    assert row.report_type == "permintaan_informasi"
    verified = [e for e in timeline(worker_deps, report) if e.status == ReportStatus.TERVERIFIKASI]
    assert verified[0].detail == "Jenis laporan dikoreksi: Pengaduan menjadi Permintaan informasi."
    assert operaton.activities(report.process_instance_id, activity_id="OpdCompletionTask") == []


async def test_verification_deadline_passed_escalates_and_report_stays_open(
    report: Submitted, operaton: EngineClient, worker_deps: Deps, mailbox: Mailbox
) -> None:
    task = await open_task(operaton, report, "VerifyReportTask")
    reminder = await fire_timer(operaton, report, "VerificationReminderTimer")
    deadline = await fire_timer(operaton, report, "VerificationDeadlineTimer")
    assert parse_date(deadline["dueDate"]) == parse_date(task["due"])  # escalation exactly at the due date
    assert parse_date(reminder["dueDate"]) < parse_date(deadline["dueDate"])

    def kinds() -> set[str] | None:
        found = {e.kind for e in timeline(worker_deps, report)}
        return found if {EventKind.REMINDER, EventKind.ESCALATION} <= found else None

    await eventually(kinds)
    coordinator = worker_deps.settings.koordinator_email
    assert await eventually(lambda: mailbox.to(coordinator, report.tracking_id))
    still = await open_task(operaton, report, "VerifyReportTask")  # still waiting for the admin
    assert still["id"] == task["id"]
    assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI


async def test_sixty_day_deadline_passed_escalates(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    task = await open_task(operaton, report, "OpdCompletionTask")
    due = report_row(worker_deps, report).completion_due_at
    assert due is not None and parse_date(task["due"]) == due
    assert due - datetime.now(PONTIANAK) > timedelta(days=60 * 7 // 5 - 1)  # 60 working days is ~12 weeks
    timer = await fire_timer(operaton, report, "CompletionDeadlineTimer")
    assert parse_date(timer["dueDate"]) == due

    def completion_escalated() -> bool:
        return any(
            e.kind == EventKind.ESCALATION and "penyelesaian" in (e.detail or "") for e in timeline(worker_deps, report)
        )

    await eventually(completion_escalated)
    await open_task(operaton, report, "OpdCompletionTask")  # the report stays with the OPD
    assert report_row(worker_deps, report).status == ReportStatus.PROSES
