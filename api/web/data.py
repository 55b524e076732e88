"""Data saya: the signed-in reporter reads everything held about them and downloads it as a ZIP (issue 23 item 1),
through the same collection (lapor.personal_data) and download (api.personal_data) as the API and the front desk;
corrects their e-mail or phone with a code sent to the new contact, and erases their personal data (item 2), through
the API's services (api.data_rights)."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api import data_rights
from api import personal_data as downloads
from api.deps import AppContext, ClientIpDep, ContextDep, NowDep, RateLimiterDep, SessionDep
from api.errors import ApiError, status_of
from api.web.fields import GENERAL, CodeId, code_errors, is_code, non_empty, validate
from api.web.pages import to_sign_in
from api.web.render import page
from api.web.routing import WebRoute
from api.web.session import WebSession, WebSessionDep, sign_out
from lapor import contact_codes, correction, erasure, personal_data
from lapor.audit import AuditActor
from lapor.refusals import Refused

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FormText = Annotated[str, Form(max_length=400)]
CHANGED = {"email": "Alamat email Anda telah diganti.", "phone": "Nomor ponsel Anda telah diganti."}


def _data_page(
    web: WebSession, session: Session, context: AppContext, now: Any, *, status_code: int = 200, **values: Any
) -> Response:
    assert web.reporter is not None
    collected = personal_data.collect(session, web.reporter, upload_dir=context.upload_dir, now=now)
    values = {"errors_of": "", "changed": None} | values
    return page("data_saya.html", web, status_code=status_code, data=collected.data, **values)


@router.get("/data-saya")
def my_data(web: WebSessionDep, session: SessionDep, context: ContextDep, now: NowDep, diganti: str = "") -> Response:
    """The readable page: the reporter's own data (reading it is not an export, and names nobody else)."""
    if web.reporter is None:
        return to_sign_in()
    return _data_page(web, session, context, now, changed=CHANGED.get(diganti))


@router.post("/data-saya/kontak")
def correct_contact(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    now: NowDep,
    csrf: FormText = "",
    email: FormText = "",
    phone: FormText = "",
) -> Response:
    """A code to the new e-mail address or phone number, then the page that asks for it."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    form = {"email": email, "phone": phone}
    checked = validate(data_rights.ContactCorrection, non_empty(form))
    if isinstance(checked, dict):
        return _data_page(web, session, context, now, status_code=422, form=form, errors=checked, errors_of="kontak")
    kind, value = (
        (correction.ContactKind.EMAIL, checked.email)
        if checked.email
        else (correction.ContactKind.PHONE, checked.phone)
    )
    assert value is not None
    try:
        started = data_rights.start_correction(session, context, limiter, web.reporter, kind=kind, value=value, now=now)
    except (ApiError, Refused) as refused:  # rate limited; the same contact, an erased reporter, no channel
        errors = {GENERAL: refused.message}
        return _data_page(
            web, session, context, now, status_code=status_of(refused), form=form, errors=errors, errors_of="kontak"
        )
    return page("data_saya_kode.html", web, correction_id=started.correction_id, contact=kind.value)


@router.post("/data-saya/kontak/verifikasi")
def confirm_contact(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
    csrf: FormText = "",
    correction_id: CodeId = "",
    contact: FormText = "",
    code: FormText = "",
) -> Response:
    """The code from the new contact: the contact is replaced and the old one told, back to Data saya."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    again: dict[str, Any] = {"correction_id": correction_id, "contact": "phone" if contact == "phone" else "email"}
    if not is_code(code):
        return page("data_saya_kode.html", web, status_code=422, errors={"code": "Masukkan 6 angka kode."}, **again)
    try:
        done = data_rights.confirm_correction(
            session, context, limiter, ip, web.reporter, correction_id=correction_id, code=code.strip(), now=now
        )
    except (contact_codes.CodeInvalid, ApiError) as wrong:  # a wrong code, or rate limited: try again here
        errors = code_errors(wrong)
        return page("data_saya_kode.html", web, status_code=status_of(wrong), errors=errors, **again)
    except Refused as spent:  # not found, expired, locked, another reporter's: back to Data saya with the reason
        errors = code_errors(spent)
        return _data_page(web, session, context, now, status_code=status_of(spent), errors=errors, errors_of="kontak")
    return RedirectResponse(f"/data-saya?diganti={done.contact.value}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/data-saya/hapus")
def erase_me(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    csrf: FormText = "",
    yakin: FormText = "",
) -> Response:
    """Erase the reporter's personal data (the box must be ticked), sign them out, say what stays."""
    web.check_csrf(csrf)
    if web.reporter is None:
        return to_sign_in()
    if yakin != "ya":
        errors = {"yakin": "Centang kotak ini untuk menghapus data pribadi Anda."}
        return _data_page(web, session, context, now, status_code=422, errors=errors, errors_of="hapus")
    try:
        done = data_rights.erase_reporter(session, context, web.reporter, via=erasure.ErasureVia.WEB, now=now)
    except erasure.EngineUnreadable as refused:  # nothing erased: say so next to the button
        errors = {GENERAL: refused.message}
        return _data_page(web, session, context, now, status_code=503, errors=errors, errors_of="hapus")
    response = page("data_dihapus.html", None, message=data_rights.erased_message(done))
    sign_out(response, context)
    return response


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
    try:
        return downloads.export(
            session,
            context,
            web.reporter,
            via=personal_data.ExportVia.WEB,
            actor_kind=AuditActor.PELAPOR,
            actor=AuditActor.PELAPOR.value,
            now=now,
        )
    except downloads.ExportLimited as limited:  # said on Data saya, above the button she pressed
        response = _data_page(
            web, session, context, now, status_code=429, errors={GENERAL: limited.message}, errors_of="unduh"
        )
        response.headers.update(limited.headers or {})
        return response
