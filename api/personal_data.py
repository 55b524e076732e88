"""A reporter's data on request, the HTTP side: the ZIP download the API, the citizen page and the front desk share,
and the front desk's pages (/staf/data-pelapor) where Admin Pengaduan finds a reporter by e-mail or phone for a
request made in person or in writing, reads what is held (recorded as a read of their identity) and downloads it
(recorded as an export). The collection itself is lapor.personal_data."""

import hashlib
import hmac
import math
import tempfile
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from api.deps import AppContext, ContextDep
from api.errors import TooManyRequests
from api.staff_session import StaffMember, StaffSession, StaffSessionDep, page, require_groups, router_for_staff
from lapor import personal_data, ratelimit, reporters
from lapor.audit import AuditActor
from lapor.models import Reporter

_log = structlog.stdlib.get_logger(__name__)

ZIP_HEADERS = {
    "Cache-Control": "no-store",  # everything about one person: no shared cache, no back button on a shared computer
    "X-Content-Type-Options": "nosniff",
}
_IN_MEMORY = 8 * 1024 * 1024  # a larger export goes to a temporary file while it is sent
_CHUNK = 64 * 1024
ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "ZIP: data.json (semua data tentang pelapor) dan photos/ (berkas foto laporannya)",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


EXPORT_BUCKET = "export:reporter"


class ExportLimited(TooManyRequests):
    """The reporter's data was downloaded as often as the limit allows within its window (by them or for them)."""

    def __init__(self, retry_after: int, limit: ratelimit.Limit) -> None:
        super().__init__(retry_after)
        hours = limit.window.total_seconds() / 3600
        window = f"{hours:g} jam" if hours >= 1 else f"{math.ceil(limit.window.total_seconds() / 60)} menit"
        self.message = (
            f"Data ini sudah diunduh {limit.count} kali dalam {window} terakhir (batas untuk setiap pelapor). "
            f"Silakan coba lagi dalam {math.ceil(retry_after / 60)} menit."
        )


def spend_export(session: Session, context: AppContext, reporter: Reporter, *, now: datetime) -> None:
    """Count one export of this reporter's data, or refuse it (429) before anything is collected or read from disk.

    The reporter's row is locked while counting, so parallel downloads are counted one after the other, never all
    let through by the same count; the count is committed at once, so a download that fails later still counts."""
    limit = context.limits.get(EXPORT_BUCKET)
    if limit is None:
        return
    session.execute(select(Reporter.id).where(Reporter.id == reporter.id).with_for_update())
    subject = str(reporter.id)
    try:
        ratelimit.check(session, bucket=EXPORT_BUCKET, subject=subject, limit=limit, now=now)
    except ratelimit.RateLimited as limited:
        session.rollback()
        _log.info("personal_data.export_limited", reporter_id=reporter.id, retry_after=limited.retry_after)
        raise ExportLimited(limited.retry_after, limit) from None
    ratelimit.record(session, bucket=EXPORT_BUCKET, subject=subject, now=now)
    session.commit()


def export(
    session: Session,
    context: AppContext,
    reporter: Reporter,
    *,
    via: personal_data.ExportVia,
    actor_kind: AuditActor,
    actor: str,
    now: datetime,
) -> Response:
    """Count it against the reporter's limit (429 when spent), record the export on the reporter's chain, collect,
    commit, and answer the ZIP (never cached)."""
    spend_export(session, context, reporter, now=now)
    personal_data.record_export(session, reporter, via=via, actor_kind=actor_kind, actor=actor, at=now)
    collected = personal_data.collect(session, reporter, upload_dir=context.upload_dir, now=now)
    spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)
    try:
        personal_data.write_zip(collected, spool)
        session.commit()  # the record is kept only with a file built
    except BaseException:
        spool.close()
        raise
    _log.info("personal_data.exported", reporter_id=reporter.id, via=via.value, reports=collected.report_count)
    headers = ZIP_HEADERS | {
        "Content-Disposition": f'attachment; filename="{personal_data.file_name(collected)}"',
        "Content-Length": str(spool.tell()),
    }
    spool.seek(0)
    chunks = iter(lambda: spool.read(_CHUNK), b"")
    return StreamingResponse(
        chunks, media_type="application/zip", headers=headers, background=BackgroundTask(spool.close)
    )


# -- the front desk ------------------------------------------------------------------------------------------------
router: APIRouter = router_for_staff()
PAGE_PATH = "/staf/data-pelapor"
DESK_GROUPS = ("admin-pengaduan",)  # the front desk receives the request, as it receives offline reports
DeskDep = Annotated[StaffMember, Depends(require_groups(*DESK_GROUPS))]
NOT_FOUND = "Tidak ada satu pelapor dengan kontak ini. Periksa penulisan, atau cari dengan kontak yang lain."


