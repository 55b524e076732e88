"""Supervisors' live SLA view (issue 20): the figures and the at-risk list that Cockpit's dashboard shows.

The engine's SLA controller calls this with its token and adds who holds each open task; the figures are
lapor.sla's, the same computation as the monthly recap.
"""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import ContextDep, NowDep, SessionDep, SlaReaderDep, read_only
from api.errors import Unprocessable, documented
from lapor import signed_links, sla
from lapor.deadlines import default_calendar
from lapor.models import ReportStatus
from lapor.notifications.templates import format_due_date
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ

router = APIRouter(prefix="/staff/sla", tags=["staff"], responses=documented(401, 422))

MAX_WITHIN = 20  # working days: a month of warning is already more than anyone reads
MAX_PERIOD_DAYS = 366
DEFAULT_WITHIN = 2
# The staff page link in the list opens for a day: the view is reloaded far more often than that.
STAFF_LINK_LIFETIME = timedelta(days=1)


class SlaCountView(BaseModel):
    met: int
    missed: int
    pending: int
    met_ratio: float | None = Field(description="met / (met + missed); null when nothing was decided")


class ComplianceView(BaseModel):
    verification: SlaCountView
    disposition: SlaCountView
    opd_response: SlaCountView
    opd_completion: SlaCountView
    documentation: SlaCountView


class FiguresView(BaseModel):
    reports: int = Field(description="reports created in the period")
    compliance: ComplianceView
    median_hours_to_verification: float | None
    median_hours_dispatched_to_process: float | None
    median_hours_to_completion: float | None


class OpdRow(BaseModel):
    opd_code: str | None = Field(description="null: not dispatched to an OPD yet")
    opd_name: str
    open: int
    late: int
    due_soon: int
    period: FiguresView


class AtRiskRow(BaseModel):
    tracking_id: str
    title: str
    opd_code: str | None
    opd_name: str
    status: str
    status_label: str
    deadline: str = Field(description="verification | disposition | opd-response | opd-completion | documentation")
    deadline_label: str
    due_at: datetime
    due_text: str = Field(description="the due date in words, WIB")
    working_days_left: int = Field(description="0 on the due day, negative once late")
    late: bool
    holder_group: str = Field(description="the stage's candidate group(s), comma-separated")
    holder: str
    staff_url: str = Field(description="signed staff page of the report (never the reporter's identity)")
    process_instance_id: str | None = Field(description="the report's lapor-pengaduan instance in the engine")


class StageView(BaseModel):
    field: str
    code: str
    label: str


class SlaViewOut(BaseModel):
    start: date
    end: date
    as_of: datetime = Field(description="the period is judged as of its end, or now while it runs")
    within: int
    open: int
    late: int
    due_soon: int
    overall: FiguresView
    per_opd: list[OpdRow]
    at_risk: list[AtRiskRow]
    stages: list[StageView]


# A deadline's field in the JSON: its code with underscores (opd-response -> opd_response).
_FIELDS = {deadline: deadline.code.replace("-", "_") for deadline in Deadline}


def _count(count: sla.SlaCount) -> SlaCountView:
    return SlaCountView(met=count.met, missed=count.missed, pending=count.pending, met_ratio=count.met_ratio)


def _figures(figures: sla.SlaFigures) -> FiguresView:
    return FiguresView(
        reports=figures.reports,
        compliance=ComplianceView(**{_FIELDS[d]: _count(c) for d, c in figures.compliance.items()}),
        median_hours_to_verification=figures.median_hours_to_verification,
        median_hours_dispatched_to_process=figures.median_hours_dispatched_to_process,
        median_hours_to_completion=figures.median_hours_to_completion,
    )


def _status_label(code: str) -> str:
    try:
        return ReportStatus(code).label
    except ValueError:
        return code


def _period(start: date | None, end: date | None, now: datetime) -> tuple[date, date]:
    """The chosen dates, the current month in WIB by default; 422 for a reversed or too long range."""
    today = now.astimezone(PONTIANAK_TZ).date()
    first = start or today.replace(day=1)
    last = end or ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1))
    if last < first:
        raise Unprocessable(
            "Tanggal akhir sebelum tanggal awal.",
            details=[{"field": "query.end", "type": "before_start", "message": "Tanggal akhir sebelum tanggal awal."}],
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise Unprocessable(
            f"Rentang paling lama {MAX_PERIOD_DAYS} hari.",
            details=[{"field": "query.end", "type": "range_too_long", "message": "Rentang terlalu panjang."}],
        )
    return first, last


@router.get("", response_model=SlaViewOut)
def sla_view(
    context: ContextDep,
    session: SessionDep,
    now: NowDep,
    _reader: SlaReaderDep,
    start: Annotated[date | None, Query(description="first day (WIB), default the first of this month")] = None,
    end: Annotated[date | None, Query(description="last day (WIB), default the end of start's month")] = None,
    within: Annotated[int, Query(ge=0, le=MAX_WITHIN, description="warning window in working days")] = DEFAULT_WITHIN,
) -> Response:
    """Open, late and due-soon reports per OPD, compliance per SOP deadline for the period, and the at-risk list."""
    first, last = _period(start, end, now)
    read_only(session)
    view = sla.live_view(
        session, start=first, end=last, now=now, within=within, calendar=default_calendar(context.settings)
    )
    expires = now + STAFF_LINK_LIFETIME
    due_texts: dict[datetime, str] = {}  # a backlog's thousands of rows share a few hundred due moments
    out = SlaViewOut(
        start=view.start,
        end=view.end,
        as_of=view.as_of,
        within=view.within,
        open=view.open,
        late=view.late,
        due_soon=view.due_soon,
        overall=_figures(view.overall),
        per_opd=[
            OpdRow(
                opd_code=row.opd_code,
                opd_name=sla.opd_name(row.opd_code),
                open=row.open,
                late=row.late,
                due_soon=row.due_soon,
                period=_figures(row.figures),
            )
            for row in view.per_opd
        ],
        at_risk=[
            AtRiskRow(
                tracking_id=row.tracking_id,
                title=row.title,
                opd_code=row.opd_code,
                opd_name=sla.opd_name(row.opd_code),
                status=row.status,
                status_label=_status_label(row.status),
                deadline=row.deadline.code,
                deadline_label=sla.STAGE_NAMES[row.deadline],
                due_at=row.due_at,
                due_text=due_texts.get(row.due_at) or due_texts.setdefault(row.due_at, format_due_date(row.due_at)),
                working_days_left=row.working_days_left,
                late=row.late,
                holder_group=row.holder_group,
                holder=row.holder,
                staff_url=signed_links.report_summary_url(row, expires, context.base_url, settings=context.settings),
                process_instance_id=row.process_instance_id,
            )
            for row in view.at_risk
        ],
        stages=[StageView(field=_FIELDS[d], code=d.code, label=sla.STAGE_NAMES[d]) for d in sla.SLA_DEADLINES],
    )
    # Built and checked once here; a Response is not validated again against the response model on the way out.
    return Response(out.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"})
