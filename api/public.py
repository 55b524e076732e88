"""What anyone may read: the public feed of verified, non-confidential reports, and the master data."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import ContextDep, NowDep, SessionDep
from api.errors import documented
from api.forms import TextRoute
from api.schemas import CODE_PATTERN, ReportPage
from api.views import PUBLIC_STATUSES, last_activity, public_reports, signed_thumbnail_urls, summary
from lapor import masterdata, nearby
from lapor.models import Report

router = APIRouter(prefix="/public", tags=["publik"], route_class=TextRoute, responses=documented(400, 422, 503))


class CategoryView(BaseModel):
    code: str
    name: str


class KelurahanView(BaseModel):
    code: str
    name: str


class KecamatanView(BaseModel):
    code: str
    name: str
    kelurahan: list[KelurahanView]


@router.get("/reports", response_model=ReportPage)
def feed(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    category: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN)] = None,
    kecamatan: Annotated[str | None, Query(max_length=16, pattern=CODE_PATTERN)] = None,
    status: Annotated[
        str | None, Query(max_length=32, pattern=CODE_PATTERN, description=", ".join(PUBLIC_STATUSES))
    ] = None,
) -> ReportPage:
    """Verified, non-confidential reports, newest first; anonymous reporters are never named. Each with its first
    photo's small copy (a signed link, valid for a while) and its point when it has one, for a list and its map."""
    query = public_reports()
    if category:
        query = query.where(Report.category == category)
    if kecamatan:
        query = query.where(Report.kecamatan_code == kecamatan)
    if status:
        query = query.where(Report.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        session.scalars(
            query.order_by(Report.created_at.desc(), Report.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
    )
    updated = last_activity(session, rows)
    supports = nearby.support_counts(session, [r.id for r in rows])
    photos = nearby.photo_ids(session, [r.id for r in rows])
    thumbnails = signed_thumbnail_urls(list(photos.values()), context, now)
    items = []
    for report in rows:
        item = summary(report, updated[report.id], support_count=supports.get(report.id, 0))
        item.photo_url = thumbnails.get(photos[report.id]) if report.id in photos else None
        item.latitude, item.longitude = report.latitude, report.longitude
        items.append(item)
    return ReportPage(page=page, page_size=page_size, total=total, items=items)


@router.get("/categories", response_model=list[CategoryView])
def categories() -> list[CategoryView]:
    """Report categories (the `category` field of a report)."""
    return [CategoryView(code=c.code, name=c.name) for c in masterdata.category_list()]


@router.get("/locations", response_model=list[KecamatanView])
def locations() -> list[KecamatanView]:
    """Kecamatan and their kelurahan in Kota Pontianak (the `kecamatan` and `kelurahan` fields)."""
    return [
        KecamatanView(
            code=k.code,
            name=k.name,
            kelurahan=[KelurahanView(code=x.code, name=x.name) for x in masterdata.kelurahan_list(k.code)],
        )
        for k in masterdata.kecamatan_list()
    ]
