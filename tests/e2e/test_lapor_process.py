"""Every path of the LAPOR! SOP on the real engine, driven like staff, OPDs and citizens drive it.

Staff and OPDs complete their tasks over REST as members of the task's candidate group; the reporter's replies
are correlated by the API's service account; timers are fired through the job API (the engine clock cannot be
moved from outside), after checking that their due date is the deadline the reporter sees in tracking.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import LocalEngine
from lapor import reports
from lapor.db import session_scope
from lapor.models import EventKind, Photo, ReportMessage, ReportStatus
from lapor.notifications.templates import format_due_date
from lapor.process import EngineClient, EngineError, Task
from lapor.process.codec import File
from lapor.vocabulary import Message
from tests.conftest import eventually, login, proof_photo
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

    async def complete(self, element_id: str, **variables: object) -> Task:
        return await complete_task(self.operaton, self.engine, self.instance, element_id, dict(variables))

    async def verify(self, result: str, note: str = "") -> None:
        await self.complete("VerifyReportTask", verificationResult=result, verificationNote=note)

    async def dispatch_and_respond(self, opd_code: str = "PUPR") -> None:
        await self.complete("DispatchReportTask", opdCode=opd_code, dispatchNote="Segera")
        await self.complete("OpdResponseTask", opdDecision="tanggapi", responseText="Tim akan menambal jalan.")

    async def finish_work(self) -> None:
        await self.complete("OpdCompletionTask", completionText="Jalan sudah ditambal.", proofPhotoUpload=proof_photo())
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
    assert operaton.candidate_groups(verification.id) == ["admin-pengaduan"]
    assert verification.name == f"Verifikasi laporan {report.tracking_id}"  # the card says which report
    due = verification.due
    row = report_row(worker_deps, report)
    assert row.verification_due_at is not None and row.verification_due_at == due  # Tasklist == tracking
    assert (wib(due).hour, wib(due).minute) == (23, 59)
    await staff.verify("lengkap")

    dispatch = await open_task(operaton, report, "DispatchReportTask")
    assert operaton.variables(report.process_instance_id)["proposedOpdCode"] == "PUPR"  # the DMN's proposal
    assert set(operaton.candidate_groups(dispatch.id)) == {"admin-pengaduan", "analis", "kepala-bidang"}
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="")

    response = await open_task(operaton, report, "OpdResponseTask")
    assert operaton.candidate_groups(response.id) == ["opd-pupr"]
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
    assert timer.due_date == confirmation_due
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
    assert await eventually(lambda: operaton.historic_instance(report.process_instance_id).state == "COMPLETED")
    reporter_mail = await eventually(lambda: len(m := mailbox.to(REPORTER["email"], report.tracking_id)) >= 5 and m)
    assert len(reporter_mail) == 5  # received, forwarded to the OPD, OPD responded, result to confirm, completed
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
    returned = await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN)
    assert operaton.variables(report.process_instance_id)["photoCount"] == 0
    with session_scope(worker_deps.db) as session:  # the supplement brought a photo (lapor/replies.supplement)
        session.add(Photo(report_id=returned.id, sha256="ab" * 32, content_type="image/jpeg", size_bytes=1,
                          kind="report", created_at=datetime.now(PONTIANAK)))  # fmt: skip
    await correlate(lapor_process, report, Message.SUPPLEMENTED, {})
    await open_task(operaton, report, "VerifyReportTask")
    assert operaton.variables(report.process_instance_id)["photoCount"] == 1  # "Foto pendukung: 1" in the form
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
    assert timer.due_date - datetime.now(PONTIANAK) > timedelta(days=9)  # 10 days to supplement
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
    assert again.id != first.id
    assert not operaton.incidents(process_instance_id=report.process_instance_id)  # a business outcome, no incident
    assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI


async def test_opd_declines_and_the_report_is_rerouted(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="")
    await staff.complete("OpdResponseTask", opdDecision="bukan_kewenangan_opd", responseText="Ini sampah.")
    await staff.complete("DispatchReportTask", opdCode="DLH", dispatchNote="Ke DLH")
    rerouted = await open_task(operaton, report, "OpdResponseTask")
    assert operaton.candidate_groups(rerouted.id) == ["opd-dlh"]
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
        return any(not g.end_time for g in gateways)

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
    again = await open_task(operaton, aspiration, "OpdResponseTask")
    form = operaton.form_variables(again.id)
    assert (form["responseText"], form["opdDecision"]) == ("", "")  # the form starts empty
    assert form["previousResponseText"] == "Usulan taman masuk rencana 2027."  # shown for reference
    assert form["rejectionReason"]  # and why the reporter rejected it
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
    assert deadline.due_date == task.due  # escalation exactly at the due date
    assert reminder.due_date < deadline.due_date

    def kinds() -> set[str] | None:
        found = {e.kind for e in timeline(worker_deps, report)}
        return found if {EventKind.REMINDER, EventKind.ESCALATION} <= found else None

    await eventually(kinds)
    coordinator = worker_deps.settings.koordinator_email
    assert await eventually(lambda: mailbox.to(coordinator, report.tracking_id))
    still = await open_task(operaton, report, "VerifyReportTask")  # still waiting for the admin
    assert still.id == task.id
    assert report_row(worker_deps, report).status == ReportStatus.BELUM_TERVERIFIKASI


async def test_sixty_day_deadline_passed_escalates(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    task = await open_task(operaton, report, "OpdCompletionTask")
    due = report_row(worker_deps, report).completion_due_at
    assert due is not None and task.due == due
    assert due - datetime.now(PONTIANAK) > timedelta(days=60 * 7 // 5 - 1)  # 60 working days is ~12 weeks
    timer = await fire_timer(operaton, report, "CompletionDeadlineTimer")
    assert timer.due_date == due

    def completion_escalated() -> bool:
        return any(
            e.kind == EventKind.ESCALATION and "penyelesaian" in (e.detail or "") for e in timeline(worker_deps, report)
        )

    await eventually(completion_escalated)
    await open_task(operaton, report, "OpdCompletionTask")  # the report stays with the OPD
    assert report_row(worker_deps, report).status == ReportStatus.PROSES


# -- hand-offs: each person gets what the next step needs (issue 18) ---------------------------------------------


async def test_the_reporter_reads_the_admins_note_and_the_supplement_deadline(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps, mailbox: Mailbox
) -> None:
    note = "Mohon lampirkan foto lubang dari dekat dan patokan terdekat."
    await staff.verify("tidak_lengkap", note)
    await status_becomes(worker_deps, report, ReportStatus.DIKEMBALIKAN)
    # The status is recorded before the supplement deadline is computed (RecordReturnedStatusTask comes first).
    due = await eventually(lambda: operaton.variables(report.process_instance_id).get("supplementDueAt"))
    returned = report_row(worker_deps, report)
    assert returned.supplement_due_at == due  # what tracking shows
    with session_scope(worker_deps.db) as session:
        notes = session.scalars(select(ReportMessage).where(ReportMessage.kind == "return_note")).all()
        assert [(m.author, m.text) for m in notes if m.report_id == returned.id] == [("admin-pengaduan", note)]
    mail = await eventually(
        lambda: [m for m in mailbox.to(REPORTER["email"], report.tracking_id) if "dilengkapi" in m["Subject"]]
    )
    body = body_of(mail[0])
    assert note in body and "Yang perlu dilengkapi:" in body
    assert format_due_date(due) in body  # the deadline in words, e.g. "Minggu, 20 Desember 2026 pukul 23.59 WIB"


async def test_disposition_tells_the_reporter_and_the_opd_who_and_by_when(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps, mailbox: Mailbox
) -> None:
    await staff.verify("lengkap")
    dispatch = await open_task(operaton, report, "DispatchReportTask")
    assert dispatch.name == f"Analisis dan disposisi ke OPD {report.tracking_id}"
    assert dispatch.due is not None  # SOP step 3: 3 working days
    assert dispatch.due == report_row(worker_deps, report).disposition_due_at
    await staff.complete("DispatchReportTask", opdCode="PUPR", dispatchNote="Prioritas: dekat sekolah.")
    await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI)
    variables = operaton.variables(report.process_instance_id)
    assert variables["dispatchedBy"] == "admin-pengaduan"  # the login that completed the task
    assert variables["dispatchedByName"] == "Admin Pengaduan Daerah (lokal)"  # read by the engine as that login
    assert variables["dispatchedByGroups"] == "admin-pengaduan"
    assert variables["opdName"] == "Dinas Pekerjaan Umum dan Penataan Ruang"  # the forms show names, not codes

    opd_mail = await eventually(lambda: mailbox.to(OPD_PUPR_EMAIL, report.tracking_id))
    body = body_of(opd_mail[0]).replace("\r\n", "\n")
    assert "Disposisi oleh: Admin Pengaduan Daerah (lokal)\n" in body
    assert "Prioritas: dekat sekolah." in body
    assert f"{worker_deps.settings.public_base_url}/files/reports/{report.tracking_id}?expires=" in body, body
    assert "/lacak/" not in body  # never the citizen page (404 when confidential)

    def forwarded() -> list[Any]:
        return [m for m in mailbox.to(REPORTER["email"], report.tracking_id) if "diteruskan" in m["Subject"]]

    citizen = body_of((await eventually(forwarded))[0])
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in citizen
    assert format_due_date(variables["responseDueAt"]) in citizen


async def test_a_completion_without_a_proof_photo_is_refused_and_nothing_is_recorded(
    report: Submitted, staff: Staff, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    task = await open_task(operaton, report, "OpdCompletionTask")
    with login(engine, "opd-pupr") as liaison:
        liaison.claim(task.id, "opd-pupr")
        for variables in (
            {"completionText": "Selesai."},  # no photo: one click used to resubmit "999"
            {"completionText": "Selesai.", "proofPhotoId": "999"},
            {"completionText": "Selesai.", "proofPhotoUpload": File(b"%PDF-1.4 bukan foto", "bukti.pdf", "image/jpeg")},
        ):
            with pytest.raises(EngineError, match=r"Foto bukti|bukan foto"):
                liaison.complete_task(task.id, variables)
    assert (await open_task(operaton, report, "OpdCompletionTask")).id == task.id  # still open
    assert "completionText" not in operaton.variables(report.process_instance_id)  # nothing recorded


async def test_the_proof_photo_is_kept_with_the_report_and_shown_to_the_admin(
    report: Submitted, staff: Staff, operaton: EngineClient, worker_deps: Deps
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    await staff.complete("OpdCompletionTask", completionText="Ditambal.", proofPhotoUpload=proof_photo())
    document = await open_task(operaton, report, "DocumentCompletionTask")
    assert document.due == report_row(worker_deps, report).documentation_due_at  # the same day
    variables = operaton.variables(report.process_instance_id)
    assert "proofPhotoUpload" not in variables  # the engine keeps no runtime copy
    with session_scope(worker_deps.db) as session:
        photo = session.get(Photo, variables["proofPhotoId"])
        assert photo is not None and photo.kind == "proof"
        assert photo.report_id == report_row(worker_deps, report).id
    url = variables["proofPhotoUrl"]
    assert url.startswith(f"{worker_deps.settings.public_base_url}/files/photos/{photo.id}?expires=")
    assert variables["documentationDueText"].endswith("pukul 23.59 WIB")


async def test_a_photo_of_another_report_is_sent_back_to_the_opd_with_the_reason(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps
) -> None:
    photo = proof_photo()
    first = await submit(lapor_process, worker_deps)
    second = await submit(lapor_process, worker_deps)
    for instance in (first, second):
        crew = Staff(operaton, engine, instance)
        await crew.verify("lengkap")
        await crew.dispatch_and_respond()
        await crew.complete("OpdCompletionTask", completionText="Selesai.", proofPhotoUpload=photo)
    await open_task(operaton, first, "DocumentCompletionTask")  # the first report's proof is its own
    again = await open_task(operaton, second, "OpdCompletionTask")  # the same photo again: back to the OPD
    variables = operaton.variables(second.process_instance_id)
    assert (
        variables["proofPhotoRefusal"]
        == "Foto ini sudah dipakai pada laporan lain; unggah foto dari lokasi laporan ini."
    )
    assert "proofPhotoUpload" not in variables
    assert again.name == f"Laporkan penyelesaian {second.tracking_id}"
    await Staff(operaton, engine, second).complete(
        "OpdCompletionTask", completionText="Selesai.", proofPhotoUpload=proof_photo()
    )
    await open_task(operaton, second, "DocumentCompletionTask")
    assert operaton.variables(second.process_instance_id)["proofPhotoRefusal"] == ""


async def test_a_rejection_reaches_the_opd_with_the_reason_and_the_forms_start_empty(
    report: Submitted,
    staff: Staff,
    operaton: EngineClient,
    lapor_process: EngineClient,
    worker_deps: Deps,
    mailbox: Mailbox,
) -> None:
    await staff.verify("lengkap")
    await staff.dispatch_and_respond()
    await staff.finish_work()
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    reason = f"Lubang masih ada. Hubungi saya di 0812-3456-7890 atau {REPORTER['email']}."
    with session_scope(worker_deps.db) as session:  # what the API stores with the reply (lapor/replies.confirm)
        row = reports.get_by_tracking_id(session, report.tracking_id)
        session.add(
            ReportMessage(
                report_id=row.id,
                author="pelapor",
                kind="confirmation",
                text=reason,
                accepted=False,
                created_at=datetime.now(PONTIANAK),
            )
        )
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": False})
    reopened = await open_task(operaton, report, "OpdCompletionTask")
    local = operaton.form_variables(reopened.id)
    assert local["completionText"] == ""  # starts empty
    assert local["previousCompletionText"] == "Jalan sudah ditambal."  # last round, for reference
    shown = local["rejectionReason"]
    assert shown == "Lubang masih ada. Hubungi saya di [disamarkan] atau [disamarkan]."
    for personal in REPORTER.values():
        assert personal not in shown
    mail = await eventually(
        lambda: [m for m in mailbox.to(OPD_PUPR_EMAIL, report.tracking_id) if "ditolak" in m["Subject"]]
    )
    assert "Alasan pelapor:\nLubang masih ada." in body_of(mail[0]).replace("\r\n", "\n")

    await staff.complete("OpdCompletionTask", completionText="Ditambal ulang.", proofPhotoUpload=proof_photo())
    document = await open_task(operaton, report, "DocumentCompletionTask")
    form = operaton.form_variables(document.id)
    assert form["documented"] is False  # not ticked from the last round


async def overdue_in_tasklist(engine: LocalEngine, operaton: EngineClient, group: str, task_id: str) -> bool:
    """Whether the task is in the group's "Lewat tenggat" filter, listed as a member of the group sees it."""
    # Raw: Tasklist's own filter query, as the member's browser sends it; the application never lists a filter.
    filters = operaton.request("GET", "/filter", params={"name": "Lewat tenggat"})
    with login(engine, group) as member:
        listed = member.request("POST", f"/filter/{filters[0]['id']}/list", json={})
    return any(t["id"] == task_id for t in listed)


