"""Open public reports of a category near a place, so a citizen can support one instead of filing it again.

A bounding box on the indexed (category, latitude, longitude) narrows the rows before any distance is measured;
without coordinates the citizen's kelurahan stands in for the circle. Confidential and closed reports are never
suggested, and nothing here names a reporter.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lapor.models import Photo, PhotoKind, Report, ReportStatus, ReportSupport

__all__ = ["SUGGESTED_STATUSES", "Nearby", "find", "photo_ids", "support_counts"]

# Verified and still open: a closed report (done, closed, sent back to Admin Pusat) is not worth supporting.
SUGGESTED_STATUSES = (
    ReportStatus.TERVERIFIKASI.value,
    ReportStatus.PROSES.value,
    ReportStatus.MENUNGGU_KONFIRMASI.value,
)
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)


@dataclass(frozen=True, slots=True)
class Nearby:
    """A suggested report, its distance in metres (None when found by kelurahan) and its supporters."""

    report: Report
    distance_m: float | None
    support_count: int
    photo_id: int | None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _suggestable(category: str) -> list[ColumnElement[bool]]:
    return [
        Report.category == category,
        Report.confidential.is_(False),
        Report.status.in_(SUGGESTED_STATUSES),
    ]


def find(
    session: Session,
    *,
    category: str,
    latitude: float | None,
    longitude: float | None,
    kelurahan_code: str | None,
    radius_m: float,
    limit: int,
) -> list[Nearby]:
    """Nearest first within `radius_m` of the point; else the kelurahan's newest first; [] with neither."""
    if latitude is not None and longitude is not None:
        dlat = radius_m / METRES_PER_DEGREE
        dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
        rows = session.scalars(
            select(Report).where(
                *_suggestable(category),
                Report.latitude.between(latitude - dlat, latitude + dlat),
                Report.longitude.between(longitude - dlon, longitude + dlon),
            )
        ).all()
        measured = [(distance_m(latitude, longitude, r.latitude or 0.0, r.longitude or 0.0), r) for r in rows]
        closest = sorted(measured, key=lambda pair: (pair[0], pair[1].id))
        found: Sequence[tuple[float | None, Report]] = [(d, r) for d, r in closest if d <= radius_m][:limit]
    elif kelurahan_code:
        rows = session.scalars(
            select(Report)
            .where(*_suggestable(category), Report.kelurahan_code == kelurahan_code)
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(limit)
        ).all()
        found = [(None, r) for r in rows]
    else:
        return []
    ids = [r.id for _, r in found]
    counts = support_counts(session, ids)
    photos = photo_ids(session, ids)
    return [Nearby(r, d, counts.get(r.id, 0), photos.get(r.id)) for d, r in found]


def support_counts(session: Session, report_ids: Sequence[int]) -> dict[int, int]:
    """How many citizens support each report ("Saya juga mengalami"), in one query."""
    if not report_ids:
        return {}
    query = (
        select(ReportSupport.report_id, func.count())
        .where(ReportSupport.report_id.in_(report_ids))
        .group_by(ReportSupport.report_id)
    )
    return {report_id: count for report_id, count in session.execute(query)}


def photo_ids(session: Session, report_ids: Sequence[int]) -> dict[int, int]:
    """The first photo the reporter sent with each report (the one a list shows), in one query."""
    if not report_ids:
        return {}
    query = (
        select(Photo.report_id, func.min(Photo.id))
        .where(Photo.report_id.in_(report_ids), Photo.kind == PhotoKind.REPORT.value)
        .group_by(Photo.report_id)
    )
    return {report_id: photo_id for report_id, photo_id in session.execute(query)}
