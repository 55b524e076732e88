"""The front desk: Admin Pengaduan files a report received offline (complaint box, face to face, social media, e-mail,
phone) on a page, through the staff intake of `POST /intake/staff` (api.intake.file_staff_report): the same
validation, master-data checks, photo checks and start command. Refusals appear next to their field with everything
typed kept (only the files must be chosen again), as on the citizen's form."""

from datetime import datetime
from functools import partial
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import AppContext, ContextDep, SessionDep
from api.errors import REFUSAL_STATUS, ReportNotFound
from api.intake import StaffReportFields, file_staff_report
from api.schemas import CODE_PATTERN
from api.staff_session import StaffMember, StaffSession, StaffSessionDep, page, require_groups, router_for_staff
from api.submission import decode_photos, receive_files, report_data
from api.web.fields import REPORT_FORM_FIELDS, files, non_empty, refusal_errors, text_fields, validate
from api.web.render import REPORT_TYPE_LABELS, categories, locations
from lapor import deadlines, intake, reports, uploads
from lapor.models import Report
from lapor.refusals import Refused
from lapor.roles import STAFF_GROUPS
from lapor.vocabulary import STAFF_SOURCE_LABELS, Deadline

_log = structlog.stdlib.get_logger(__name__)
router: APIRouter = router_for_staff()

FILER_GROUPS = ("admin-pengaduan",)  # the SOP: Admin Pengaduan Daerah receives and records every report
FORM_PATH = "/staf/laporan-baru"
FIELDS = (
    "source",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "anonymous",
    "confidential",
    *REPORT_FORM_FIELDS,
)
FilerDep = Annotated[StaffMember, Depends(require_groups(*FILER_GROUPS))]


def form_page(staff: StaffSession, *, status_code: int = 200, **values: Any) -> Response:
    return page(
        "staf_laporan_baru.html",
        staff,
        status_code=status_code,
        channels=STAFF_SOURCE_LABELS,
        report_types=REPORT_TYPE_LABELS,
        categories=categories(),
        locations=locations(),
        **values,
    )


@router.get(FORM_PATH)
def report_form(_filer: FilerDep, staff: StaffSessionDep) -> Response:
    """The empty form (face to face is the usual case at the desk)."""
    return form_page(staff, form={"source": "tatap_muka", "report_type": "pengaduan"})


def _check(values: dict[str, str]) -> StaffReportFields | dict[str, str]:
    """api.intake's StaffReportFields on the form; the one location select carries "kecamatan/kelurahan"."""
    fields = non_empty({k: v for k, v in values.items() if k != "lokasi"})
    kecamatan, _, kelurahan = values.get("lokasi", "").partition("/")
    fields |= non_empty({"kecamatan": kecamatan, "kelurahan": kelurahan})
    return validate(StaffReportFields, fields, rename={"kecamatan": "lokasi", "kelurahan": "lokasi"})


def _file(
    context: AppContext, fields: StaffReportFields, images: list[uploads.CleanImage], now: datetime, filed_by: str
) -> str:
    with Session(context.db, expire_on_commit=False) as session:
        report = file_staff_report(session, context, fields=fields, photos=tuple(images), now=now, filed_by=filed_by)
        return report.tracking_id


@router.post(FORM_PATH)
async def file_report(request: Request, filer: FilerDep, staff: StaffSessionDep, context: ContextDep) -> Response:
    """File the report; on success the clerk sees its tracking id and what happens next."""
    now = context.clock()
    async with request.form() as form:
        return await _file_form(staff, context, filer, form, now)


async def _file_form(
    staff: StaffSession, context: AppContext, filer: StaffMember, form: FormData, now: datetime
) -> Response:
    staff.check_csrf(form.get("csrf"))
    values = text_fields(form, FIELDS)
    checked = _check(values)
    if isinstance(checked, dict):  # refused before any photo is decoded
        return form_page(staff, status_code=422, form=values, errors=checked)
    try:
        # The core's cheap checks (master data, date, photo count) before any photo is decoded, as the API does.
        photos = await receive_files(files(form, "photos"))
        intake.check(intake.IntakeRequest(report_data(checked), channel="staff", photos=photos), now)
        images = await decode_photos(context, photos)
        tracking_id = await run_in_threadpool(partial(_file, context, checked, images, now, filer.user_id))
    except Refused as refused:
        errors = refusal_errors(refused)
        status_code = 422 if "photos" in errors else REFUSAL_STATUS[refused.kind]
        return form_page(staff, status_code=status_code, form=values, errors=errors)
    return RedirectResponse(f"{FORM_PATH}/{tracking_id}", status_code=status.HTTP_303_SEE_OTHER)


TrackingId = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)]


def _reporter_reached(report: Report) -> bool:
    reporter = report.reporter
    return reporter is not None and bool(reporter.email or reporter.phone)


@router.get(FORM_PATH + "/{tracking_id}")
def filed(tracking_id: TrackingId, _filer: FilerDep, staff: StaffSessionDep, session: SessionDep) -> Response:
    """The report just filed: its tracking id and what happens next (never the reporter's data)."""
    try:
        report = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise ReportNotFound() from None
    if report.channel != "staff":
        raise ReportNotFound()  # this page is the front desk's receipt, not a window on every report
    return page(
        "staf_laporan_diterima.html",
        staff,
        tracking_id=report.tracking_id,
        title=report.title,
        channel=STAFF_SOURCE_LABELS.get(report.source or "", "Lainnya"),
        created_at=report.created_at,
        reporter_reached=_reporter_reached(report),
        has_reporter=report.reporter_id is not None,
        verifier=STAFF_GROUPS["admin-pengaduan"],
        verification_sla=deadlines.model_rules()[Deadline.VERIFICATION].describe(),
        tracking_path=f"/lacak/{report.tracking_id}",
    )
