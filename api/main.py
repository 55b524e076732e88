"""FastAPI application: routers, the error format, the body size limit and the outbox dispatcher."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import (
    accounts,
    audit_page,
    data_rights,
    files,
    front_desk,
    intake,
    nearby,
    open311,
    personal_data,
    public,
    reports,
    sla,
    staff_sign_in,
    web,
)
from api.deps import AppContext
from api.errors import documented, install_error_handlers
from lapor import audit, uploads
from lapor.db import make_engine
from lapor.deadlines import warn_if_holidays_outdated
from lapor.logging import configure_logging
from lapor.notifications.service import Notifier
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from lapor.ratelimit import Limit, limits_from
from lapor.settings import Settings, get_settings
from lapor.workdays import PONTIANAK_TZ

_log = structlog.stdlib.get_logger(__name__)

_TOO_LARGE = b'{"error":{"code":"payload_too_large","message":"Permintaan terlalu besar.","details":null}}'


class BodyTooLarge(Exception):
    """Raised from `receive` once the body passes the limit; the middleware answers 413."""


class BodySizeLimit:
    """413 for a body above the limit, declared (Content-Length) or counted while it streams in (chunked).

    The count happens in `receive`, so nothing past the limit is read into memory or spooled to disk, and the
    route (its credential check included) never runs on a body that is too large.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _send_too_large(send)
            return
        received = 0
        too_large = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # whatever the app makes of the interrupted body, the answer is 413
            started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            pass
        if too_large and not started:
            await _send_too_large(send)


async def _send_too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TOO_LARGE)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_LARGE})


_QUERY_VALUE = re.compile(r"=[^&\s]*")


