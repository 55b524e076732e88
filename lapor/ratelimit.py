"""Sliding-window rate limits kept in the database, so every API process counts the same requests."""

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lapor.models import RateLimitHit

__all__ = ["DEFAULT_LIMITS", "Limit", "RateLimited", "hit"]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests in any `window`."""

    count: int
    window: timedelta


# Bucket names are "<action>:<subject kind>"; the API checks the IP and the identity of each action.
DEFAULT_LIMITS: Mapping[str, Limit] = {
    "registration:ip": Limit(20, timedelta(hours=1)),
    "registration:identity": Limit(5, timedelta(hours=1)),
    "verification:ip": Limit(30, timedelta(minutes=10)),
    "verification:registration": Limit(10, timedelta(minutes=10)),
    "submission:ip": Limit(30, timedelta(hours=1)),
    "submission:reporter": Limit(10, timedelta(hours=1)),
}


class RateLimited(Exception):
    """The limit is reached; `retry_after` is the number of seconds until one more request is allowed."""

    def __init__(self, bucket: str, retry_after: int) -> None:
        super().__init__(f"rate limit {bucket} reached, retry after {retry_after}s")
        self.bucket = bucket
        self.retry_after = retry_after


def _subject_hash(bucket: str, subject: str) -> str:
    # IPs, e-mail addresses and phone numbers are counted, never stored readable.
    return hashlib.sha256(f"{bucket}\x00{subject.strip().lower()}".encode()).hexdigest()


def hit(session: Session, *, bucket: str, subject: str, limit: Limit, now: datetime) -> None:
    """Count one request of `subject` in `bucket`, or raise RateLimited (then nothing is counted)."""
    key = _subject_hash(bucket, subject)
    window_start = now - limit.window
    where = (RateLimitHit.bucket == bucket, RateLimitHit.subject == key)
    session.execute(delete(RateLimitHit).where(*where, RateLimitHit.occurred_at <= window_start))
    count = session.scalar(select(func.count()).select_from(RateLimitHit).where(*where)) or 0
    if count >= limit.count:
        oldest = session.scalar(select(func.min(RateLimitHit.occurred_at)).where(*where))
        wait = (oldest + limit.window - now).total_seconds() if oldest is not None else limit.window.total_seconds()
        raise RateLimited(bucket, max(1, math.ceil(wait)))
    session.add(RateLimitHit(bucket=bucket, subject=key, occurred_at=now))
