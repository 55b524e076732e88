"""Rows the tests build again and again, with the defaults of a plain located web report in Pontianak Selatan.

A test names only what it is about (`report_row(status=..., opd_code=...)`); everything else is a valid report,
so a new required column is added here once, not in every test file.
"""

from datetime import datetime
from typing import Any

from lapor.models import Report, Reporter, ReportStatus
from lapor.workdays import PONTIANAK_TZ

DEFAULT_CREATED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=PONTIANAK_TZ)

REPORT_DEFAULTS: dict[str, Any] = {
    "channel": "web",
    "report_type": "pengaduan",
    "title": "Jalan berlubang di Jalan Gajah Mada",
    "description": "Lubang besar di depan pasar, membahayakan pengendara.",
    "category": "JALAN",
    "kecamatan_code": "61.71.01",
    "kelurahan_code": "61.71.01.1002",
    "address": "Jl. Gajah Mada No. 10",
    "anonymous": False,
    "confidential": False,
}


def report_row(tracking_id: str, **columns: Any) -> Report:
    """A Report, not yet added to a session; `status` may be given as a ReportStatus."""
    values = {**REPORT_DEFAULTS, "status": ReportStatus.BELUM_TERVERIFIKASI.value, "created_at": DEFAULT_CREATED_AT}
    values.update(columns)
    if isinstance(values["status"], ReportStatus):
        values["status"] = values["status"].value
    return Report(tracking_id=tracking_id, **values)


def reporter_row(name: str, *, email: str | None = None, phone: str | None = None, **columns: Any) -> Reporter:
    """A Reporter, not yet added to a session."""
    columns.setdefault("created_at", DEFAULT_CREATED_AT)
    return Reporter(name=name, email=email, phone=phone, **columns)
