"""The citizen web page: server-rendered, in Bahasa Indonesia, usable without JavaScript, on the API's own
services, limits and errors (the same typed errors render as a page here and as JSON on the API's routes)."""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiError
from api.forms import InvalidEncoding
from api.web.render import LEAFLET, LEAFLET_PATH, STATIC, STATIC_PATH, page
from api.web.routing import is_web_request

_log = structlog.stdlib.get_logger(__name__)
Handler = Callable[[Request, Exception], Awaitable[Response]]

_HTTP_MESSAGES = {
    404: "Halaman tidak ditemukan.",
    405: "Metode tidak diizinkan untuk alamat ini.",
    413: "Kiriman terlalu besar.",
}


def _error_page(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return page("galat.html", None, status_code=status_code, headers=headers, status=status_code, message=message)


def _web_errors(app: FastAPI, kind: type[Exception], message_of: Callable[[Exception], tuple[int, str]]) -> None:
    """Errors raised on a web page render as a page; on the API's routes they stay the API's JSON."""
    json_handler = cast("Handler", app.exception_handlers[kind])

    async def handler(request: Request, exc: Exception) -> Response:
        if not is_web_request(request):
            return await json_handler(request, exc)
        status_code, message = message_of(exc)
        headers = None
        if isinstance(exc, ApiError) and exc.headers and "Retry-After" in exc.headers:
            headers = {"Retry-After": exc.headers["Retry-After"]}
        elif status_code == 503:
            headers = {"Retry-After": "5"}
        return _error_page(status_code, message, headers)

    app.add_exception_handler(kind, cast("Callable[[Request, Any], Coroutine[Any, Any, Response]]", handler))


def _api_error(exc: Exception) -> tuple[int, str]:
    assert isinstance(exc, ApiError)
    return exc.status_code, exc.message


def _http_error(exc: Exception) -> tuple[int, str]:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, InvalidEncoding):
        return 422, "Teks yang dikirim bukan UTF-8 yang valid."
    return exc.status_code, _HTTP_MESSAGES.get(exc.status_code, "Permintaan tidak dapat diproses.")


def _validation_error(exc: Exception) -> tuple[int, str]:
    return 422, "Alamat atau data yang dikirim tidak valid."


def _unavailable(exc: Exception) -> tuple[int, str]:
    return 503, "Layanan sedang sibuk atau tidak tersedia. Silakan coba lagi beberapa saat lagi."


def _crash(exc: Exception) -> tuple[int, str]:
    _log.error("web.unhandled_error", error=type(exc).__name__, exc_info=exc)
    return 500, "Terjadi kesalahan pada server. Silakan coba lagi nanti."


def install(app: FastAPI) -> None:
    """The pages, their stylesheet, and their error pages, on the API application."""
    from api.web import account, data, nearby, pages, replies, submit

    for module in (pages, account, nearby, submit, replies, data):
        app.include_router(module.router)
    if LEAFLET.is_dir():  # before /statis, which would otherwise take its paths; without it the form has no map
        app.mount(LEAFLET_PATH, StaticFiles(directory=LEAFLET), name="leaflet")
    else:
        _log.warning("web.map_unavailable", missing=str(LEAFLET), fix="npm ci (the image copies it at build)")
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="statis")
    _web_errors(app, ApiError, _api_error)
    _web_errors(app, StarletteHTTPException, _http_error)
    _web_errors(app, RequestValidationError, _validation_error)
    for unavailable in (PoolTimeout, OperationalError):  # the API answers these 503 as well (api/errors.py)
        _web_errors(app, unavailable, _unavailable)
    _web_errors(app, Exception, _crash)
