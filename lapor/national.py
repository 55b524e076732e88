"""Adapter to the national LAPOR! (Admin Pusat) for reports outside the city's authority."""

from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog

from lapor.settings import Settings

log = structlog.get_logger(__name__)


class NationalDeliveryError(RuntimeError):
    """The return did not get through (unreachable, timeout, server error, rate limit, credentials); retried."""


class NationalRefusedError(RuntimeError):
    """The national system answered and refused the return (a 4xx): retrying cannot change its mind."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"national LAPOR! refused the return ({status_code}): {detail}")
        self.status_code = status_code
        self.detail = detail


# 4xx answers that are not a "no" to this report: "not now" (408, 429) and "not you" (401, 403: our credentials,
# which an operator fixes; a refusal would bounce every return back to verification instead). The task retries them
# and ends in an incident.
_NOT_A_REFUSAL = frozenset({401, 403, 408, 429})


@dataclass(frozen=True)
class NationalReceipt:
    reference: str | None


class NationalAdapter(Protocol):
    def return_report(self, *, tracking_id: str, reason: str, idempotency_key: str) -> NationalReceipt:
        """Hand the report back; NationalRefusedError for a "no", NationalDeliveryError when it did not get there."""
        ...


class RecordOnlyAdapter:
    """No national endpoint configured: the return is recorded in the timeline for the admin to pass on."""

    def return_report(self, *, tracking_id: str, reason: str, idempotency_key: str) -> NationalReceipt:
        log.info("national.return_recorded", tracking_id=tracking_id)
        return NationalReceipt(reference=None)


class HttpNationalAdapter:
    """POSTs the return to the configured endpoint with an idempotency key, so a retried task is harmless."""

    def __init__(self, url: str, token: str | None, timeout: float = 15.0) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout

    def return_report(self, *, tracking_id: str, reason: str, idempotency_key: str) -> NationalReceipt:
        headers = {"Idempotency-Key": idempotency_key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"trackingId": tracking_id, "reason": reason, "origin": "Pemerintah Kota Pontianak"}
        try:
            response = httpx.post(self._url, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as err:
            raise NationalDeliveryError(f"national LAPOR! unreachable: {err}") from err
        status = response.status_code
        if 400 <= status < 500 and status not in _NOT_A_REFUSAL:
            raise NationalRefusedError(status, _refusal_detail(response))
        if status >= 300:
            raise NationalDeliveryError(f"national LAPOR! answered {status}")
        reference = response.json().get("reference") if response.content else None
        return NationalReceipt(reference=str(reference) if reference else None)


def _refusal_detail(response: httpx.Response) -> str:
    """The reason the national system gives (`message` or `detail` of a JSON body), else its status text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "detail"):
            if isinstance(body.get(key), str) and body[key].strip():
                return str(body[key]).strip()
    return response.reason_phrase or str(response.status_code)


def adapter_from(settings: Settings) -> NationalAdapter:
    if settings.national_lapor_url:
        return HttpNationalAdapter(settings.national_lapor_url, settings.national_lapor_token)
    return RecordOnlyAdapter()
