"""The staff pages' sign-in and sign-out (/staf/masuk, /staf/keluar) and their home page (/staf).

The session itself (cookie, CSRF, dependencies) is api/staff_session.py. The password is checked by the engine
with the person's own login (lapor.process.logins); the API counts the refusals by address and by user id.
"""

import re
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import Form, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from api.deps import AppContext, ClientIpDep, ContextDep, RateLimiter
from api.errors import TooManyRequests
from api.staff_session import (
    HOME_PATH,
    SIGN_IN_PATH,
    StaffMemberDep,
    StaffSessionDep,
    page,
    router_for_staff,
    sign_in,
    sign_out,
)
from api.web.fields import GENERAL
from lapor.process import EngineError
from lapor.process.logins import LoginRefused, check_login
from lapor.roles import SUPERVISORS

_log = structlog.stdlib.get_logger(__name__)

WRONG_LOGIN = (
    "ID pengguna atau kata sandi salah. Setelah percobaan yang gagal, mesin proses mengunci login sebentar "
    "(beberapa detik); setelah 10 kali gagal berturut-turut, login terkunci sampai administrator membukanya di Admin."
)
ENGINE_DOWN = "Layanan masuk sedang tidak tersedia (mesin proses tidak menjawab). Silakan coba lagi beberapa saat lagi."

router = router_for_staff()
FormText = Annotated[str, Form(max_length=400)]
BackTo = Annotated[str, Query(max_length=300)]


_STAFF_PATH = re.compile(r"/staf(/[A-Za-z0-9_-]+)*")


def back_to(value: str) -> str:
    """Where to go after signing in: a staff page of this site only (no other host, no "..": no open redirect)."""
    return value if _STAFF_PATH.fullmatch(value) else HOME_PATH


@router.get("/staf")
def home(member: StaffMemberDep, staff: StaffSessionDep) -> Response:
    """What a signed-in staff member can do here."""
    return page(
        "staf_beranda.html",
        staff,
        files_reports="admin-pengaduan" in member.groups,
        reads_trails=any(group in SUPERVISORS for group in member.groups),
    )


@router.get("/staf/masuk")
def sign_in_form(staff: StaffSessionDep, lanjut: BackTo = "", pesan: BackTo = "") -> Response:
    if staff.member is not None:
        return RedirectResponse(back_to(lanjut), status_code=status.HTTP_303_SEE_OTHER)
    return page("staf_masuk.html", staff, form={"lanjut": back_to(lanjut)}, signed_out=pesan == "keluar")


def _check_limits(context: AppContext, ip: str, user_id: str, now: datetime) -> None:
    with Session(context.db) as session:
        limiter = RateLimiter(context, session, now)
        limiter.check("staff_login:ip", ip)
        limiter.check("staff_login:user", user_id)


def _count_refusal(context: AppContext, ip: str, user_id: str, now: datetime) -> None:
    with Session(context.db) as session:
        limiter = RateLimiter(context, session, now)
        limiter.record("staff_login:ip", ip)
        limiter.record("staff_login:user", user_id)
        session.commit()


def _empty_fields(user_id: str, password: str) -> dict[str, str]:
    errors = {}
    if not user_id.strip():
        errors["user_id"] = "Isi ID pengguna Anda (sama dengan login Tasklist)."
    if not password:
        errors["password"] = "Isi kata sandi Anda."  # noqa: S105 - the message, not a password
    return errors


@router.post("/staf/masuk")
async def sign_in_submit(
    staff: StaffSessionDep,
    context: ContextDep,
    ip: ClientIpDep,
    csrf: FormText = "",
    user_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    lanjut: FormText = "",
) -> Response:
    """Sign in with the Tasklist login; a refusal says so next to the form, never whether the user exists."""
    staff.check_csrf(csrf)
    now = context.clock()
    user_id = user_id.strip()
    form = {"user_id": user_id, "lanjut": back_to(lanjut)}
    if errors := _empty_fields(user_id, password):
        return page("staf_masuk.html", staff, status_code=422, form=form, errors=errors)
    try:
        await run_in_threadpool(_check_limits, context, ip, user_id, now)
    except TooManyRequests as limited:
        retry_after = int(limited.details["retry_after"])
        message = f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {-(-retry_after // 60)} menit."
        headers = {"Retry-After": str(retry_after)}
        return page("staf_masuk.html", staff, status_code=429, form=form, errors={GENERAL: message}, headers=headers)
    try:
        login = await run_in_threadpool(check_login, context.settings.engine_url, user_id, password)
    except LoginRefused:
        await run_in_threadpool(_count_refusal, context, ip, user_id, now)
        _log.info("staff.sign_in_refused")  # no user id: a mistyped password in the id field must not be logged
        return page("staf_masuk.html", staff, status_code=401, form=form, errors={GENERAL: WRONG_LOGIN})
    except EngineError as error:
        _log.warning("staff.sign_in_engine_error", error=str(error))
        return page("staf_masuk.html", staff, status_code=503, form=form, errors={GENERAL: ENGINE_DOWN})
    response = RedirectResponse(form["lanjut"], status_code=status.HTTP_303_SEE_OTHER)
    sign_in(response, context, login, now)
    _log.info("staff.signed_in", user_id=login.user_id, groups=list(login.groups))
    return response


@router.post("/staf/keluar")
def sign_out_submit(staff: StaffSessionDep, context: ContextDep, csrf: FormText = "") -> Response:
    staff.check_csrf(csrf)
    response = RedirectResponse(f"{SIGN_IN_PATH}?pesan=keluar", status_code=status.HTTP_303_SEE_OTHER)
    sign_out(response, context)
    if staff.member is not None:
        _log.info("staff.signed_out", user_id=staff.member.user_id)
    return response
