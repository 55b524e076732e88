"""Submitting a report on the web page: the API's limits and `lapor.intake` (its checks, photo decoding and
writing), refusals shown next to the field they concern with everything typed kept (only the files must be chosen
again)."""

import re
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import AppContext, ClientIpDep, ContextDep, RateLimiter
from api.errors import TooManyRequests
from api.schemas import ReportFields
from api.submission import decoded, photo_rules, receive_files, report_data
from api.web.fields import GENERAL, REPORT_FORM_FIELDS, files, non_empty, refusal_errors, text_fields, validate
from api.web.pages import to_sign_in
from api.web.render import FORM_POLICY, categories, locations, page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep, load
from lapor import intake
from lapor.models import Reporter
from lapor.refusals import Refused

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FIELDS = (*REPORT_FORM_FIELDS, "koordinat", "anonymous", "confidential", "show_name")


def form_page(web: WebSession, *, status_code: int = 200, **values: Any) -> Response:
    return page(
        "lapor.html",
        web,
        status_code=status_code,
        headers={"Content-Security-Policy": FORM_POLICY},
        categories=categories(),
        locations=locations(),
        **values,
    )


@router.get("/lapor")
def submit_form(web: WebSessionDep) -> Response:
    if web.reporter is None:
        return to_sign_in()
    return form_page(web)


# "lintang, bujur" as a map app copies it: -0.0263, 109.3425; decimal commas too (-0,0263 109,3425).
_COORDINATES = re.compile(r"\s*(-?\d{1,3}(?:[.,]\d+)?)\s*(?:[,;]\s*|\s+)(-?\d{1,3}(?:[.,]\d+)?)\s*")
COORDINATES_FORMAT = "Tulis koordinat sebagai lintang, bujur, mis. -0.0263, 109.3425 (salin dari aplikasi peta)."
OUTSIDE_THE_CITY = "Titik koordinat itu berada di luar Kota Pontianak."


def coordinates(text: str) -> tuple[str, str] | None:
    """The latitude and longitude of the one coordinates field, or None if it is not two numbers."""
    found = _COORDINATES.fullmatch(text)
    if found is None:
        return None
    return found.group(1).replace(",", "."), found.group(2).replace(",", ".")


def _report_values(values: dict[str, str]) -> dict[str, str]:
    """The form's fields as ReportFields names them: the one location select carries "kecamatan/kelurahan", the
    one coordinates field "latitude, longitude" (checked for its format by the caller)."""
    fields = non_empty({k: v for k, v in values.items() if k not in ("lokasi", "koordinat")})
    kecamatan, _, kelurahan = values.get("lokasi", "").partition("/")
    fields |= non_empty({"kecamatan": kecamatan, "kelurahan": kelurahan})
    point = coordinates(values.get("koordinat", ""))
    if point is not None:
        fields |= {"latitude": point[0], "longitude": point[1]}
    return fields


def _fields(values: dict[str, str]) -> ReportFields | dict[str, str]:
    """The API's ReportFields on the form, its refusals by form field."""
    rename = {"kecamatan": "lokasi", "kelurahan": "lokasi", "latitude": "koordinat", "longitude": "koordinat"}
    checked = validate(ReportFields, _report_values(values), rename=rename)
    errors = checked if isinstance(checked, dict) else {}
    if "koordinat" in errors:  # two numbers, refused by the model's range: the city's bounds
        errors["koordinat"] = OUTSIDE_THE_CITY
    if values.get("koordinat", "").strip() and coordinates(values["koordinat"]) is None:
        errors["koordinat"] = COORDINATES_FORMAT
    if errors or isinstance(checked, dict):
        return errors
    return checked


def _web_session(context: AppContext, cookies: dict[str, str], now: datetime) -> WebSession:
    with Session(context.db, expire_on_commit=False) as session:
        return load(session, context, cookies, now)


def _spend_limits(context: AppContext, reporter: Reporter, ip: str, now: datetime) -> None:
    """The API's submission buckets, checked and counted before anything else (a refused submission counts)."""
    with Session(context.db) as session:
        RateLimiter(context, session, now).spend(("submission:ip", ip), ("submission:reporter", str(reporter.id)))


def _create(context: AppContext, request: intake.IntakeRequest, now: datetime) -> str:
    """The report, its photos and its start command in one transaction (as the API does)."""
    with Session(context.db, expire_on_commit=False) as session:
        return intake.accept(session, request, rules=photo_rules(context), now=now).report.tracking_id


@router.post("/lapor")
async def submit(request: Request, context: ContextDep, ip: ClientIpDep) -> Response:
    """Submit a report with 1 to 5 photos; on success the reporter lands on its tracking page."""
    now = context.clock()
    web = await run_in_threadpool(_web_session, context, dict(request.cookies), now)
    if web.reporter is None:
        return to_sign_in()  # from the cookie alone: a visitor who is not signed in costs no body
    async with request.form() as form:
        return await _submit(web, web.reporter, context, ip, now, form)


async def _submit(
    web: WebSession, reporter: Reporter, context: AppContext, ip: str, now: datetime, form: FormData
) -> Response:
    web.check_csrf(form.get("csrf"))
    values = text_fields(form, FIELDS)
    try:
        await run_in_threadpool(_spend_limits, context, reporter, ip, now)
    except TooManyRequests as limited:
        return form_page(web, status_code=429, form=values, errors={GENERAL: limited.message})
    fields = _fields(values)
    if isinstance(fields, dict):  # refused before any photo is decoded
        return form_page(web, status_code=422, form=values, errors=fields)
    request = intake.IntakeRequest(
        report_data(fields),
        channel="web",
        reporter_id=reporter.id,
        photos=await receive_files(files(form, "photos")),
        photos_required=True,
    )
    try:
        intake.check(request, now)  # master data, date, photo count: before any photo is decoded
        request = await decoded(context, request)
    except Refused as refused:
        return form_page(web, status_code=422, form=values, errors=refusal_errors(refused))
    tracking_id = await run_in_threadpool(partial(_create, context, request, now))
    return RedirectResponse(f"/lacak/{tracking_id}?pesan=terkirim", status_code=status.HTTP_303_SEE_OTHER)
