"""lapor-deadline: SLA due dates in working days from the engine's clock (FEEL now() mapped to engineNow)."""

import asyncio
from datetime import datetime

from pyzeebe import Job, ZeebeTaskRouter

from lapor import deadlines, reports
from workers.deps import deps
from workers.errors import job_task, on_job_error

router = ZeebeTaskRouter(exception_handler=on_job_error)

_REPORT_COLUMN = {"verification": "verification_due_at", "opd-response": "response_due_at"}
_REPORT_COLUMN["opd-completion"] = "completion_due_at"


def compute_deadline(*, sla: str, engine_now: str, report_id: str) -> dict[str, str]:
    d = deps()
    result = deadlines.compute(sla, deadlines.parse_engine_time(engine_now), d.settings, d.calendar)
    column = _REPORT_COLUMN.get(sla)
    if column:  # tracking shows the current deadline
        due = datetime.fromisoformat(next(v for k, v in result.items() if k.endswith("DueAt")))
        with d.session() as session:
            setattr(reports.get_by_tracking_id(session, report_id), column, due)
    return result


@job_task(router, "lapor-deadline")
async def deadline_task(job: Job, reportId: str, engineNow: str) -> dict[str, str]:
    return await asyncio.to_thread(
        compute_deadline, sla=job.custom_headers.get("sla", ""), engine_now=engineNow, report_id=reportId
    )
