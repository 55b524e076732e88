"""lapor-recap: the monthly recap file for the Analis and the Kepala Bidang."""

import asyncio
from typing import Any

from pyzeebe import ZeebeTaskRouter

from lapor import deadlines
from lapor.recap import produce_recap
from workers.deps import deps
from workers.errors import job_task, on_job_error

router = ZeebeTaskRouter(exception_handler=on_job_error)


def make_recap(engine_now: str) -> dict[str, Any]:
    d = deps()
    document = produce_recap(
        session_factory=d.session_factory,
        now=deadlines.parse_engine_time(engine_now),
        directory=d.settings.data_dir / "recaps",
    )
    return {
        "recapPeriod": document.period,
        "recapDocumentId": document.id,
        "recapUrl": f"{d.settings.public_base_url}/staff/recaps/{document.period}.xlsx",
    }


@job_task(router, "lapor-recap")
async def recap_task(engineNow: str) -> dict[str, Any]:
    return await asyncio.to_thread(make_recap, engineNow)
