"""Staff action after a calendar change: move the deadlines of every running report (as `python -m lapor.recompute`)."""

from datetime import datetime

import structlog
from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ContextDep, StaffDep
from api.errors import ServiceUnavailable, documented
from lapor import recompute as service
from lapor.deadlines import default_calendar
from lapor.process import EngineAuthError, EngineClient, EngineError

router = APIRouter(prefix="/staff/deadlines", tags=["staff"], responses=documented(401, 503))
_log = structlog.stdlib.get_logger(__name__)


class MovedDeadline(BaseModel):
    tracking_id: str
    deadline: str = Field(
        description="verification | supplement | opd-response | opd-completion | citizen-confirmation"
    )
    target: str = Field(description="variable | timer | task | tracking")
    name: str = Field(description="the process variable, the timer's or task's element id, or the tracking column")
    before: datetime | None
    after: datetime


class RecomputeResult(BaseModel):
    applied: bool = Field(description="false: a dry run, nothing was moved")
    reports: int = Field(description="running reports with a live deadline")
    moved_reports: int
    moves: list[MovedDeadline]
    without_start: list[str] = Field(description="deadlines computed before their start was recorded; left as they are")
    failed: list[str] = Field(description="reports the engine refused to change this time; run again")


@router.post("/recompute", response_model=RecomputeResult)
def recompute(context: ContextDep, _staff: StaffDep, dry_run: bool = False) -> RecomputeResult:
    """Recompute every running report's deadlines with the current working-day calendar and move what changed."""
    settings = context.settings
    # The administrator's login: the API's own account may not move jobs and tasks.
    admin = EngineClient(settings.engine_url, user=settings.engine_admin_user, password=settings.engine_admin_password)
    try:
        with admin as engine:
            outcome = service.recompute(
                engine=engine, db=context.db, calendar=default_calendar(settings), apply=not dry_run
            )
    except EngineAuthError as err:  # this API process was not given the engine administrator's login
        _log.error("deadlines.recompute_refused", error=str(err))
        raise ServiceUnavailable(
            "Login administrator mesin proses tidak diterima; gunakan python -m lapor.recompute."
        ) from err
    except EngineError as err:
        _log.warning("deadlines.recompute_failed", error=str(err))
        raise ServiceUnavailable("Mesin proses tidak dapat dihubungi; coba lagi.") from err
    return RecomputeResult(
        applied=outcome.applied,
        reports=outcome.reports,
        moved_reports=outcome.moved_reports,
        moves=[
            MovedDeadline(
                tracking_id=m.tracking_id,
                deadline=m.deadline.code,
                target=m.target,
                name=m.name,
                before=m.before,
                after=m.after,
            )
            for m in outcome.moves
        ],
        without_start=outcome.without_start,
        failed=outcome.failed,
    )
