"""Data saya: the signed-in reporter reads everything held about them and downloads it as a ZIP (issue 23 item 1),
through the same collection (lapor.personal_data) and download (api.personal_data) as the API and the front desk."""

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from api import personal_data as downloads
from api.deps import ContextDep, NowDep, SessionDep
from api.web.pages import to_sign_in
from api.web.render import page
from api.web.routing import WebRoute
from api.web.session import WebSessionDep
from lapor import personal_data
from lapor.audit import AuditActor

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/data-saya")
def my_data(web: WebSessionDep, session: SessionDep, context: ContextDep, now: NowDep) -> Response:
    """The readable page: the reporter's own data (reading it is not an export, and names nobody else)."""
    if web.reporter is None:
        return to_sign_in()
    collected = personal_data.collect(session, web.reporter, upload_dir=context.upload_dir, now=now)
    return page("data_saya.html", web, data=collected.data)


@router.post("/data-saya/unduh")
def download(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    csrf: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """The ZIP (POST with the form's CSRF token: another site cannot make the browser export, nor record one)."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    return downloads.export(
        session,
        context,
        web.reporter,
        via=personal_data.ExportVia.WEB,
        actor_kind=AuditActor.PELAPOR,
        actor=AuditActor.PELAPOR.value,
        now=now,
    )
