"""Refusals of the core: a request refused on purpose, with a code and a message in Bahasa Indonesia.

The core says what was refused and why (`kind`); `api/` turns the kind into an HTTP status and the refusal into its
error body, the pages into a message next to a field.
"""

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of refusal it is; the API answers each with one HTTP status."""

    INVALID = "invalid"  # 422
    WRONG = "wrong"  # 400: a wrong answer to a check, e.g. a one-time code
    TOO_LARGE = "too_large"  # 413
    UNSUPPORTED = "unsupported"  # 415
    CONFLICT = "conflict"  # 409
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    GONE = "gone"  # 410: it existed and is spent (an expired or locked code)
    UNAVAILABLE = "unavailable"  # 503: a service it needs (the channel of a code) is not there now


class Refused(Exception):
    """Base of every refusal of the core; subclasses fix kind, code and default message."""

    kind = Kind.INVALID
    code = "invalid_input"
    message = "Data yang dikirim tidak valid."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
