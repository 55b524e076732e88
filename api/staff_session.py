"""Staff sign-in on the API's own pages (/staf/...): the Tasklist login, checked by the engine, in a signed cookie.

No second password list: `/staf/masuk` asks the engine with the person's own user id and password
(lapor.process.logins), so the engine's login throttling applies as in Tasklist, and the API's limiter counts the
refusals by address and by user id. The cookie holds user id, name and groups, signed with the app's signing key
(HttpOnly, SameSite=Strict, path /staf, Secure behind https) and lasts `staff_session_hours`. Every form carries a
CSRF token bound to the sign-in (or, on the sign-in form, to a random visitor cookie).

Other staff pages reuse it: a route on `router_for_staff()` renders its refusals as staff pages, `StaffMemberDep`
sends a visitor to the sign-in page, `require_groups(...)` answers 403 to every other role. The sign-in and
sign-out routes are api/staff_sign_in.py.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import AppContext, ContextDep
from api.errors import ApiError, Forbidden
from api.forms import InvalidEncoding, TextRoute
from api.web.render import PAGE_HEADERS, STATIC_PATH, template_environment, waktu, wib
from api.web.render import TEMPLATES as WEB_TEMPLATES
from api.web.session import secure_cookies
from lapor import masterdata
from lapor.process.logins import StaffLogin
from lapor.roles import staff_role

_log = structlog.stdlib.get_logger(__name__)

TEMPLATES = Path(__file__).parent / "staff_templates"
STAFF_COOKIE = "lapor_staf"
VISITOR_COOKIE = "lapor_staf_tamu"
COOKIE_PATH = "/staf"
SIGN_IN_PATH = "/staf/masuk"
HOME_PATH = "/staf"
_SESSION_PURPOSE = b"lapor-staf-sesi:"
_CSRF_PURPOSE = b"lapor-staf-csrf:"
_NO_INDEX = {"X-Robots-Tag": "noindex, nofollow"}
_VISITOR_LIFETIME = 60 * 60 * 2  # seconds: the sign-in form left open for a while still posts


_environment = template_environment(TEMPLATES, WEB_TEMPLATES)
_environment.filters |= {"wib": wib, "waktu": waktu}
_environment.globals |= {"static": STATIC_PATH}


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Who is signed in: the engine's user id, name and groups at sign-in."""

    user_id: str
    name: str
    groups: tuple[str, ...]
    expires_at: int  # Unix seconds
    nonce: str  # binds this sign-in's CSRF tokens

    @property
    def role(self) -> str:
        """The SOP role in words, e.g. "Admin Pengaduan Daerah" or an OPD's liaison."""
        found = staff_role(list(self.groups))
        if found is not None:
            return found
        opd = next((o for o in masterdata.opd_list() if o.candidate_group in self.groups), None)
        return f"Pejabat Penghubung {opd.short_name}" if opd is not None else "Pengguna mesin proses"


class StaffCsrfRefused(Forbidden):
    code = "csrf_refused"
    message = "Formulir tidak sah atau sudah kedaluwarsa. Muat ulang halaman, lalu kirim kembali."


class StaffForbidden(Forbidden):
    code = "staff_forbidden"
    message = "Peran Anda tidak berhak membuka halaman ini."


class StaffSignInRequired(Exception):
    """No valid staff sign-in: the page sends the visitor to /staf/masuk and back afterwards."""

    def __init__(self, back_to: str, *, stale: bool) -> None:
        super().__init__(back_to)
        self.back_to = back_to
        self.stale = stale  # the request carried an expired or altered sign-in: the redirect clears it


# -- the signed cookie -----------------------------------------------------------------------------------------------
def _mac(key: bytes, purpose: bytes, data: bytes) -> str:
    return hmac.new(key, purpose + data, hashlib.sha256).hexdigest()


def encode_member(key: bytes, member: StaffMember) -> str:
    payload = {"u": member.user_id, "n": member.name, "g": list(member.groups), "e": member.expires_at}
    data = base64.urlsafe_b64encode(json.dumps(payload | {"c": member.nonce}, separators=(",", ":")).encode())
    return f"{data.decode()}.{_mac(key, _SESSION_PURPOSE, data)}"


