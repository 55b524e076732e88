"""Typed API errors and the one handler that turns every error into `{"error": {"code", "message", "details"}}`."""

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from api.forms import InvalidEncoding
from lapor.refusals import Kind, Refused

_log = structlog.stdlib.get_logger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of this API (Open311 paths answer in Open311's own format)."""

    error: ErrorDetail


class Open311Error(BaseModel):
    code: int
    description: str


_DESCRIPTIONS = {
    400: "Permintaan tidak valid",
    401: "Kredensial tidak ada atau tidak valid",
    403: "Tidak berhak, atau tautan tidak valid/kedaluwarsa",
    404: "Tidak ditemukan",
    409: "Bertentangan dengan keadaan data",
    410: "Sudah tidak berlaku",
    413: "Permintaan atau berkas terlalu besar",
    415: "Jenis berkas tidak didukung",
    422: "Data tidak valid",
    429: "Terlalu banyak permintaan (lihat Retry-After)",
    503: "Layanan sementara tidak tersedia",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route answers, each with the body it carries."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def documented_open311(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": list[Open311Error], "description": _DESCRIPTIONS[code]} for code in codes}


class ApiError(Exception):
    """Base of every error the API answers on purpose; subclasses fix status, code and default message."""

    status_code = 400
    code = "bad_request"
    message = "Permintaan tidak dapat diproses."

    def __init__(
        self, message: str | None = None, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        self.headers = headers


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"
    message = "Token tidak valid atau tidak diberikan."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(message, details=details, headers={"WWW-Authenticate": "Bearer"})


class InvalidSignature(ApiError):
    status_code = 401
    code = "invalid_signature"
    message = "Tanda tangan permintaan tidak valid."


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"
    message = "Anda tidak berhak melakukan tindakan ini."


class LinkRefused(ApiError):
    status_code = 403
    code = "invalid_link"
    message = "Tautan tidak valid atau sudah kedaluwarsa."


class NotFound(ApiError):
    status_code = 404
    code = "not_found"
    message = "Data tidak ditemukan."


class ReportNotFound(NotFound):
    code = "report_not_found"
    message = "Laporan tidak ditemukan."


class Conflict(ApiError):
    status_code = 409
    code = "conflict"
    message = "Permintaan bertentangan dengan keadaan data saat ini."


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "file_too_large"
    message = "Berkas terlalu besar."


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_file_type"
    message = "Jenis berkas tidak didukung; kirim foto JPEG, PNG, atau WebP."


class Unprocessable(ApiError):
    status_code = 422
    code = "invalid_input"
    message = "Data yang dikirim tidak valid."


class TooManyRequests(ApiError):
    status_code = 429
    code = "rate_limited"
    message = "Terlalu banyak permintaan. Silakan coba lagi nanti."

    def __init__(self, retry_after: int) -> None:
        super().__init__(details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "service_unavailable"
    message = "Layanan sedang tidak tersedia. Silakan coba lagi nanti."


_HTTP_CODES = {
    400: ("bad_request", "Permintaan tidak valid."),
    401: ("unauthorized", "Token tidak valid atau tidak diberikan."),
    403: ("forbidden", "Anda tidak berhak melakukan tindakan ini."),
    404: ("not_found", "Alamat tidak ditemukan."),
    405: ("method_not_allowed", "Metode HTTP tidak diizinkan untuk alamat ini."),
    413: ("payload_too_large", "Permintaan terlalu besar."),
    415: ("unsupported_media_type", "Jenis konten tidak didukung."),
}


def _is_open311(request: Request) -> bool:
    return request.url.path.startswith("/open311/")


XML_MEDIA_TYPE = "text/xml; charset=utf-8"
# Characters XML 1.0 cannot carry even escaped (C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Text for an XML element; ElementTree escapes markup, this drops what XML cannot hold at all."""
    return _NOT_XML.sub("", value)


def _open311_xml(content: list[dict[str, Any]], status_code: int, headers: dict[str, str] | None) -> Response:
    """GeoReport v2's XML errors: <errors><error><code/><description/></error></errors>."""
    root = ET.Element("errors")
    for entry in content:
        error = ET.SubElement(root, "error")
        ET.SubElement(error, "code").text = str(entry["code"])
        ET.SubElement(error, "description").text = xml_text(str(entry["description"]))
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status_code=status_code, headers=headers, media_type=XML_MEDIA_TYPE)


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _is_open311(request):
        # GeoReport v2 clients expect a list of {code, description}, and 400 for input they got wrong.
        if status_code == 422:
            status_code = 400
        fields = [d for d in details if isinstance(d, dict) and "field" in d] if isinstance(details, list) else []
        content: Any = [
            {"code": status_code, "description": f"{_open311_field(d['field'])}: {d.get('message', message)}"}
            for d in fields
        ] or [{"code": status_code, "description": message}]
        if request.url.path.endswith(".xml"):
            return _open311_xml(content, status_code, headers)
    else:
        content = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(content, status_code=status_code, headers=headers)


def _open311_field(field: str) -> str:
    """body.attribute[kelurahan] / query.status -> the parameter name a GeoReport client sent."""
    return field.split(".", 1)[1] if field.startswith(("body.", "query.", "path.")) else field


# Pydantic's error types in the citizens' language; anything else falls back to a generic sentence.
_VALIDATION_MESSAGES = {
    "missing": "Wajib diisi.",
    "string_too_short": "Terlalu pendek (minimal {min_length} karakter).",
    "string_too_long": "Terlalu panjang (maksimal {max_length} karakter).",
    "string_pattern_mismatch": "Format tidak sesuai.",
    "greater_than_equal": "Nilai minimal {ge}.",
    "less_than_equal": "Nilai maksimal {le}.",
    "literal_error": "Pilihan tidak dikenal; gunakan salah satu dari: {expected}.",
    "bool_parsing": "Harus bernilai true atau false.",
    "int_parsing": "Harus berupa bilangan bulat.",
    "float_parsing": "Harus berupa angka.",
    "date_from_datetime_parsing": "Tanggal tidak valid (format YYYY-MM-DD).",
    "datetime_from_date_parsing": "Waktu tidak valid (format ISO 8601).",
    "json_invalid": "JSON tidak valid.",
}


def validation_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "value_error":  # our own validators already speak Indonesian
        return str(error.get("msg", "")).removeprefix("Value error, ")
    template = _VALIDATION_MESSAGES.get(kind)
    if template is None:
        return "Nilai tidak valid."
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return "Nilai tidak valid."


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may be an e-mail address or a phone number.
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "type": error.get("type"),
            "message": validation_message(error),
        }
        for error in exc.errors()
    ]


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers (Starlette matches path and method together)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


