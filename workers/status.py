"""lapor-status and lapor-auto-complete: every status change lands in the report's timeline, once per task."""

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor import audit, reports
from lapor.models import EventKind, MessageKind, Report, ReportMessage, ReportStatus
from lapor.process.tasks import ExternalTask
from lapor.roles import WORKERS_ACCOUNT
from lapor.vocabulary import Actor, FormField, ReportType
from workers import inputs
from workers.deps import Deps

AUTO_COMPLETE_NOTE = "Selesai otomatis: pelapor tidak menanggapi hasil tindak lanjut dalam batas waktu."

# Words written in a Tasklist form that the next person reads, stored with the status they come with:
# (status, actor) -> (form field, who wrote it, kind). The OPD's answers and Admin Pengaduan's note for the reporter
# reach tracking this way; the documentation note stays with staff.
_FORM_MESSAGES: dict[tuple[ReportStatus, Actor], list[tuple[FormField, Actor, MessageKind]]] = {
    (ReportStatus.PROSES, Actor.OPD): [(FormField.RESPONSE_TEXT, Actor.OPD, MessageKind.OPD_RESPONSE)],
    (ReportStatus.MENUNGGU_KONFIRMASI, Actor.ADMIN_PENGADUAN): [
        (FormField.COMPLETION_TEXT, Actor.OPD, MessageKind.OPD_COMPLETION),
        (FormField.DOCUMENTATION_NOTE, Actor.ADMIN_PENGADUAN, MessageKind.DOCUMENTATION_NOTE),
    ],
    (ReportStatus.DIKEMBALIKAN, Actor.ADMIN_PENGADUAN): [
        (FormField.VERIFICATION_NOTE, Actor.ADMIN_PENGADUAN, MessageKind.RETURN_NOTE)
    ],
    (ReportStatus.DIKEMBALIKAN_KE_PUSAT, Actor.ADMIN_PENGADUAN): [
        (FormField.VERIFICATION_NOTE, Actor.ADMIN_PENGADUAN, MessageKind.RETURN_NOTE)
    ],
}
REJECTION_REASON_VARIABLE = FormField.REJECTION_REASON
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(\+?\d[\d\s.-]{7,}\d)")
HIDDEN = "[disamarkan]"


def record_status(d: Deps, task: ExternalTask) -> dict[str, Any] | None:
    """The `status` property, by the `actor` property; with TERVERIFIKASI the dispatched `opdCode` and the
    report type as verified (staff may have corrected it) too. A rejection by the reporter (PROSES by `pelapor`)
    returns the reporter's reason for the OPD's form, with contact details and the reporter's name hidden."""
    status = inputs.enum_prop(task, "status", ReportStatus)
    actor = inputs.enum_prop(task, "actor", Actor)
    verified = status is ReportStatus.TERVERIFIKASI
    texts = [
        (author, kind, text)
        for field, author, kind in _FORM_MESSAGES.get((status, actor), [])
        if (text := inputs.optional_text(task, field)) is not None
    ]
    reason = _record(
        d,
        task,
        status=status,
        actor=actor,
        opd_code=inputs.optional_text(task, FormField.OPD_CODE) if verified else None,
        report_type=inputs.report_type(task) if verified else None,
        texts=texts,
        want_rejection=status is ReportStatus.PROSES and actor is Actor.PELAPOR,
    )
    return {REJECTION_REASON_VARIABLE: reason} if reason is not None else None


def rejection_reason(session: Session, report: Report) -> str:
    """The reporter's latest rejection in words the OPD may read: e-mail, phone and the reporter's name hidden."""
    message = session.scalar(
        select(ReportMessage)
        .where(
            ReportMessage.report_id == report.id,
            ReportMessage.kind == MessageKind.CONFIRMATION.value,
            ReportMessage.accepted.is_(False),
        )
        .order_by(ReportMessage.created_at.desc(), ReportMessage.id.desc())
        .limit(1)
    )
    text = message.text if message is not None else "Pelapor menolak hasil tanpa menyebutkan alasan."
    text = _PHONE.sub(HIDDEN, _EMAIL.sub(HIDDEN, text))
    name = report.reporter.name.strip() if report.reporter is not None else ""
    if len(name) >= 3:
        text = re.sub(re.escape(name), HIDDEN, text, flags=re.IGNORECASE)
    return text


def auto_complete(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """The reporter did not answer in time: the system closes the report as SELESAI."""
    _record(d, task, status=ReportStatus.SELESAI, actor=Actor.SISTEM, note=AUTO_COMPLETE_NOTE)
    return {"autoCompleted": True}


def _record(
    d: Deps,
    task: ExternalTask,
    *,
    status: ReportStatus,
    actor: Actor,
    opd_code: str | None = None,
    report_type: ReportType | None = None,
    texts: list[tuple[Actor, MessageKind, str]] | None = None,
    note: str | None = None,
    want_rejection: bool = False,
) -> str | None:
    at: datetime = inputs.engine_now(task)
    with d.session() as session:
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
        for author, kind, text in texts if first_time and texts else []:
            message = ReportMessage(report_id=report.id, author=author.value, kind=kind.value, text=text, created_at=at)
            session.add(message)
            audit.record_message(session, report, message, actor_kind=audit.AuditActor.LAYANAN, actor=WORKERS_ACCOUNT)
        return rejection_reason(session, report) if want_rejection else None
