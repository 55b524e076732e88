"""lapor-recap: the monthly recap file for the Analis and the Kepala Bidang."""

from typing import Any

from lapor.process.tasks import ExternalTask
from lapor.recap import produce_recap
from workers import inputs
from workers.deps import deps


def make_recap(task: ExternalTask) -> dict[str, Any]:
    """The recap of the month before the engine's `engineNow`: `recapPeriod`, `recapDocumentId`, `recapUrl`."""
    d = deps()
    document = produce_recap(
        session_factory=d.session_factory,
        now=inputs.engine_now(task),
        directory=d.settings.data_dir / "recaps",
    )
    return {
        "recapPeriod": document.period,
        "recapDocumentId": document.id,
        "recapUrl": f"{d.settings.public_base_url}/staff/recaps/{document.period}.xlsx",
    }