# The HTTP status of each kind of refusal of the core (lapor.refusals); code, message and details are the core's.
REFUSAL_STATUS = {
    Kind.INVALID: 422,
    Kind.WRONG: 400,
    Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415,
    Kind.CONFLICT: 409,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.GONE: 410,
    Kind.UNAVAILABLE: 503,
}


def status_of(error: ApiError | Refused) -> int:
    """The HTTP status an error of the API or a refusal of the core answers with (the pages answer it too)."""
    return error.status_code if isinstance(error, ApiError) else REFUSAL_STATUS[error.kind]


def install_error_handlers(app: FastAPI) -> None:
    """One rendering for typed errors, validation errors, framework HTTP errors and crashes."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return error_response(request, REFUSAL_STATUS[exc.kind], exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        return error_response(request, 422, "validation_error", "Data yang dikirim tidak valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            # Starlette names only the first route's methods; a path may have several routes (GET and POST).
            code, message = _HTTP_CODES[405]
            return error_response(request, 405, code, message, None, {"Allow": ", ".join(_allowed_methods(request))})
        if isinstance(exc, InvalidEncoding):
            details = [
                {"field": f"body.{name}", "type": kind, "message": message} for name, kind, message in exc.problems
            ]
            return error_response(request, 422, "validation_error", "Data yang dikirim tidak valid.", details)
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "Permintaan tidak dapat diproses."))
        return error_response(request, exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        # Every database connection stayed busy for db_pool_timeout_seconds: tell the client to come back.
        _log.warning("api.pool_exhausted", path=request.url.path, method=request.method)
        return error_response(
            request, 503, ServiceUnavailable.code, ServiceUnavailable.message, None, {"Retry-After": "5"}
        )

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        # The database is restarting or unreachable: nothing was written, the client may try again shortly.
        _log.warning("api.database_unavailable", path=request.url.path, method=request.method)
        return error_response(
            request, 503, ServiceUnavailable.code, ServiceUnavailable.message, None, {"Retry-After": "5"}
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        _log.exception("api.unhandled_error", path=request.url.path, method=request.method)
        return error_response(request, 500, "internal_error", "Terjadi kesalahan pada server.")
