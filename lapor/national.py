"""Adapter to the national LAPOR! (Admin Pusat) for reports outside the city's authority."""

from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog

from lapor.settings import Settings

log = structlog.get_logger(__name__)


class NationalDeliveryError(RuntimeError):
    """The national system did not accept the return; the job retries."""


@dataclass(frozen=True)
class NationalReceipt:
    reference: str | None


class NationalAdapter(Protocol):
    def return_report(self, *, tracking_id: str, reason: str, idempotency_key: str) -> NationalReceipt: ...


class RecordOnlyAdapter:
    """No national endpoint configured: the return is recorded in the timeline for the admin to pass on."""

    def return_report(self, *, tracking_id: str, reason: str, idempotency_key: str) -> NationalReceipt:
        log.info("national.return_recorded", tracking_id=tracking_id)
        return NationalReceipt(reference=None)


class HttpNationalAdapter:
    """POSTs the return to the configured endpoint with an idempotency key, so a retried job is harmless."""

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
        if response.status_code >= 300:
            raise NationalDeliveryError(f"national LAPOR! answered {response.status_code}")
        reference = response.json().get("reference") if response.content else None
        return NationalReceipt(reference=str(reference) if reference else None)


def adapter_from(settings: Settings) -> NationalAdapter:
    if settings.national_lapor_url:
        return HttpNationalAdapter(settings.national_lapor_url, settings.national_lapor_token)
    return RecordOnlyAdapter()
