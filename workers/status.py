"""lapor-status and lapor-auto-complete: every status change lands in the report's timeline, once per task."""

from datetime import datetime
from typing import Any

from lapor import reports
from lapor.models import EventKind, MessageAuthor, MessageKind, ReportMessage, ReportStatus
from lapor.process.tasks import ExternalTask
from lapor.vocabulary import Actor, ReportType
from workers import inputs
from workers.deps import deps

AUTO_COMPLETE_NOTE = "Selesai otomatis: pelapor tidak menanggapi hasil tindak lanjut dalam batas waktu."

# The OPD's words that the reporter reads in tracking, stored with the status they come with (form field, kind).
_OPD_MESSAGE = {
    ReportStatus.PROSES: ("responseText", MessageKind.OPD_RESPONSE),
    ReportStatus.MENUNGGU_KONFIRMASI: ("completionText", MessageKind.OPD_COMPLETION),
}


def record_status(task: ExternalTask) -> None:
    """The `status` property, by the `actor` property; with TERVERIFIKASI the dispatched `opdCode` and the
    report type as verified (staff may have corrected it) too."""
    status = inputs.enum_prop(task, "status", ReportStatus)
    actor = inputs.enum_prop(task, "actor", Actor)
    opd_message = _OPD_MESSAGE.get(status)
    verified = status is ReportStatus.TERVERIFIKASI
    _record(
        task,
        status=status,
        actor=actor,
        opd_code=inputs.optional_text(task, "opdCode") if verified else None,
        report_type=inputs.report_type(task) if verified else None,
        opd_text=inputs.optional_text(task, opd_message[0]) if opd_message and actor is not Actor.PELAPOR else None,
    )


def auto_complete(task: ExternalTask) -> dict[str, Any]:
    """The reporter did not answer in time: the system closes the report as SELESAI."""
    _record(task, status=ReportStatus.SELESAI, actor=Actor.SISTEM, note=AUTO_COMPLETE_NOTE)
    return {"autoCompleted": True}


def _record(
    task: ExternalTask,
    *,
    status: ReportStatus,
    actor: Actor,
    opd_code: str | None = None,
    report_type: ReportType | None = None,
    opd_text: str | None = None,
    note: str | None = None,
) -> None:
    at: datetime = inputs.engine_now(task)
    with deps().session() as session:
        report = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        if opd_code:
            report.opd_code = opd_code
        if report_type is not None and report_type.value != report.report_type:
            note = f"Jenis laporan dikoreksi: {ReportType(report.report_type).label} menjadi {report_type.label}."
            report.report_type = report_type.value
        first_time = reports.record_event(
            session,
            report=report,
            kind=EventKind.STATUS,
            status=status,
            actor=actor,
            at=at,
            task_id=task.id,
            detail=note,
        )
        if first_time and opd_text:
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author=MessageAuthor.OPD.value,
                    kind=_OPD_MESSAGE[status][1].value,
                    text=opd_text,
                    created_at=at,
                )
            )