class QueryScrubber(logging.Filter):
    """Query values out of uvicorn's access log: they carry api_key, signatures of file links, codes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            path, query = args[2].split("?", 1)
            record.args = (*args[:2], f"{path}?{_QUERY_VALUE.sub('=***', query)}", *args[3:])
        return True


def _scrub_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, QueryScrubber) for existing in access.filters):
        access.addFilter(QueryScrubber())


# Photos are required on these operations; the route takes an empty list to answer `photos_required` itself.
_REQUIRED_FILES = {("/reports", "post"): "photos"}


_SCHEMA_META = ("title", "description", "default")
_EMPTY = {"type": "string", "maxLength": 0}


def _form_optional(prop: dict[str, Any]) -> None:
    """An optional form field: a form cannot carry null, and an empty field means "not given" (FastAPI)."""
    if _EMPTY in prop.get("anyOf", []):
        return  # a model shared by two operations
    alternatives = [a for a in prop.pop("anyOf", []) if a.get("type") != "null"]
    if not alternatives:
        alternatives = [{k: prop.pop(k) for k in list(prop) if k not in _SCHEMA_META}]
    prop["anyOf"] = [*alternatives, _EMPTY]


_HTML_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """nosniff on every answer; the HTML pages (the staff report page) also may not be framed or load
    anything but their own photos."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                # A page that sets its own policy keeps it (the citizen web page: no inline style either).
                if html and not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers += [(b"content-security-policy", _HTML_POLICY.encode()), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _limits_text(settings: Settings) -> str:
    return (
        f"Badan permintaan paling besar {settings.max_body_bytes} byte (dihitung saat diterima); "
        f"paling banyak {uploads.MAX_FILES} foto, masing-masing paling besar {uploads.MAX_BYTES} byte "
        f"dan {settings.max_jpeg_pixels} piksel untuk JPEG satu pindaian ({settings.max_image_pixels} piksel untuk "
        "PNG, WebP, dan JPEG progresif)."
    )


def _document_limits(operation: dict[str, Any], settings: Settings) -> None:
    """The body cap on every operation's 413 and on every request body (the middleware enforces it for all)."""
    too_large = operation["responses"].get("413")
    if too_large is not None:
        too_large["description"] = f"Permintaan atau berkas terlalu besar. {_limits_text(settings)}"
    body = operation.get("requestBody")
    if body is not None:
        body["description"] = _limits_text(settings)
        body["x-max-body-bytes"] = settings.max_body_bytes


def _document_errors(schema: dict[str, Any], settings: Settings) -> None:
    """What FastAPI cannot say itself: errors are JSON on HTML routes too, Open311 has no 422, required photos,
    the limits every request meets."""
    components = schema.get("components", {}).get("schemas", {})
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            _document_limits(operation, settings)
            for code, response in operation["responses"].items():
                content = response.get("content", {})
                if code.isdigit() and int(code) >= 400 and "text/html" in content:
                    content["application/json"] = content.pop("text/html")
            if path.startswith("/open311/"):
                operation["responses"].pop("422", None)  # Open311 answers invalid input with 400
            form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if form is None:
                continue
            body = form["schema"]
            target = components[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
            for prop in target.get("properties", {}).values():
                if prop.get("type") == "array" and prop.get("items", {}).get("format") in ("binary", None):
                    prop["maxItems"] = uploads.MAX_FILES
                    prop["items"]["x-max-bytes"] = uploads.MAX_BYTES
            for part in [target, *(components[p["$ref"].rsplit("/", 1)[1]] for p in target.get("allOf", []))]:
                required = set(part.get("required", []))
                for name, prop in part.get("properties", {}).items():
                    if name not in required and prop.get("type") != "array":
                        _form_optional(prop)
            field = _REQUIRED_FILES.get((path, method))
            if field is not None:
                target.setdefault("required", []).append(field)
                target["properties"][field]["minItems"] = 1


def create_app(
    settings: Settings | None = None,
    *,
    db: Engine | None = None,
    run_dispatcher: bool | None = None,
    limits: Mapping[str, Limit] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The API on a database; tests pass their own settings, engine, limits and clock.

    `uvicorn --factory api.main:create_app` builds it from the environment (settings and logging read once here).
    """
    if settings is None:
        settings = get_settings()
        configure_logging(log_format=settings.log_format, level=settings.log_level)
        warn_if_holidays_outdated(datetime.now(PONTIANAK_TZ).date())
    if db is None:
        db = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
    _scrub_access_log()
    context = AppContext(
        settings=settings,
        db=db,
        notifier=Notifier.from_settings(settings),
        limits=dict(limits if limits is not None else limits_from(settings)),
    )
    if clock is not None:
        context.clock = clock
    dispatch = settings.outbox_dispatcher_enabled if run_dispatcher is None else run_dispatcher

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        collector: asyncio.Task[None] | None = None
        engine: EngineClient | None = None
        if dispatch:
            # The API's own service account (svc-api): it may start, find, correlate and nothing else.
            engine = EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password)
            dispatcher = OutboxDispatcher(engine, db, concurrency=settings.outbox_concurrency)
            task = asyncio.create_task(dispatcher.run_forever(stop))
            # What people do in Tasklist and Cockpit enters the reports' audit trails (svc-api reads the log).
            collector = asyncio.create_task(
                audit.Collector(engine, db, interval=settings.audit_collect_seconds).run_forever(stop)
            )
        yield
        stop.set()
        if task is not None:
            await task
        if collector is not None:
            await collector
        if engine is not None:
            engine.close()

    app = FastAPI(
        title="LAPOR! Pontianak API",
        version="0.2.0",
        description=(
            "Pengaduan masyarakat Kota Pontianak (SP4N-LAPOR!): pendaftaran pelapor, pelaporan, pelacakan, "
            "tanggapan, umpan publik, kanal intake (SMS 1708, petugas, Admin Pusat) dan Open311 GeoReport v2. "
            'Setiap galat 4xx/5xx berbentuk {"error": {"code", "message", "details"}}.'
        ),
        lifespan=lifespan,
        responses=documented(400, 413, 422, 503),  # any body may be unreadable, too large, invalid; pool busy
    )
    app.state.context = context
    install_error_handlers(app)
    for module in (accounts, data_rights, nearby, reports, public, intake, files, open311, sla):
        app.include_router(module.router)
    web.install(app)  # the citizen web page: its routes, stylesheet and error pages
    # sign-in, front desk, audit trail, a reporter's data on request (/staf/...)
    for staff_pages in (staff_sign_in, front_desk, audit_page, personal_data):
        app.include_router(staff_pages.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_errors(FastAPI.openapi(app), settings)
        return app.openapi_schema or FastAPI.openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness of the API process."""
        return {"status": "ok"}

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
