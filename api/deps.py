"""What route functions receive: the app context, a session, the clock, the caller's credentials, rate limits."""

import asyncio
import hmac
import ipaddress
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated
from weakref import WeakKeyDictionary

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from api.errors import TooManyRequests, Unauthorized
from lapor import ratelimit, reporters
from lapor.models import Reporter
from lapor.notifications.service import Notifier
from lapor.settings import Settings
from lapor.signed_links import signing_key
from lapor.uploads import upload_dir

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread pool, a thread
# hop (and a wait for a free thread under load) per dependency per request for work that takes microseconds.


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _tokens(value: str | None) -> tuple[str, ...]:
    return tuple(token.strip() for token in (value or "").split(",") if token.strip())


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in _tokens(value))


@dataclass
class AppContext:
    """Everything the routes share, built once per application (tests build their own)."""

    settings: Settings
    db: Engine
    notifier: Notifier  # registration codes go out through it, and its ledger
    limits: Mapping[str, ratelimit.Limit] = field(default_factory=lambda: dict(ratelimit.DEFAULT_LIMITS))
    clock: Callable[[], datetime] = _utcnow

    @cached_property
    def trusted_proxies(self) -> tuple[Network, ...]:
        return _networks(self.settings.trusted_proxies)

    @cached_property
    def image_slots(self) -> threading.BoundedSemaphore:
        """Photos decoded at once by this process: decoding is CPU and memory, not waiting."""
        return threading.BoundedSemaphore(max(1, self.settings.image_decode_concurrency))

    _image_limiters: "WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" = field(
        default_factory=WeakKeyDictionary, repr=False
    )

    def image_limiter(self) -> anyio.CapacityLimiter:
        """The async side of `image_slots` (one per event loop: anyio's limiters belong to the loop)."""
        loop = asyncio.get_running_loop()
        limiter = self._image_limiters.get(loop)
        if limiter is None:
            limiter = self._image_limiters[loop] = anyio.CapacityLimiter(max(1, self.settings.image_decode_concurrency))
        return limiter

    @property
    def upload_dir(self) -> Path:
        return upload_dir(self.settings.data_dir)

    @property
    def signing_key(self) -> bytes:
        return signing_key(self.settings)

    @property
    def staff_tokens(self) -> tuple[str, ...]:
        return _tokens(self.settings.staff_api_tokens)

    @property
    def national_tokens(self) -> tuple[str, ...]:
        return _tokens(self.settings.national_api_tokens)

    @property
    def sla_tokens(self) -> tuple[str, ...]:
        return _tokens(self.settings.sla_api_tokens)

    @property
    def sms_webhook_secret(self) -> str | None:
        secret = self.settings.sms_webhook_secret
        return secret or None

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """A session per request; routes commit what they mean to keep, anything else is rolled back."""
    with Session(context.db, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def read_only(session: Session) -> None:
    """For a route that only reads, called before its first statement: the statements run without BEGIN and
    ROLLBACK around them (two round trips fewer per request on PostgreSQL). Each statement still reads one
    snapshot, as under READ COMMITTED; the connection is back to the default when it returns to the pool.
    Authentication in the same session commits first, so the connection taken here is a fresh one."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


async def get_now(context: ContextDep) -> datetime:
    return context.clock()


NowDep = Annotated[datetime, Depends(get_now)]


def _is_trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_ip(peer: str, forwarded_for: list[str], proxies: tuple[Network, ...]) -> str:
    """The client's address: the peer, unless it is a trusted proxy; then the nearest untrusted X-Forwarded-For hop.

    Hops are read from the right (the nearest proxy's entry last), so a client cannot prepend an address.
    """
    if not _is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


async def get_client_ip(request: Request, context: ContextDep) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_ip(peer, request.headers.getlist("x-forwarded-for"), context.trusted_proxies)


ClientIpDep = Annotated[str, Depends(get_client_ip)]


# -- credentials: each kind of caller has its own scheme, and no endpoint accepts another kind's token ----------
class StrictBearer(HTTPBearer):
    """No Authorization header: no credentials; any other scheme (Basic, a bare token) is a 401, never ignored."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        credentials = await super().__call__(request)
        if credentials is None and request.headers.get("Authorization"):
            raise Unauthorized("Gunakan skema Bearer: Authorization: Bearer <token>.")
        return credentials


reporter_bearer = StrictBearer(
    auto_error=False, scheme_name="ReporterToken", description="Token pelapor dari verifikasi pendaftaran."
)
_staff_bearer = StrictBearer(auto_error=False, scheme_name="StaffToken", description="Token petugas intake.")
_national_bearer = StrictBearer(
    auto_error=False, scheme_name="NationalToken", description="Token Admin Pusat SP4N-LAPOR!."
)
BearerCredentials = HTTPAuthorizationCredentials | None


def _matches(token: str, allowed: tuple[str, ...]) -> bool:
    # compare_digest against every configured token, so timing does not tell how much matched.
    return any(hmac.compare_digest(token.encode(), candidate.encode()) for candidate in allowed)


def reporter_from_token(session: Session, context: AppContext, token: str, now: datetime) -> Reporter:
    if _matches(token, context.staff_tokens + context.national_tokens):
        raise Unauthorized("Token petugas tidak dapat dipakai pada layanan pelapor.", details={"kind": "staff"})
    reporter = reporters.authenticate(session, token=token, now=now)
    if reporter is None:
        raise Unauthorized()
    # Give the connection back before the route runs (in another thread): a request never holds a
    # connection while it waits for a thread, so the pool cannot run dry with every thread waiting on it.
    session.commit()
    return reporter


async def get_optional_reporter(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    credentials: Annotated[BearerCredentials, Depends(reporter_bearer)],
) -> Reporter | None:
    """No Authorization header: an anonymous visitor; a bad token is refused rather than ignored."""
    if credentials is None:
        return None
    return await run_in_threadpool(reporter_from_token, session, context, credentials.credentials, now)


OptionalReporterDep = Annotated[Reporter | None, Depends(get_optional_reporter)]


async def get_reporter(reporter: OptionalReporterDep) -> Reporter:
    if reporter is None:
        raise Unauthorized("Masuk sebagai pelapor terdaftar untuk melakukan tindakan ini.")
    return reporter


ReporterDep = Annotated[Reporter, Depends(get_reporter)]


async def reporter_before_body(request: Request) -> None:
    """For `api.forms.before_body` on a reporter's upload: without a bearer token of a reporter's shape the body is
    not read. (The token itself is looked up by `ReporterDep`, after the body: no database work here.)"""
    context = await get_context(request)
    credentials = await reporter_bearer(request)
    if credentials is None:
        raise Unauthorized("Masuk sebagai pelapor terdaftar untuk melakukan tindakan ini.")
    if _matches(credentials.credentials, context.staff_tokens + context.national_tokens):
        raise Unauthorized("Token petugas tidak dapat dipakai pada layanan pelapor.", details={"kind": "staff"})
    if not credentials.credentials.startswith(reporters.TOKEN_PREFIX):
        raise Unauthorized()


async def get_reporter_token(credentials: Annotated[BearerCredentials, Depends(reporter_bearer)]) -> str:
    if credentials is None:
        raise Unauthorized()
    return credentials.credentials


ReporterTokenDep = Annotated[str, Depends(get_reporter_token)]


async def require_staff(context: ContextDep, credentials: Annotated[BearerCredentials, Depends(_staff_bearer)]) -> str:
    """The staff token itself (not logged); 401 for none, a reporter's or the national one."""
    if credentials is None or not _matches(credentials.credentials, context.staff_tokens):
        raise Unauthorized("Token petugas tidak valid.")
    return credentials.credentials


StaffDep = Annotated[str, Depends(require_staff)]


async def require_national(
    context: ContextDep, credentials: Annotated[BearerCredentials, Depends(_national_bearer)]
) -> str:
    if credentials is None or not _matches(credentials.credentials, context.national_tokens):
        raise Unauthorized("Token Admin Pusat tidak valid.")
    return credentials.credentials


NationalDep = Annotated[str, Depends(require_national)]


async def staff_before_body(request: Request) -> None:
    """`require_staff` from the headers alone, for `api.forms.before_body`: no token, no body read."""
    await require_staff(await get_context(request), await _staff_bearer(request))


async def national_before_body(request: Request) -> None:
    await require_national(await get_context(request), await _national_bearer(request))


_sla_bearer = StrictBearer(
    auto_error=False, scheme_name="SlaToken", description="Token tampilan SLA (Cockpit di mesin proses)."
)


async def require_sla_reader(
    context: ContextDep, credentials: Annotated[BearerCredentials, Depends(_sla_bearer)]
) -> str:
    """The SLA view's token; 401 for none and for any other token (staff intake's and the national one included)."""
    if credentials is None or not _matches(credentials.credentials, context.sla_tokens):
        raise Unauthorized("Token tampilan SLA tidak valid.")
    return credentials.credentials


SlaReaderDep = Annotated[str, Depends(require_sla_reader)]


# -- rate limits ---------------------------------------------------------------------------------------------------
@dataclass
class RateLimiter:
    """Limits checked and counted in the request's own session (`spend` commits the count at once, so a request
    refused later, for its location or a broken photo, still counts: refused work is not free)."""

    context: AppContext
    session: Session
    now: datetime

    def check(self, bucket: str, subject: str) -> None:
        """429 with Retry-After when the bucket is full; counts nothing yet."""
        limit = self.context.limits.get(bucket)
        if limit is None:
            return
        try:
            ratelimit.check(self.session, bucket=bucket, subject=subject, limit=limit, now=self.now)
        except ratelimit.RateLimited as limited:
            raise TooManyRequests(limited.retry_after) from None

    def record(self, bucket: str, subject: str) -> None:
        """Count this request; kept when the route commits its work."""
        if bucket in self.context.limits:
            ratelimit.record(self.session, bucket=bucket, subject=subject, now=self.now)

    def hit(self, bucket: str, subject: str) -> None:
        self.check(bucket, subject)
        self.record(bucket, subject)

    def spend(self, *hits: tuple[str, str]) -> None:
        """Check and count each (bucket, subject) and commit: 429 before any work, and counted whatever follows."""
        for bucket, subject in hits:
            self.check(bucket, subject)
        for bucket, subject in hits:
            self.record(bucket, subject)
        self.session.commit()


async def get_rate_limiter(context: ContextDep, session: SessionDep, now: NowDep) -> RateLimiter:
    return RateLimiter(context, session, now)


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