_REF_PURPOSE = b"lapor-data-pelapor:"


def reporter_ref(staff: StaffSession, reporter_id: int) -> str:
    """The found reporter, for the download form: their id bound to this sign-in, so a download follows a search
    by this staff member (and its recorded read), never a guessed id."""
    assert staff.member is not None
    message = _REF_PURPOSE + f"{staff.member.nonce}:{reporter_id}".encode()
    return f"{reporter_id}.{hmac.new(staff.context.signing_key, message, hashlib.sha256).hexdigest()}"


def _reporter_of(staff: StaffSession, ref: str) -> int | None:
    reporter_id, _, _ = ref.partition(".")
    if not reporter_id.isdigit() or staff.member is None:
        return None
    return (
        int(reporter_id) if hmac.compare_digest(ref.encode(), reporter_ref(staff, int(reporter_id)).encode()) else None
    )


def _form(staff: StaffSession, *, status_code: int = 200, **values: Any) -> Response:
    return page("staf_data_pelapor.html", staff, status_code=status_code, data=None, **values)


@router.get(PAGE_PATH)
def request_form(_desk: DeskDep, staff: StaffSessionDep) -> Response:
    """The search form: the reporter's e-mail address or phone number, as they registered or left it."""
    return _form(staff)


def _contact(values: dict[str, str]) -> tuple[str | None, str | None, dict[str, str]]:
    email, phone = values["email"].strip() or None, values["phone"].strip() or None
    errors = {} if email or phone else {"email": "Isi email atau nomor ponsel pelapor."}
    for name, value, normalise in (
        ("email", email, reporters.normalize_email),
        ("phone", phone, reporters.normalize_phone),
    ):
        if value is not None:
            try:
                normalise(value)
            except ValueError as err:
                errors[name] = str(err).capitalize() + "."
    return email, phone, errors


def _look_up(
    context: AppContext, member: StaffMember, email: str | None, phone: str | None, now: datetime
) -> dict[str, Any] | None:
    """The reporter's data for the page, after recording that this staff member read their identity."""
    with Session(context.db, expire_on_commit=False) as session:
        reporter = personal_data.find_reporter(session, email=email, phone=phone)
        if reporter is None:
            return None
        personal_data.record_identity_read(
            session, reporter, staff=member.user_id, page="data_pelapor", found_by="email" if email else "phone", at=now
        )
        data = personal_data.collect(session, reporter, upload_dir=context.upload_dir, now=now).data
        session.commit()
        return data | {"reporter_id": reporter.id}


@router.post(PAGE_PATH)
async def find(request: Request, desk: DeskDep, staff: StaffSessionDep, context: ContextDep) -> Response:
    """Find the reporter (POST: the address never sits in a URL or an access log) and show what is held."""
    async with request.form() as form:
        staff.check_csrf(form.get("csrf"))
        values = {name: str(form.get(name) or "")[:320] for name in ("email", "phone")}
    email, phone, errors = _contact(values)
    if errors:
        return _form(staff, status_code=422, form=values, errors=errors)
    data = await run_in_threadpool(_look_up, context, desk, email, phone, context.clock())
    if data is None:
        return _form(staff, status_code=404, form=values, errors={"email": NOT_FOUND})
    _log.info("personal_data.identity_read", reporter_id=data["reporter_id"], staff=desk.user_id)
    return page("staf_data_pelapor.html", staff, data=data, ref=reporter_ref(staff, data["reporter_id"]))


def _download(context: AppContext, member: StaffMember, reporter_id: int, now: datetime) -> Response | None:
    with Session(context.db, expire_on_commit=False) as session:
        reporter = session.scalar(select(Reporter).where(Reporter.id == reporter_id))
        if reporter is None:
            return None
        return export(
            session,
            context,
            reporter,
            via=personal_data.ExportVia.FRONT_DESK,
            actor_kind=AuditActor.STAF,
            actor=member.user_id,
            now=now,
        )


@router.post(PAGE_PATH + "/unduh")
async def download(request: Request, desk: DeskDep, staff: StaffSessionDep, context: ContextDep) -> Response:
    """The ZIP for the reporter found on the page, to hand over (recorded as an export by this staff member)."""
    async with request.form() as form:
        staff.check_csrf(form.get("csrf"))
        reporter_id = _reporter_of(staff, str(form.get("reporter") or "")[:100])
    found = None
    if reporter_id is not None:
        found = await run_in_threadpool(_download, context, desk, reporter_id, context.clock())
    return found or _form(staff, status_code=404, errors={"email": NOT_FOUND})
