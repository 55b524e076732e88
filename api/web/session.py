"""The web page's session: the reporter's own bearer token in an HttpOnly cookie, and CSRF tokens bound to it.

No second auth system: the cookie holds the token `POST /reporters/registrations/{id}/verification` issues (never
the reporter id), checked by the same `reporter_from_token` as the JSON API; signing out revokes it. A visitor who
is not signed in gets a random `lapor_tamu` cookie, so the registration and sign-in forms are CSRF-bound as well.
"""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from api.deps import AppContext, ContextDep, NowDep, SessionDep, reporter_from_token
from api.errors import Forbidden, Unauthorized
from lapor.models import Reporter
from lapor.settings import Settings

SESSION_COOKIE = "lapor_sesi"
VISITOR_COOKIE = "lapor_tamu"
CSRF_FIELD = "csrf"
_VISITOR_LIFETIME = 60 * 60 * 24  # seconds: a form left open for a day still posts
_CSRF_PURPOSE = b"lapor-web-csrf:"


class CsrfRefused(Forbidden):
    code = "csrf_refused"
    message = "Formulir tidak sah atau sudah kedaluwarsa. Muat ulang halaman, lalu kirim kembali."


def secure_cookies(settings: Settings) -> bool:
    """Secure cookies in production and behind https; a plain-http local run (127.0.0.1) would drop them."""
    return settings.environment == "production" or settings.public_base_url.startswith("https://")


def csrf_token(context: AppContext, binding: str) -> str:
    """HMAC of the session's binding (the token, or the visitor cookie) with the app's signing key."""
    digest = hmac.new(context.signing_key, _CSRF_PURPOSE + binding.encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass
class WebSession:
    """Who is looking at the page: a reporter (with the token of the cookie) or a visitor."""

    context: AppContext
    reporter: Reporter | None
    token: str | None
    visitor: str
    new_visitor: bool = False
    stale_token: bool = False  # the cookie held a revoked, expired or foreign token: it is cleared

    @property
    def binding(self) -> str:
        return self.token if self.token is not None else "tamu:" + self.visitor

    @property
    def csrf(self) -> str:
        return csrf_token(self.context, self.binding)

    def check_csrf(self, submitted: object) -> None:
        """403 unless the form carries this session's CSRF token."""
        if not isinstance(submitted, str) or not hmac.compare_digest(submitted.encode(), self.csrf.encode()):
            raise CsrfRefused()

    def apply_cookies(self, response: Response) -> None:
        secure = secure_cookies(self.context.settings)
        if self.new_visitor:
            response.set_cookie(
                VISITOR_COOKIE, self.visitor, max_age=_VISITOR_LIFETIME, httponly=True, secure=secure, samesite="lax"
            )
        if self.stale_token:
            response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure, samesite="lax")


def load(session: Session, context: AppContext, cookies: Mapping[str, str], now: datetime) -> WebSession:
    """The web session of a request's cookies; a bad token makes a visitor of the caller, never an error."""
    token = cookies.get(SESSION_COOKIE) or None
    visitor = cookies.get(VISITOR_COOKIE) or ""
    new_visitor = not (16 <= len(visitor) <= 64 and visitor.isascii())
    if new_visitor:
        visitor = secrets.token_urlsafe(24)
    reporter = None
    stale = False
    if token is not None:
        try:
            reporter = reporter_from_token(session, context, token, now)
        except Unauthorized:
            token, stale = None, True
    session.commit()  # the connection goes back to the pool before the page is built
    return WebSession(context, reporter, token, visitor, new_visitor=new_visitor, stale_token=stale)


def get_web_session(request: Request, session: SessionDep, context: ContextDep, now: NowDep) -> WebSession:
    return load(session, context, request.cookies, now)


WebSessionDep = Annotated[WebSession, Depends(get_web_session)]


def sign_in(response: Response, context: AppContext, token: str, expires_at: datetime, now: datetime) -> None:
    """The session cookie: the token itself, HttpOnly, SameSite=Lax, Secure outside a plain-http local run."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(0, int((expires_at - now).total_seconds())),
        httponly=True,
        secure=secure_cookies(context.settings),
        samesite="lax",
    )


def sign_out(response: Response, context: AppContext) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_cookies(context.settings), samesite="lax")
