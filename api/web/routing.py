"""The web page's route class: the API's UTF-8 form parsing, and a mark that makes its errors render as pages."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response

from api.forms import TextRoute

_WEB = "lapor.web_page"


class WebRoute(TextRoute):
    """A page of the citizen web site (errors raised while it runs are shown as an Indonesian page)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            request.scope[_WEB] = True  # the scope the exception handlers see
            return await handler(request)

        return page_handler


def is_web_request(request: Request) -> bool:
    return bool(request.scope.get(_WEB))
