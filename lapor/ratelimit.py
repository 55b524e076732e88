"""Sliding-window rate limits kept in the database, so every API process counts the same requests.

A request is checked first (`check`, which also forgets hits that left the window) and counted (`record`) in the
caller's transaction. Intake counts before its work (api.deps.RateLimiter.spend), so a refused submission counts
as an accepted one does; staff sign-in counts only its refusals.
"""

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from lapor.models import RateLimitHit
from lapor.settings import Settings

__all__ = ["BUCKETS", "DEFAULT_LIMITS", "Limit", "RateLimited", "check", "limits_from", "parse_limit", "record"]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests in any `window`."""

    count: int
    window: timedelta


# Bucket names are "<action>:<subject kind>"; the API checks the IP and the identity of each action.
# Each bucket has its setting `rate_limit_<action>_<subject kind>`.
BUCKETS = (
    "registration:ip",
    "registration:identity",
    "verification:ip",
    "verification:registration",
    "submission:ip",
    "submission:reporter",
    "staff_login:ip",
    "staff_login:user",
    "open311_list:ip",
    "nearby:ip",
    "export:reporter",
)
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smh])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def parse_limit(value: str) -> Limit | None:
    """ "20/1h" -> Limit(20, 1 hour); "off" -> None; ValueError for anything else."""
    if value.strip().lower() == "off":
        return None
    found = _LIMIT.fullmatch(value)
    if found is None or int(found.group(1)) < 1 or int(found.group(2)) < 1:
        raise ValueError(f"rate limit {value!r}: write <count>/<window>, e.g. 20/1h, 30/10m, or off")
    return Limit(int(found.group(1)), timedelta(seconds=int(found.group(2)) * _UNIT[found.group(3)]))


def limits_from(settings: Settings) -> dict[str, Limit]:
    """The limits the settings configure, by bucket (a bucket set to "off" is left out)."""
    limits = {}
    for bucket in BUCKETS:
        limit = parse_limit(getattr(settings, "rate_limit_" + bucket.replace(":", "_")))
        if limit is not None:
            limits[bucket] = limit
    return limits


DEFAULT_LIMITS: Mapping[str, Limit] = limits_from(Settings(_env_file=None))


class RateLimited(Exception):
    """The limit is reached; `retry_after` is the number of seconds until one more request is allowed."""

    def __init__(self, bucket: str, retry_after: int) -> None:
        super().__init__(f"rate limit {bucket} reached, retry after {retry_after}s")
        self.bucket = bucket
        self.retry_after = retry_after


def _subject_hash(bucket: str, subject: str) -> str:
    # IPs, e-mail addresses and phone numbers are counted, never stored readable.
    return hashlib.sha256(f"{bucket}\x00{subject.strip().lower()}".encode()).hexdigest()


def forget(session: Session, *, subject: str) -> int:
    """Delete the counts kept against one subject in every bucket (an erased reporter's contact); how many rows."""
    hashes = [_subject_hash(bucket, subject) for bucket in BUCKETS]
    result = session.execute(delete(RateLimitHit).where(RateLimitHit.subject.in_(hashes)))
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def check(session: Session, *, bucket: str, subject: str, limit: Limit, now: datetime) -> None:
    """Raise RateLimited when `subject` has used up `bucket`; counts nothing (see `record`)."""
    key = _subject_hash(bucket, subject)
    where = (RateLimitHit.bucket == bucket, RateLimitHit.subject == key)
    session.execute(delete(RateLimitHit).where(*where, RateLimitHit.occurred_at <= now - limit.window))
    count = session.scalar(select(func.count()).select_from(RateLimitHit).where(*where)) or 0
    if count >= limit.count:
        oldest = session.scalar(select(func.min(RateLimitHit.occurred_at)).where(*where))
        wait = (oldest + limit.window - now).total_seconds() if oldest is not None else limit.window.total_seconds()
        raise RateLimited(bucket, max(1, math.ceil(wait)))


def record(session: Session, *, bucket: str, subject: str, now: datetime) -> None:
    """Count one request of `subject` in `bucket`, in the caller's transaction (kept only if it commits)."""
    session.add(RateLimitHit(bucket=bucket, subject=_subject_hash(bucket, subject), occurred_at=now))
