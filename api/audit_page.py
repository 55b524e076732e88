"""The audit trail of one report for supervisors (koordinator, kepala bidang): every action, who took it and when,
whether the chain is intact, and the trail as CSV or JSON. Signed in with the Tasklist login (api/staff_session.py);
the page never shows the reporter's identity (the trail holds none)."""

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import Depends, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import AppContext, ContextDep
from api.errors import ReportNotFound
from api.schemas import CODE_PATTERN
from api.staff_session import StaffMember, StaffSessionDep, page, require_groups, router_for_staff
from lapor import audit, reports
from lapor.models import Report
from lapor.process import EngineClient, EngineError
from lapor.roles import SUPERVISORS

_log = structlog.stdlib.get_logger(__name__)
router = router_for_staff()

TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]
SupervisorDep = Annotated[StaffMember, Depends(require_groups(*SUPERVISORS))]
ENGINE_UNREAD = "Tindakan terbaru di Tasklist belum terbaca (mesin proses tidak menjawab); muat ulang sebentar lagi."


def trail_path(tracking_id: str) -> str:
    return f"/staf/laporan/{tracking_id}/jejak"


def _report(session: Session, tracking_id: str) -> Report:
    try:
        return reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None


def _catch_up(context: AppContext, tracking_id: str, now: datetime) -> bool:
    """Bring the report's newest Tasklist and Cockpit actions in (as svc-api); False when the engine is away."""
    settings = context.settings
    try:
        with (
            EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password) as client,
            Session(context.db) as session,
            session.begin(),
        ):
            audit.import_engine_operations(session, client, _report(session, tracking_id), now)
    except EngineError as err:
        _log.warning("audit.catch_up_failed", tracking_id=tracking_id, error=str(err))
        return False
    return True


def _read(context: AppContext, tracking_id: str) -> tuple[Report, list[audit.TrailLine], audit.Verdict]:
    with Session(context.db, expire_on_commit=False) as session:
        report = _report(session, tracking_id)
        return report, audit.trail(session, report), audit.verify(session, tracking_id=tracking_id)


@router.get("/staf/jejak")
def find(_supervisor: SupervisorDep, nomor: Annotated[str, Query(max_length=32, pattern=CODE_PATTERN)]) -> Response:
    """The search box of the staff home page: a tracking id, to its trail."""
    return RedirectResponse(trail_path(nomor.strip().upper()), status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staf/laporan/{tracking_id}/jejak")
async def trail_page(
    tracking_id: TrackingId, _supervisor: SupervisorDep, staff: StaffSessionDep, context: ContextDep
) -> Response:
    now = context.clock()
    caught_up = await run_in_threadpool(_catch_up, context, tracking_id, now)
    report, lines, verdict = await run_in_threadpool(_read, context, tracking_id)
    return page(
        "staf_jejak.html",
        staff,
        report=report,
        lines=lines,
        verdict=verdict,
        engine_note=None if caught_up else ENGINE_UNREAD,
        csv_path=trail_path(report.tracking_id) + ".csv",
        json_path=trail_path(report.tracking_id) + ".json",
    )


def _export(context: AppContext, tracking_id: str, member: StaffMember, fmt: str, now: datetime) -> tuple[str, str]:
    """The trail, after recording that this supervisor exported it (the export is in the file it gives)."""
    with Session(context.db, expire_on_commit=False) as session, session.begin():
        report = _report(session, tracking_id)
        audit.record(
            session,
            report,
            action=audit.AuditAction.TRAIL_EXPORTED,
            actor_kind=audit.AuditActor.STAF,
            actor=member.user_id,
            at=now,
            detail={"format": fmt, "text": f"Jejak audit diunduh ({fmt.upper()})"},
        )
        lines = audit.trail(session, report)
        body = audit.export_csv(lines) if fmt == "csv" else audit.export_json(report, lines)
        return report.tracking_id, body


@router.get("/staf/laporan/{tracking_id}/jejak.{fmt}")
async def trail_export(
    tracking_id: TrackingId,
    fmt: Annotated[str, Path(pattern="^(csv|json)$")],
    supervisor: SupervisorDep,
    context: ContextDep,
) -> Response:
    now = context.clock()
    await run_in_threadpool(_catch_up, context, tracking_id, now)
    name, body = await run_in_threadpool(_export, context, tracking_id, supervisor, fmt, now)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="jejak-{name}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