@pytest.mark.parametrize(
    ("element", "prefix", "deadline_label"),
    [
        ("DispatchReportTask", "Disposition", "disposisi ke OPD"),
        ("DocumentCompletionTask", "Documentation", "dokumentasi penyelesaian"),
    ],
)
async def test_disposition_and_documentation_have_deadlines_reminders_and_escalations(
    report: Submitted,
    staff: Staff,
    operaton: EngineClient,
    engine: LocalEngine,
    worker_deps: Deps,
    mailbox: Mailbox,
    element: str,
    prefix: str,
    deadline_label: str,
) -> None:
    await staff.verify("lengkap")
    if element == "DocumentCompletionTask":
        await staff.dispatch_and_respond()
        await staff.complete("OpdCompletionTask", completionText="Ditambal.", proofPhotoUpload=proof_photo())
    task = await open_task(operaton, report, element)
    row = report_row(worker_deps, report)
    due = task.due
    assert due == getattr(row, f"{prefix.lower()}_due_at")  # Tasklist == what the staff page shows
    assert not await overdue_in_tasklist(engine, operaton, "admin-pengaduan", task.id)

    reminder = await fire_timer(operaton, report, f"{prefix}ReminderTimer")
    deadline = await fire_timer(operaton, report, f"{prefix}DeadlineTimer")
    assert deadline.due_date == due and reminder.due_date < due

    def reminded_and_escalated() -> bool:
        kinds = {(e.kind, e.detail) for e in timeline(worker_deps, report)}
        label = f"Batas waktu {deadline_label}"
        return {(EventKind.REMINDER, label), (EventKind.ESCALATION, label)} <= kinds

    assert await eventually(reminded_and_escalated)
    coordinator = worker_deps.settings.koordinator_email
    assert await eventually(
        lambda: [m for m in mailbox.to(coordinator, report.tracking_id) if "Eskalasi" in m["Subject"]]
    )
    assert (await open_task(operaton, report, element)).id == task.id  # the task stays with its people

    # Once its due date has passed, the task is in "Lewat tenggat" (the engine's clock cannot be moved: the due
    # date is moved back instead, as the recompute command would after a calendar change).
    operaton.set_task_due_date(task.id, datetime.now(PONTIANAK) - timedelta(minutes=1))
    assert await overdue_in_tasklist(engine, operaton, "admin-pengaduan", task.id)
