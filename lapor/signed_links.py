"""Signed short-lived links: staff view a report's photos, the OPD uploads its proof photo, no login needed."""

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.models import Photo, PhotoKind, Report
from lapor.settings import Settings

__all__ = [
    "LOCAL_KEY_FILE",
    "LinkExpired",
    "LinkForged",
    "LinkInvalid",
    "SignedPhoto",
    "check",
    "photo_links",
    "photo_path",
    "photo_url",
    "report_summary_path",
    "report_summary_url",
    "sign",
    "signed_photos",
    "signing_key",
]

# Outside production, with LAPOR_FILE_SIGNING_KEY unset, a random key is generated once into the data directory
# (shared by the API and the workers of one checkout), so `make run` works and no key sits in the source.
LOCAL_KEY_FILE = "file-signing-key"


class LinkInvalid(PermissionError):
    """A signed link that must not be honoured."""


class LinkExpired(LinkInvalid):
    pass


class LinkForged(LinkInvalid):
    pass


def signing_key(settings: Settings) -> bytes:
    """The HMAC key shared by the API and the workers; production refuses to run without one."""
    key = settings.file_signing_key
    if key:
        return key.encode()
    if settings.environment == "production":
        raise RuntimeError("LAPOR_FILE_SIGNING_KEY must be set in production")
    return local_key(settings.data_dir / LOCAL_KEY_FILE)


def local_key(path: Path) -> bytes:
    """The key in `path`, written there (readable by this user only) by whichever process needs it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_urlsafe(32).encode())
    return path.read_bytes().strip()


def photo_path(photo_id: int) -> str:
    return f"/files/photos/{photo_id}"


def thumbnail_path(photo_id: int) -> str:
    """A photo's small copy for lists: its own signature, so a list's link never opens the full photo."""
    return f"/files/photos/{photo_id}/kecil"


def report_summary_path(tracking_id: str) -> str:
    return f"/files/reports/{tracking_id}"


def _signature(key: bytes, path: str, expires: int) -> str:
    digest = hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(path: str, expires_at: datetime, *, key: bytes) -> str:
    """`path?expires=<unix seconds>&signature=<HMAC-SHA256 of path and expiry>`."""
    expires = int(expires_at.timestamp())
    return f"{path}?expires={expires}&signature={_signature(key, path, expires)}"


def check(path: str, expires: int, signature: str, *, key: bytes, now: datetime) -> None:
    """Raise LinkForged or LinkExpired unless the link was signed by us for this path and is still valid."""
    # Bytes, not str: compare_digest refuses non-ASCII text, and a link is anyone's to tamper with.
    if not hmac.compare_digest(_signature(key, path, expires).encode(), signature.encode("utf-8", "replace")):
        raise LinkForged(path)
    if now >= datetime.fromtimestamp(expires, UTC):
        raise LinkExpired(path)


def photo_links(
    session: Session,
    report: Report,
    expires_at: datetime,
    base_url: str,
    *,
    settings: Settings | None = None,
    key: bytes | None = None,
) -> list[str]:
    """Links to the reporter's photos of a report (not the OPD's proof), valid until `expires_at`."""
    if key is None:
        if settings is None:
            raise TypeError("photo_links needs the settings or the signing key")
        key = signing_key(settings)
    return [photo.url for photo in signed_photos(session, report, PhotoKind.REPORT, expires_at, base_url, key=key)]


@dataclass(frozen=True, slots=True)
class SignedPhoto:
    """A photo of a report with its signed link; `message_id` names the supplement it came with, if any."""

    id: int
    message_id: int | None
    url: str


def signed_photos(
    session: Session, report: Report, kind: PhotoKind, expires_at: datetime, base_url: str, *, key: bytes
) -> list[SignedPhoto]:
    """The report's photos of one kind (the reporter's, or the OPD's proof) in upload order, signed until
    `expires_at`."""
    rows = session.execute(
        select(Photo.id, Photo.message_id)
        .where(Photo.report_id == report.id, Photo.kind == kind.value)
        .order_by(Photo.id)
    )
    return [
        SignedPhoto(photo_id, message_id, photo_url(photo_id, expires_at, base_url, key=key))
        for photo_id, message_id in rows
    ]


def photo_url(photo_id: int, expires_at: datetime, base_url: str, *, key: bytes) -> str:
    """One photo's signed link, valid until `expires_at`."""
    return base_url.rstrip("/") + sign(photo_path(photo_id), expires_at, key=key)


class Tracked(Protocol):
    """Anything that names a report by its tracking id: a Report row, or a row of the SLA view."""

    @property
    def tracking_id(self) -> str: ...


def report_summary_url(report: Tracked, expires_at: datetime, base_url: str, *, settings: Settings) -> str:
    """Staff's read-only page of a report (text, place, photos; never the reporter's identity)."""
    return base_url.rstrip("/") + sign(report_summary_path(report.tracking_id), expires_at, key=signing_key(settings))
