"""Nearby reports before submitting, and "Saya juga mengalami": support and follow someone else's public report."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import AppContext, ClientIpDep, ContextDep, NowDep, RateLimiterDep, ReporterDep, SessionDep
from api.errors import ReportNotFound, documented
from api.forms import TextRoute
from api.replies import find_visible
from api.schemas import CODE_PATTERN, CodeName, Latitude, Longitude, StatusView
from api.views import category_of, is_owner, is_public, kelurahan_of, signed_thumbnail_urls, status_view
from lapor import nearby, support
from lapor.links import tracking_page_url
from lapor.models import Report, Reporter

router = APIRouter(prefix="/reports", tags=["laporan"], route_class=TextRoute)
_log = structlog.stdlib.get_logger(__name__)

MAX_SUGGESTIONS = 20
TrackingId = Annotated[
    str, Path(max_length=32, pattern=CODE_PATTERN, description="Nomor pelacakan, mis. PTK-2611-7KQ3MX")
]


class NearbyReport(BaseModel):
    """Enough of a public report to judge whether it is the same problem; never who reported it."""

    tracking_id: str
    title: str
    category: CodeName
    status: StatusView
    kelurahan: CodeName
    distance_m: int | None = Field(
        description="Jarak dari titik yang diberikan (meter); kosong bila dicari per kelurahan"
    )
    created_at: datetime
    support_count: int = Field(description='Warga yang menyatakan "Saya juga mengalami"')
    photo_url: str | None = Field(
        description="Foto pertama laporan, ukuran kecil (tautan bertanda tangan, berlaku singkat)"
    )
    report_url: str = Field(description="Halaman pelacakan laporan")


class NearbyPage(BaseModel):
    searched_by: Literal["point", "kelurahan"]
    radius_m: int | None = Field(description="Radius pencarian (meter) bila dicari dari titik koordinat")
    items: list[NearbyReport]


class SupportView(BaseModel):
    tracking_id: str
    support_count: int
    supporting: bool
    following: bool
    message: str


def suggestions(
    session: Session,
    context: AppContext,
    now: datetime,
    *,
    category: str,
    latitude: float | None,
    longitude: float | None,
    kelurahan: str | None,
    limit: int = 5,
) -> NearbyPage:
    """The nearby search as the API and the web page show it (one place decides what a suggestion reveals)."""
    radius = context.settings.nearby_radius_m
    found = nearby.find(
        session,
        category=category,
        latitude=latitude,
        longitude=longitude,
        kelurahan_code=kelurahan,
        radius_m=radius,
        limit=limit,
    )
    photo_ids = [n.photo_id for n in found if n.photo_id is not None]
    urls = signed_thumbnail_urls(photo_ids, context, now)  # a list's small copies, as the feed shows them
    by_point = latitude is not None and longitude is not None
    return NearbyPage(
        searched_by="point" if by_point else "kelurahan",
        radius_m=round(radius) if by_point else None,
        items=[
            NearbyReport(
                tracking_id=n.report.tracking_id,
                title=n.report.title,
                category=category_of(n.report.category),
                status=status_view(n.report.status),
                kelurahan=kelurahan_of(n.report.kelurahan_code),
                distance_m=None if n.distance_m is None else round(n.distance_m),
                created_at=n.report.created_at,
                support_count=n.support_count,
                photo_url=urls.get(n.photo_id) if n.photo_id is not None else None,
                report_url=tracking_page_url(context.base_url, n.report.tracking_id),
            )
            for n in found
        ],
    )


@router.get("/nearby", response_model=NearbyPage, responses=documented(400, 422, 429, 503))
def nearby_reports(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    category: Annotated[str, Query(max_length=32, pattern=CODE_PATTERN, description="Kode kategori")],
    lat: Annotated[Latitude | None, Query(description="Lintang titik laporan (bersama lon)")] = None,
    lon: Annotated[Longitude | None, Query(description="Bujur titik laporan (bersama lat)")] = None,
    kelurahan: Annotated[
        str | None, Query(max_length=16, pattern=CODE_PATTERN, description="Kode kelurahan, dipakai bila tanpa titik")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS, description="Paling banyak laporan yang dikembalikan")] = 5,
) -> NearbyPage:
    """Open, verified, non-confidential reports of the same category near a point (within the radius of the setting
    `LAPOR_NEARBY_RADIUS_M`, 150 m unless set; nearest first) or, without lat/lon, in the kelurahan (newest first).

    At most 20 items; rate-limited per client address (`LAPOR_RATE_LIMIT_NEARBY_IP`, 120 per 10 minutes unless
    set). Reporters are never named. Without lat/lon and kelurahan the list is empty.
    """
    limiter.spend(("nearby:ip", ip))
    if (lat is None) != (lon is None):
        lat = lon = None  # half a point is no point: the kelurahan decides
    return suggestions(
        session, context, now, category=category, latitude=lat, longitude=lon, kelurahan=kelurahan, limit=limit
    )


def supportable(session: Session, tracking_id: str, reporter: Reporter) -> Report:
    """Someone else's public report: 404 for what the citizen may not see publicly, 403 for their own."""
    report = find_visible(session, tracking_id, reporter)
    if is_owner(report, reporter):
        raise support.OwnReport()
    if not is_public(report):
        raise ReportNotFound()
    return report