def decode_member(key: bytes, value: str, now: datetime) -> StaffMember | None:
    """The member a cookie names, or None when it is forged, altered, malformed or expired."""
    data, _, signature = value.partition(".")
    if not signature or not hmac.compare_digest(
        signature.encode(), _mac(key, _SESSION_PURPOSE, data.encode()).encode()
    ):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(data.encode()))
        member = StaffMember(
            str(payload["u"]),
            str(payload["n"]),
            tuple(str(g) for g in payload["g"]),
            int(payload["e"]),
            str(payload["c"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return member if member.expires_at > now.timestamp() else None


# -- the request's staff session ---------------------------------------------------------------------------------
@dataclass
class StaffSession:
    context: AppContext
    member: StaffMember | None
    visitor: str
    new_visitor: bool = False
    stale: bool = False  # the cookie held an expired or altered sign-in: it is cleared

    @property
    def csrf(self) -> str:
        binding = "staf:" + self.member.nonce if self.member is not None else "tamu:" + self.visitor
        return _mac(self.context.signing_key, _CSRF_PURPOSE, binding.encode())

    def check_csrf(self, submitted: object) -> None:
        """403 unless the form carries this sign-in's (or this visitor's) CSRF token."""
        if not isinstance(submitted, str) or not hmac.compare_digest(submitted.encode(), self.csrf.encode()):
            raise StaffCsrfRefused()

    def apply_cookies(self, response: Response) -> None:
        secure = secure_cookies(self.context.settings)
        if self.new_visitor:
            response.set_cookie(
                VISITOR_COOKIE,
                self.visitor,
                max_age=_VISITOR_LIFETIME,
                path=COOKIE_PATH,
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        if self.stale:
            sign_out(response, self.context)


def load(context: AppContext, cookies: Mapping[str, str], now: datetime) -> StaffSession:
    """The staff session of a request's cookies; a bad cookie makes a visitor of the caller, never an error."""
    value = cookies.get(STAFF_COOKIE) or ""
    member = decode_member(context.signing_key, value, now) if value else None
    visitor = cookies.get(VISITOR_COOKIE) or ""
    new_visitor = not (16 <= len(visitor) <= 64 and visitor.isascii())
    if new_visitor:
        visitor = secrets.token_urlsafe(24)
    return StaffSession(context, member, visitor, new_visitor=new_visitor, stale=bool(value) and member is None)


async def get_staff_session(request: Request, context: ContextDep) -> StaffSession:
    return load(context, request.cookies, context.clock())


StaffSessionDep = Annotated[StaffSession, Depends(get_staff_session)]


async def get_staff_member(request: Request, staff: StaffSessionDep) -> StaffMember:
    if staff.member is None:
        raise StaffSignInRequired(request.url.path, stale=staff.stale)
    return staff.member


StaffMemberDep = Annotated[StaffMember, Depends(get_staff_member)]


def require_groups(*groups: str) -> Callable[..., Coroutine[Any, Any, StaffMember]]:
    """A dependency: the signed-in member if they belong to one of `groups`, else 403 (a page in Bahasa Indonesia)."""

    async def member_of(member: StaffMemberDep) -> StaffMember:
        if not set(groups) & set(member.groups):
            _log.info("staff.forbidden", user_id=member.user_id, wanted=list(groups))
            raise StaffForbidden()
        return member

    return member_of


def sign_in(response: Response, context: AppContext, login: StaffLogin, now: datetime) -> StaffMember:
    lifetime = timedelta(hours=context.settings.staff_session_hours)
    expires = int((now + lifetime).timestamp())
    member = StaffMember(login.user_id, login.name, login.groups, expires, secrets.token_urlsafe(16))
    response.set_cookie(
        STAFF_COOKIE,
        encode_member(context.signing_key, member),
        max_age=int(lifetime.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=secure_cookies(context.settings),
        samesite="strict",
    )
    return member


def sign_out(response: Response, context: AppContext) -> None:
    secure = secure_cookies(context.settings)
    response.delete_cookie(STAFF_COOKIE, path=COOKIE_PATH, httponly=True, secure=secure, samesite="strict")


# -- pages -----------------------------------------------------------------------------------------------------------
def page(
    template: str,
    staff: StaffSession | None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A staff page with the session's CSRF token and cookies, the citizen pages' security headers, and no index."""
    values.setdefault("member", staff.member if staff is not None else None)
    values.setdefault("csrf", staff.csrf if staff is not None else "")
    values.setdefault("errors", {})
    values.setdefault("form", {})
    html = _environment.get_template(template).render(**values)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS | _NO_INDEX | (headers or {}))
    if staff is not None:
        staff.apply_cookies(response)
    return response


def _error_page(
    request: Request, status_code: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """The refusal as a page; the header still says who is signed in (and offers to sign out)."""
    context: AppContext = request.app.state.context
    staff = load(context, request.cookies, context.clock())
    return page("staf_galat.html", staff, status_code=status_code, status=status_code, message=message, headers=headers)


def _to_sign_in(back_to: str) -> RedirectResponse:
    return RedirectResponse(f"{SIGN_IN_PATH}?lanjut={quote(back_to, safe='/')}", status_code=status.HTTP_303_SEE_OTHER)


class StaffRoute(TextRoute):
    """A staff page: no sign-in sends the visitor to /staf/masuk; refusals render as a staff page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def staff_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except StaffSignInRequired as required:
                redirect = _to_sign_in(required.back_to)
                if required.stale:
                    sign_out(redirect, request.app.state.context)
                return redirect
            except ApiError as refused:
                retry = (refused.headers or {}).get("Retry-After")
                headers = {"Retry-After": retry} if retry else None
                return _error_page(request, refused.status_code, refused.message, headers)
            except InvalidEncoding:
                return _error_page(request, 422, "Teks yang dikirim bukan UTF-8 yang valid.")
            except RequestValidationError:
                return _error_page(request, 422, "Alamat atau data yang dikirim tidak valid.")
            except StarletteHTTPException as error:
                return _error_page(request, error.status_code, "Permintaan tidak dapat diproses.")

        return staff_handler


def router_for_staff() -> APIRouter:
    return APIRouter(route_class=StaffRoute, include_in_schema=False)


__all__ = [
    "StaffMember",
    "StaffMemberDep",
    "StaffRoute",
    "StaffSession",
    "StaffSessionDep",
    "page",
    "require_groups",
    "router_for_staff",
]
