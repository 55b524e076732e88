"""A citizen who supports someone else's report hears, through the real engine, workers and mail catcher, that the
original is done, without the reporter's name, e-mail or phone; the reporter never learns who followed."""

import uuid
from datetime import UTC, datetime

import pytest

from engine import LocalEngine
from lapor import reports, support
from lapor.db import session_scope
from lapor.models import Reporter, ReportStatus
from lapor.process import EngineClient
from lapor.vocabulary import Message
from tests.conftest import eventually, proof_photo
from tests.e2e.conftest import (
    REPORTER,
    Mailbox,
    Submitted,
    body_of,
    complete_task,
    correlate,
    status_becomes,
    submit,
)
from workers.deps import Deps

pytestmark = pytest.mark.engine


async def test_a_follower_receives_the_originals_completion_without_the_reporters_data(
    lapor_process: EngineClient, operaton: EngineClient, engine: LocalEngine, worker_deps: Deps, mailbox: Mailbox
) -> None:
    report: Submitted = await submit(lapor_process, worker_deps)
    follower_email = f"tetangga.{uuid.uuid4().hex[:8]}@example.id"

    async def complete(element_id: str, **variables: object) -> None:
        await complete_task(operaton, engine, report, element_id, dict(variables))

    await complete("VerifyReportTask", verificationResult="lengkap", verificationNote="")
    await complete("DispatchReportTask", opdCode="PUPR", dispatchNote="Segera")
    await status_becomes(worker_deps, report, ReportStatus.TERVERIFIKASI)
    await eventually(
        lambda: [m for m in mailbox.to(REPORTER["email"], report.tracking_id) if "diteruskan" in m["Subject"]]
    )  # the disposition's notice is out before the neighbour follows
    # A neighbour sees it in the nearby list and presses "Saya juga mengalami".
    with session_scope(worker_deps.db) as session:
        neighbour = Reporter(name="Tetangga Pelapor", email=follower_email, created_at=datetime.now(UTC))
        session.add(neighbour)
        session.flush()
        original = reports.get_by_tracking_id(session, report.tracking_id)
        support.support(session, report=original, reporter=neighbour, now=datetime.now(UTC))
    await complete("OpdResponseTask", opdDecision="tanggapi", responseText="Tim akan menambal jalan.")
    await complete("OpdCompletionTask", completionText="Jalan sudah ditambal.", proofPhotoUpload=proof_photo())
    await complete("DocumentCompletionTask", documented=True, documentationNote="OK")
    await status_becomes(worker_deps, report, ReportStatus.MENUNGGU_KONFIRMASI)
    await correlate(lapor_process, report, Message.CITIZEN_RESPONSE, {"citizenAccepted": True})
    await status_becomes(worker_deps, report, ReportStatus.SELESAI)

    def done_notice() -> list[str]:
        return [body_of(m) for m in mailbox.to(follower_email, report.tracking_id) if "Selesai" in body_of(m)]

    [body] = await eventually(done_notice)
    assert f"/lacak/{report.tracking_id}\r\n" in body and f"/berhenti-mengikuti/{report.tracking_id}/" in body
    for personal in REPORTER.values():
        assert personal not in body
    # The follower heard of the OPD's answer and the result too (as the reporter did), each once.
    follower_mail = mailbox.to(follower_email, report.tracking_id)
    assert len(follower_mail) == 3, [m["Subject"] for m in follower_mail]
    for message in mailbox.to(REPORTER["email"], report.tracking_id):
        assert follower_email not in body_of(message) and "Tetangga" not in body_of(message)
