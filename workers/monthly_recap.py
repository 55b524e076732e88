"""lapor-recap: the monthly recap file for the Analis and the Kepala Bidang."""

from datetime import datetime
from typing import Any

from lapor.notifications.templates import format_due_date
from lapor.process.tasks import ExternalTask
from lapor.recap import produce_recap
from lapor.workdays import END_OF_DAY, PONTIANAK_TZ
from workers import inputs
from workers.deps import Deps


def make_recap(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """The recap of the month before the engine's `engineNow`: `recapPeriod`, `recapDocumentId`, `recapUrl`, and
    the review's due date `recapReviewDueAt` (before the 10th of the month, with `recapReviewDueText` in words)."""
    now = inputs.engine_now(task)
    document = produce_recap(session_factory=d.session_factory, now=now, directory=d.settings.data_dir / "recaps")
    due = review_due(now)
    return {
        "recapPeriod": document.period,
        "recapDocumentId": document.id,
        "recapUrl": f"{d.settings.public_base_url}/staff/recaps/{document.period}.xlsx",
        "recapReviewDueAt": due,
        "recapReviewDueText": format_due_date(due),
    }


def review_due(now: datetime) -> datetime:
    """The end of the 9th of the month the recap is made in (WIB): the review is done before the 10th."""
    local = now.astimezone(PONTIANAK_TZ)
    return datetime.combine(local.date().replace(day=REVIEW_DAY), END_OF_DAY, tzinfo=PONTIANAK_TZ)


REVIEW_DAY = 9
