"""lapor-deadline: SLA due dates in working days from the engine's clock (FEEL now() mapped to engineNow)."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from pyzeebe import Job, ZeebeTaskRouter

from lapor import deadlines, files, reports
from workers.deps import deps
from workers.errors import job_task, on_job_error

router = ZeebeTaskRouter(exception_handler=on_job_error)

LINK_GRACE = timedelta(days=1)
_REPORT_COLUMN = {
    "verification": "verification_due_at",
    "opd-response": "response_due_at",
    "opd-completion": "completion_due_at",
}


def compute_deadline(*, sla: str, engine_now: str, report_id: str) -> dict[str, Any]:
    d = deps()
    result: dict[str, Any] = dict(
        deadlines.compute(sla, deadlines.parse_engine_time(engine_now), d.settings, d.calendar)
    )
    due = datetime.fromisoformat(next(v for k, v in result.items() if k.endswith("DueAt")))
    base_url = d.settings.public_base_url
    with d.session() as session:
        report = reports.get_by_tracking_id(session, report_id)
        column = _REPORT_COLUMN.get(sla)
        if column:  # tracking shows the current deadline
            setattr(report, column, due)
        # Signed links live as long as the task that shows them, plus a day of grace; each deadline renews them.
        expires = due + LINK_GRACE
        result["reportSummaryUrl"] = files.report_summary_url(report, expires, base_url, settings=d.settings)
        if sla == "verification":
            result["photoLinks"] = files.photo_links(session, report, expires, base_url, settings=d.settings)
        elif sla == "opd-completion":
            result["proofUploadUrl"] = files.proof_upload_url(report, expires, base_url, settings=d.settings)
    return result


@job_task(router, "lapor-deadline")
async def deadline_task(job: Job, reportId: str, engineNow: str) -> dict[str, Any]:
    return await asyncio.to_thread(
        compute_deadline, sla=job.custom_headers.get("sla", ""), engine_now=engineNow, report_id=reportId
    )
