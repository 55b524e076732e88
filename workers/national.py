"""lapor-return-national: reports outside the city's authority go back to Admin Pusat."""

import asyncio
from typing import Any

from pyzeebe import Job, ZeebeTaskRouter

from lapor import deadlines, reports
from lapor.models import EventKind
from workers.deps import deps
from workers.errors import job_task, on_job_error

router = ZeebeTaskRouter(exception_handler=on_job_error)


def return_to_national(*, report_id: str, reason: str, job_key: int, engine_now: str) -> str | None:
    d = deps()
    receipt = d.national.return_report(tracking_id=report_id, reason=reason, idempotency_key=str(job_key))
    with d.session() as session:
        report = reports.get_by_tracking_id(session, report_id)
        reports.record_event(
            session,
            report=report,
            kind=EventKind.NATIONAL_RETURN,
            actor="admin-pengaduan",
            at=deadlines.parse_engine_time(engine_now),
            job_key=job_key,
            detail=f"Dikembalikan ke Admin Pusat. Ref: {receipt.reference or '-'}. {reason}".strip(),
        )
    return receipt.reference


@job_task(router, "lapor-return-national", variables_to_fetch=["reportId", "engineNow", "verificationNote"])
async def return_national_task(job: Job, reportId: str, engineNow: str, **_: Any) -> dict[str, Any]:
    reason = str(job.variables.get("verificationNote") or "Bukan kewenangan Pemerintah Kota Pontianak")
    reference = await asyncio.to_thread(
        return_to_national, report_id=reportId, reason=reason, job_key=job.key, engine_now=engineNow
    )
    return {"nationalReference": reference}