def _view(session: Session, report: Report, reporter: Reporter, message: str) -> SupportView:
    return SupportView(
        tracking_id=report.tracking_id,
        support_count=nearby.support_counts(session, [report.id]).get(report.id, 0),
        supporting=support.is_supporting(session, report, reporter),
        following=support.is_following(session, report, reporter),
        message=message,
    )


SUPPORTED = "Terima kasih, dukungan Anda tercatat. Anda akan menerima kabar perkembangan laporan ini."
FOLLOWING = "Anda mengikuti laporan ini dan akan menerima kabar perkembangannya."
UNFOLLOWED = "Anda tidak lagi mengikuti laporan ini."

_RESPONSES = documented(401, 403, 404, 422, 503)


@router.post("/{tracking_id}/support", response_model=SupportView, responses=_RESPONSES)
def support_report(tracking_id: TrackingId, reporter: ReporterDep, session: SessionDep, now: NowDep) -> SupportView:
    """ "Saya juga mengalami": support someone else's public report once (again is no change) and follow it."""
    report = supportable(session, tracking_id, reporter)
    supported = support.support(session, report=report, reporter=reporter, now=now)
    session.commit()
    _log.info("report.supported", report_id=report.id, added=supported.added)
    return _view(session, report, reporter, SUPPORTED)


@router.put("/{tracking_id}/follow", response_model=SupportView, responses=_RESPONSES)
def follow_report(tracking_id: TrackingId, reporter: ReporterDep, session: SessionDep, now: NowDep) -> SupportView:
    """Receive the status notices of someone else's public report (by e-mail or SMS, as registered)."""
    report = supportable(session, tracking_id, reporter)
    support.follow(session, report=report, reporter=reporter, now=now)
    session.commit()
    return _view(session, report, reporter, FOLLOWING)


@router.delete("/{tracking_id}/follow", response_model=SupportView, responses=_RESPONSES)
def unfollow_report(tracking_id: TrackingId, reporter: ReporterDep, session: SessionDep) -> SupportView:
    """Stop the status notices of a followed report (the support stays counted)."""
    report = find_visible(session, tracking_id, reporter)
    support.unfollow(session, report=report, reporter=reporter)
    session.commit()
    return _view(session, report, reporter, UNFOLLOWED)


@dataclass(frozen=True, slots=True)
class SupportState:
    """What the tracking page offers the viewer: the count for everyone; support and follow for a signed-in citizen
    who did not report it, on a public report."""

    support_count: int
    can_support: bool
    supporting: bool
    following: bool


def support_state(session: Session, report: Report, viewer: Reporter | None, support_count: int) -> SupportState:
    if viewer is None or is_owner(report, viewer) or not is_public(report):
        return SupportState(support_count, False, False, False)
    return SupportState(
        support_count,
        True,
        support.is_supporting(session, report, viewer),
        support.is_following(session, report, viewer),
    )
