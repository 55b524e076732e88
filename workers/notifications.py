"""lapor-notify and lapor-reminder: messages to the reporter, the OPD, the admin and the koordinator."""

import asyncio
from typing import Any

from pyzeebe import Job, ZeebeTaskRouter

from lapor import deadlines, masterdata, reports
from lapor.models import EventKind, ReportStatus
from lapor.notifications.service import send_once
from lapor.notifications.templates import DEADLINE_LABELS
from workers.deps import deps
from workers.errors import job_task, on_job_error, text_variable

router = ZeebeTaskRouter(exception_handler=on_job_error)

# Which deadline a message mentions.
_DUE_VARIABLE = {
    "laporan-diterima": "verificationDueAt",
    "laporan-dikembalikan": "supplementDueAt",
    "laporan-didisposisi": "responseDueAt",
    "tanggapan-opd": "completionDueAt",
    "hasil-tindak-lanjut": "confirmationDueAt",
}
_DEADLINE_VARIABLE = {
    "verification": "verificationDueAt",
    "opd-response": "responseDueAt",
    "opd-completion": "completionDueAt",
}


def notify(
    *,
    idempotency_key: str,
    report_id: str,
    template: str,
    recipient_kind: str,
    due_at: str | None,
    engine_now: str,
    note: str | None = None,
    deadline: str | None = None,
    event: tuple[EventKind, str, int] | None = None,
) -> int:
    d = deps()
    now = deadlines.parse_engine_time(engine_now)
    with d.session() as session:
        report = reports.get_by_tracking_id(session, report_id)
        _ = report.reporter  # loaded now: recipients are resolved after this session closes
        opd = masterdata.get_opd(report.opd_code) if report.opd_code else None
        context = {
            "tracking_id": report.tracking_id,
            "status_label": ReportStatus(report.status).label,
            "opd_name": opd.name if opd else "",
            "due_date": due_at or "",  # ISO: the templates format it long for e-mail, short for SMS
            "deadline": deadline or "",
            "report_url": f"{d.settings.public_base_url}/reports/{report.tracking_id}",
            "note": note or "",
        }
        if event is not None:  # reminders and escalations belong in the timeline too
            kind, actor, job_key = event
            reports.record_event(session, report=report, kind=kind, actor=actor, at=now, job_key=job_key, detail=note)
    return send_once(
        session_factory=d.session_factory,
        idempotency_key=idempotency_key,
        report=report,
        template=template,
        recipient_kind=recipient_kind,
        context=context,
        email=d.email,
        sms=d.sms,
        now=now,
        settings=d.settings,
    )


_DUE_VARIABLES = [
    "verificationDueAt",
    "supplementDueAt",
    "responseDueAt",
    "completionDueAt",
    "confirmationDueAt",
]


@job_task(router, "lapor-notify", variables_to_fetch=["reportId", "engineNow", "responseText", *_DUE_VARIABLES])
async def notify_task(job: Job, reportId: str, engineNow: str, **_: Any) -> dict[str, Any]:
    template = job.custom_headers.get("template", "")
    due_variable = _DUE_VARIABLE.get(template)
    await asyncio.to_thread(
        notify,
        idempotency_key=str(job.key),
        report_id=reportId,
        template=template,
        recipient_kind=job.custom_headers.get("recipient", ""),
        due_at=text_variable(job, due_variable) if due_variable else None,
        engine_now=engineNow,
        note=text_variable(job, "responseText") if template == "tanggapan-opd" else None,
    )
    return {}


@job_task(router, "lapor-reminder", variables_to_fetch=["reportId", "engineNow", *_DUE_VARIABLES])
async def reminder_task(job: Job, reportId: str, engineNow: str, **_: Any) -> dict[str, Any]:
    deadline = job.custom_headers.get("deadline", "")
    kind = job.custom_headers.get("kind", "")
    if deadline not in _DEADLINE_VARIABLE or kind not in ("reminder", "escalation"):
        raise ValueError(f"reminder task with unknown headers deadline={deadline!r} kind={kind!r}")
    due_at = text_variable(job, _DEADLINE_VARIABLE[deadline])
    note = f"Batas waktu {DEADLINE_LABELS[deadline]}"
    if kind == "escalation":
        recipients = ["koordinator", "admin-pengaduan"]
        template, event_kind = "eskalasi", EventKind.ESCALATION
    else:
        recipients = ["admin-pengaduan"] if deadline == "verification" else ["opd", "admin-pengaduan"]
        template, event_kind = "pengingat", EventKind.REMINDER
    for index, recipient in enumerate(recipients):
        await asyncio.to_thread(
            notify,
            idempotency_key=f"{job.key}:{recipient}",
            report_id=reportId,
            template=template,
            recipient_kind=recipient,
            due_at=due_at,
            engine_now=engineNow,
            note=note,
            deadline=deadline,
            event=(event_kind, "sistem", job.key) if index == 0 else None,
        )
    return {}
