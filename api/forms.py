"""Form bodies read as UTF-8 or refused: Starlette decodes an invalid field as latin-1, which stores mojibake.

Every router of the API uses `TextRoute`; a multipart or urlencoded field that is not valid UTF-8 answers 422
naming the field, in the API's validation error shape (api/errors.py renders `InvalidEncoding`); so does a
file part sent with an empty file name (Starlette would take it for a text field).
"""

from collections.abc import Awaitable, Callable, Coroutine
from contextlib import aclosing
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

NOT_UTF8 = "Teks bukan UTF-8 yang valid."
NAMELESS_FILE = "Berkas dikirim tanpa nama berkas; kirim foto dengan nama, mis. foto.jpg."


class InvalidEncoding(HTTPException):
    """Form fields refused while parsing: bytes that are not UTF-8, a file part with an empty file name."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(status_code=422, detail=problems)
        self.problems = problems  # (field, type, message in Indonesian)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _MultiPartParser(MultiPartParser):
    invalid: list[tuple[str, str, str]]
    _nameless = False

    def on_headers_finished(self) -> None:
        # A file with an empty name arrives without filename (clients leave it out, the header parser drops
        # filename="") and would be taken for a text field: a part with a non-text Content-Type is a file.
        _, options = parse_options_header(self._current_part.content_disposition)
        content_type = dict(self._current_part.item_headers).get(b"content-type", b"text/plain")
        self._nameless = b"filename" not in options and not content_type.lower().startswith(b"text/")
        super().on_headers_finished()

    def on_part_end(self) -> None:
        part = self._current_part
        if self._nameless and not part.data:
            return  # a browser's file input left empty: no file chosen, no field at all
        if self._nameless:
            self.invalid.append((part.field_name, "file_name_missing", NAMELESS_FILE))
        elif part.file is None and not _is_utf8(bytes(part.data)):
            self.invalid.append((part.field_name, "string_unicode", NOT_UTF8))
        super().on_part_end()


class _FormParser(FormParser):
    invalid: list[tuple[str, str, str]]

    def on_field_end(self) -> None:
        if not _is_utf8(unquote_to_bytes(bytes(self._field_value).replace(b"+", b" "))):
            name = unquote_to_bytes(bytes(self._field_name).replace(b"+", b" ")).decode("utf-8", "replace")
            self.invalid.append((name, "string_unicode", NOT_UTF8))
        super().on_field_end()


class TextRequest(Request):
    """A request whose form fields are UTF-8 (anything else raises InvalidEncoding)."""

    async def _get_form(
        self, *, max_files: int | float = 1000, max_fields: int | float = 1000, max_part_size: int = 1024 * 1024
    ) -> FormData:
        if self._form is not None:
            return self._form
        content_type, _ = parse_options_header(self.headers.get("Content-Type"))
        parser: _MultiPartParser | _FormParser
        try:
            async with aclosing(self.stream()) as stream:
                if content_type == b"multipart/form-data":
                    parser = _MultiPartParser(
                        self.headers, stream, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
                    )
                elif content_type == b"application/x-www-form-urlencoded":
                    parser = _FormParser(self.headers, stream, max_fields=max_fields, max_part_size=max_part_size)
                else:
                    self._form = FormData()
                    return self._form
                parser.invalid = []
                form = await parser.parse()
        except MultiPartException as exc:
            raise HTTPException(status_code=400, detail=exc.message) from None
        if parser.invalid:
            await form.close()
            raise InvalidEncoding(parser.invalid)
        self._form = form
        return form


Guard = Callable[[Request], Awaitable[None]]
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])
_GUARD = "__before_body__"


def before_body(guard: Guard) -> Callable[[_Endpoint], _Endpoint]:
    """Mark a route's endpoint with a check of the request's headers that runs before its body is read (FastAPI
    reads and spools a form body before any dependency runs): a request without credentials costs no body."""

    def mark(endpoint: _Endpoint) -> _Endpoint:
        setattr(endpoint, _GUARD, guard)
        return endpoint

    return mark


class TextRoute(APIRoute):
    """The API's route: form bodies through TextRequest, after the endpoint's `before_body` guard if it has one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guard: Guard | None = getattr(self.endpoint, _GUARD, None)

        async def text_handler(request: Request) -> Response:
            if guard is not None:
                await guard(request)  # raises an ApiError, answered by the app's handlers; no body read
            return await handler(TextRequest(request.scope, request.receive))

        return text_handler
