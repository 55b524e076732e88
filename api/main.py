"""FastAPI application: routers, the error format, the body size limit and the outbox dispatcher."""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

import structlog
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from api import files, intake, open311, public, reporters, reports
from api.deps import AppContext
from api.errors import ErrorBody, install_error_handlers
from lapor import uploads
from lapor.db import default_engine, make_engine
from lapor.logging import configure_logging
from lapor.notifications.service import build_channels
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from lapor.ratelimit import DEFAULT_LIMITS, Limit
from lapor.settings import Settings, get_settings

_log = structlog.stdlib.get_logger(__name__)

# Five photos at the limit plus the form fields; larger bodies are refused before they are read.
MAX_BODY_BYTES = uploads.MAX_FILES * uploads.MAX_BYTES + 1024 * 1024


class BodySizeLimit:
    """413 for a declared Content-Length above the limit (a proxy in front caps chunked bodies)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                body = b'{"error":{"code":"payload_too_large","message":"Permintaan terlalu besar.","details":null}}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


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
    if db is None:
        db = default_engine() if settings is get_settings() else make_engine(settings.database_url)
    email, sms = build_channels(settings)
    context = AppContext(settings=settings, db=db, email=email, sms=sms, limits=dict(limits or DEFAULT_LIMITS))
    if clock is not None:
        context.clock = clock
    dispatch = settings.outbox_dispatcher_enabled if run_dispatcher is None else run_dispatcher

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        engine: EngineClient | None = None
        if dispatch:
            # The API's own service account (svc-api): it may start, find, correlate and nothing else.
            engine = EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password)
            task = asyncio.create_task(OutboxDispatcher(engine, db).run_forever(stop))
        yield
        stop.set()
        if task is not None:
            await task
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
        responses={422: {"model": ErrorBody, "description": "Data tidak valid"}},
    )
    app.state.context = context
    install_error_handlers(app)
    for module in (reporters, reports, public, intake, files, open311):
        app.include_router(module.router)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness of the API process."""
        return {"status": "ok"}

    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    return app
