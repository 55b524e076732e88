"""lapor-status and lapor-auto-complete: every status change lands in the report's timeline, once per job."""

import asyncio
from typing import Any

from pyzeebe import Job, ZeebeTaskRouter

from lapor import deadlines, reports
from lapor.models import EventKind, MessageAuthor, MessageKind, ReportMessage, ReportStatus
from workers.deps import deps
from workers.errors import job_task, on_job_error

router = ZeebeTaskRouter(exception_handler=on_job_error)
ACTORS = ("admin-pengaduan", "opd", "pelapor", "sistem")
AUTO_COMPLETE_NOTE = "Selesai otomatis: pelapor tidak menanggapi hasil tindak lanjut dalam batas waktu."


# The OPD's words that the reporter reads in tracking, stored with the status they come with.
_OPD_MESSAGE = {
    ReportStatus.PROSES: MessageKind.OPD_RESPONSE,
    ReportStatus.MENUNGGU_KONFIRMASI: MessageKind.OPD_COMPLETION,
}


def record_status(
    *,
    report_id: str,
    status: str,
    actor: str,
    job_key: int,
    engine_now: str,
    opd_code: str | None,
    note: str | None,
    opd_text: str | None = None,
) -> None:
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r} in the BPMN task header")
    at = deadlines.parse_engine_time(engine_now)
    with deps().session() as session:
        report = reports.get_by_tracking_id(session, report_id)
        if opd_code and status == ReportStatus.TERVERIFIKASI:
            report.opd_code = opd_code
        first_time = reports.record_event(
            session,
            report=report,
            kind=EventKind.STATUS,
            status=ReportStatus(status),
            actor=actor,
            at=at,
            job_key=job_key,
            detail=note,
        )
        message_kind = _OPD_MESSAGE.get(ReportStatus(status))
        if first_time and message_kind and opd_text and actor != "pelapor":
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author=MessageAuthor.OPD.value,
                    kind=message_kind.value,
                    text=opd_text,
                    created_at=at,
                )
            )


@job_task(router, "lapor-status")
async def status_task(
    job: Job,
    reportId: str,
    engineNow: str,
    opdCode: str | None = None,
    responseText: str | None = None,
    completionText: str | None = None,
) -> dict[str, Any]:
    headers = job.custom_headers
    await asyncio.to_thread(
        record_status,
        report_id=reportId,
        status=headers.get("status", ""),
        actor=headers.get("actor", ""),
        job_key=job.key,
        engine_now=engineNow,
        opd_code=opdCode,
        note=None,
        opd_text=responseText if headers.get("status") == ReportStatus.PROSES else completionText,
    )
    return {}


@job_task(router, "lapor-auto-complete")
async def auto_complete_task(job: Job, reportId: str, engineNow: str) -> dict[str, Any]:
    await asyncio.to_thread(
        record_status,
        report_id=reportId,
        status=ReportStatus.SELESAI.value,
        actor="sistem",
        job_key=job.key,
        engine_now=engineNow,
        opd_code=None,
        note=AUTO_COMPLETE_NOTE,
    )
    return {"autoCompleted": True}
