"""Register, sign in with a one-time code, sign out: the pages of api/accounts.py's services."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, status
from fastapi.responses import RedirectResponse, Response

from api import accounts
from api.deps import ClientIpDep, ContextDep, NowDep, RateLimiterDep, SessionDep
from api.errors import ApiError, TooManyRequests, status_of
from api.web.fields import GENERAL, CodeId, code_errors, is_code, non_empty, validate
from api.web.render import page
from api.web.routing import WebRoute
from api.web.session import WebSessionDep, sign_in, sign_out
from lapor import contact_codes, reporters
from lapor.refusals import Refused

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FormText = Annotated[str, Form(max_length=400)]


def _mine(web: WebSessionDep) -> Response | None:
    if web.reporter is not None:
        return RedirectResponse("/laporan-saya", status_code=status.HTTP_303_SEE_OTHER)
    return None


@router.get("/daftar")
def register_form(web: WebSessionDep) -> Response:
    return _mine(web) or page("daftar.html", web)


@router.get("/masuk")
def sign_in_form(web: WebSessionDep) -> Response:
    return _mine(web) or page("masuk.html", web)


def _start(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: str,
    now: NowDep,
    *,
    template: str,
    values: dict[str, str],
) -> Response:
    model = accounts.RegistrationRequest if template == "daftar.html" else accounts.ContactRequest
    checked = validate(model, non_empty(values))
    if isinstance(checked, dict):
        return page(template, web, status_code=422, form=values, errors=checked)
    try:
        started = accounts.start_registration(
            session,
            context,
            limiter,
            ip,
            name=getattr(checked, "name", ""),  # a sign-in names nobody: it signs in a known reporter only
            email=checked.email,
            phone=checked.phone,
            now=now,
        )
    except (TooManyRequests, Refused) as refused:  # rate limited; no channel reaches the contact, or it failed
        return page(template, web, status_code=status_of(refused), form=values, errors={GENERAL: refused.message})
    return page(
        "kode.html",
        web,
        registration_id=started.registration_id,
        both=len(started.channels) == 2,
        sent_message=started.message,
    )


@router.post("/daftar")
def register(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
    csrf: FormText = "",
    name: FormText = "",
    email: FormText = "",
    phone: FormText = "",
) -> Response:
    web.check_csrf(csrf)
    values = {"name": name, "email": email, "phone": phone}
    return _start(web, session, context, limiter, ip, now, template="daftar.html", values=values)


@router.post("/masuk")
def sign_in_start(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
    csrf: FormText = "",
    email: FormText = "",
    phone: FormText = "",
) -> Response:
    web.check_csrf(csrf)
    values = {"email": email, "phone": phone}
    return _start(web, session, context, limiter, ip, now, template="masuk.html", values=values)


@router.post("/verifikasi")
def verify(
    web: WebSessionDep,
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
    csrf: FormText = "",
    registration_id: CodeId = "",
    both: FormText = "",
    code: FormText = "",
    sms_code: FormText = "",
) -> Response:
    web.check_csrf(csrf)
    again: dict[str, Any] = {"registration_id": registration_id, "both": bool(both)}
    errors = {
        name: "Masukkan 6 angka kode verifikasi."
        for name, value in (("code", code), ("sms_code", sms_code if both else "000000"))
        if not is_code(value)
    }
    if errors:
        return page("kode.html", web, status_code=422, errors=errors, **again)
    try:
        issued = accounts.complete_registration(
            session,
            limiter,
            ip,
            registration_id=registration_id,
            code=code.strip(),
            sms_code=sms_code.strip() or None,
            now=now,
        )
    except (contact_codes.CodeInvalid, ApiError) as wrong:  # a wrong code, or rate limited: try again here
        return page("kode.html", web, status_code=status_of(wrong), errors=code_errors(wrong), **again)
    except Refused as spent:  # not found, expired, locked, two reporters' contacts, not registered: start again
        return page("daftar.html", web, status_code=status_of(spent), errors=code_errors(spent))
    response = RedirectResponse("/laporan-saya", status_code=status.HTTP_303_SEE_OTHER)
    sign_in(response, context, issued.token, issued.expires_at, now)
    return response


@router.post("/keluar")
def sign_out_page(
    web: WebSessionDep, session: SessionDep, context: ContextDep, now: NowDep, csrf: FormText = ""
) -> Response:
    """Sign out: the token of the cookie is revoked, not only forgotten by this browser."""
    web.check_csrf(csrf)
    if web.token is not None:
        reporters.revoke(session, token=web.token, now=now)
        session.commit()
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    sign_out(response, context)
    return response
