"""Open311 GeoReport v2 (JSON and XML) over the same reports and the same privacy rules as the public feed.

Every `.json` path has its `.xml` twin, served by the same function (GeoReport's format extension). Errors on
these paths are Open311's list of `{code, description}`, or `<errors>` on `.xml` paths (api.errors renders them).
Posting needs a registered reporter's token, as `api_key` or as a bearer token; `email`, `first_name`, ... are
ignored, the identity is the token's. `attribute[kelurahan]` (code or name) is required: the city routes by it.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile, status
from pydantic import AfterValidator, BaseModel, StringConstraints, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import (
    AppContext,
    ClientIpDep,
    ContextDep,
    NowDep,
    RateLimiterDep,
    SessionDep,
    read_only,
    reporter_from_token,
)
from api.errors import XML_MEDIA_TYPE, ApiError, NotFound, Unauthorized, documented_open311, xml_text
from api.forms import TextRoute
from api.schemas import (
    CODE_PATTERN,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    ONE_LINE,
    Address,
    Description,
    JsonPattern,
    ReportFields,
    ReportTypeCode,
    Storable,
)
from api.submission import photo_rules, read_files, report_data
from api.views import (
    category_of,
    last_activity,
    opd_of,
    public_reports,
    signed_photo_urls,
    status_view,
)
from lapor import deadlines, intake, masterdata
from lapor.models import CLOSED_STATUSES, Photo, PhotoKind, Report, Reporter, ReportMessage
from lapor.vocabulary import Actor, Deadline, ReportType

JURISDICTION_ID = "pontianak.go.id"


def _jurisdiction(
    jurisdiction_id: Annotated[
        str | None, Query(max_length=100, description=f"Opsional; satu-satunya yurisdiksi: {JURISDICTION_ID}")
    ] = None,
) -> None:
    """GeoReport's jurisdiction_id: this endpoint serves one city, any other is not found here."""
    if jurisdiction_id is not None and jurisdiction_id.strip().lower() != JURISDICTION_ID:
        raise NotFound(f"jurisdiction_id tidak dikenal; gunakan {JURISDICTION_ID} atau kosongkan.")


router = APIRouter(
    prefix="/open311/v2",
    tags=["open311"],
    route_class=TextRoute,
    dependencies=[Depends(_jurisdiction)],
    responses=documented_open311(400, 403, 404, 413, 415, 429, 503),
)
_log = structlog.stdlib.get_logger(__name__)

DEFAULT_WINDOW = timedelta(days=90)  # GeoReport v2: without dates, the last 90 days
# GeoReport v2 allows "the first 1000"; a page of 50 (at most 100) keeps one anonymous request cheap, and the
# paging extension (page, page_size) reaches the rest.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000


def _reasonable(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not 2000 <= moment.year <= 2100:
        raise ValueError("tanggal di luar rentang 2000-2100")
    return moment


Moment = Annotated[datetime, AfterValidator(_reasonable)]

MEDIA_URL_MAX = 500
# An https link to a host by name or address, no user:password@, only the characters RFC 3986 allows unencoded
# (no spaces, quotes or angle brackets: an IRI or anything else is percent-encoded by the client).
_MEDIA_URL = (
    r"https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*)?"
)


def _media_link(url: str) -> str:
    """GeoReport's media_url: kept as a link for people to open; the server never fetches it."""
    if re.fullmatch(_MEDIA_URL, url) is None:
        raise ValueError("harus tautan https:// ke sebuah host, tanpa spasi atau nama pengguna.")
    return url


MediaUrl = Annotated[
    str, JsonPattern(f"^{_MEDIA_URL}$"), StringConstraints(max_length=MEDIA_URL_MAX), AfterValidator(_media_link)
]


class Open311Forbidden(ApiError):
    status_code = 403
    code = "open311_forbidden"
    message = "api_key tidak valid: gunakan token pelapor terdaftar."


class Open311BadRequest(ApiError):
    status_code = 400
    code = "open311_bad_request"


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class AttributeValue(BaseModel):
    key: str
    name: str


class ServiceAttribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue] = []


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[ServiceAttribute]


class ServiceRequest(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class ServiceRequestCreated(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class DiscoveryEndpoint(BaseModel):
    specification: str
    url: str
    changeset: datetime
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    changeset: datetime
    contact: str
    key_service: str
    endpoints: list[DiscoveryEndpoint]


class ServiceRequestToken(BaseModel):
    service_request_id: str
    token: str


def _wants_xml(request: Request) -> bool:
    return request.url.path.endswith(".xml")


WantsXmlDep = Annotated[bool, Depends(_wants_xml)]

# GeoReport v2's element names: the document's root, then the element of each item of a list.
_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _fill(element: ET.Element, data: object) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            _fill(ET.SubElement(element, key), value)
    elif isinstance(data, list):
        for item in data:
            _fill(ET.SubElement(element, _ITEM_TAGS[element.tag]), item)
    elif isinstance(data, bool):
        element.text = "true" if data else "false"
    elif data is not None:
        element.text = xml_text(str(data))


def _xml(root: str, content: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """GeoReport's XML document of the same values the JSON route answers."""
    element = ET.Element(root)
    if isinstance(content, BaseModel):
        _fill(element, content.model_dump(mode="json"))
    else:
        _fill(element, [item.model_dump(mode="json") for item in content])
    body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return Response(body, status_code=status_code, media_type=XML_MEDIA_TYPE)


def _service(code: str, name: str) -> Service:
    return Service(
        service_code=code,
        service_name=name,
        description=f"Pengaduan kategori {name} kepada Pemerintah Kota Pontianak",
        metadata=True,
        type="batch",
        keywords=code.lower().replace("_", ","),
        group="LAPOR! Kota Pontianak",
    )


GEOREPORT_V2 = "http://wiki.open311.org/GeoReport_v2"


@router.get("/discovery.json", response_model=Discovery)
@router.get("/discovery.xml", response_model=Discovery, include_in_schema=False)
def discovery(context: ContextDep, wants_xml: WantsXmlDep) -> Discovery | Response:
    """Service discovery (Open311): this GeoReport v2 endpoint, its formats, and where a client gets an api_key."""
    changed = masterdata.categories_changed_at()  # the service list changes with the category list
    document = Discovery(
        changeset=changed,
        contact=f"LAPOR! Kota Pontianak, Diskominfo Kota Pontianak: {context.base_url}/",
        key_service=f"{context.base_url}/daftar (api_key = token pelapor terdaftar)",
        endpoints=[
            DiscoveryEndpoint(
                specification=GEOREPORT_V2,
                url=f"{context.base_url}/open311/v2",
                changeset=changed,
                type="production" if context.settings.environment == "production" else "test",
                formats=[XML_MEDIA_TYPE.split(";")[0], "application/json"],
            )
        ],
    )
    return _xml("discovery", document) if wants_xml else document


@router.get("/tokens/{token_id}.json", response_model=list[ServiceRequestToken])
@router.get("/tokens/{token_id}.xml", response_model=list[ServiceRequestToken], include_in_schema=False)
def token(
    token_id: Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)], session: SessionDep, wants_xml: WantsXmlDep
) -> list[ServiceRequestToken] | Response:
    """GeoReport's token lookup. A request is created at once, so its token is its service_request_id (the
    tracking id): a public request answers with itself, anything else is 404 as the specification says."""
    read_only(session)
    report = session.scalar(public_reports().where(Report.tracking_id == token_id))
    if report is None:
        raise NotFound("token tidak ditemukan (atau laporannya belum publik).")
    found = [ServiceRequestToken(service_request_id=report.tracking_id, token=token_id)]
    return _xml("service_requests", found) if wants_xml else found


@router.get("/services.json", response_model=list[Service])
@router.get("/services.xml", response_model=list[Service], include_in_schema=False)
def services(wants_xml: WantsXmlDep) -> list[Service] | Response:
    """Service list: one service per report category."""
    listed = [_service(c.code, c.name) for c in masterdata.category_list()]
    return _xml("services", listed) if wants_xml else listed


@router.get("/services/{service_code}.json", response_model=ServiceDefinition)
@router.get("/services/{service_code}.xml", response_model=ServiceDefinition, include_in_schema=False)
def service_definition(
    service_code: Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)], wants_xml: WantsXmlDep
) -> ServiceDefinition | Response:
    """Service definition: the attributes a request of this service needs."""
    try:
        masterdata.get_category(service_code)
    except masterdata.MasterDataError:
        raise NotFound("service_code tidak dikenal.") from None
    kelurahan = [AttributeValue(key=k.code, name=k.name) for k in masterdata.kelurahan_list()]
    definition = ServiceDefinition(
        service_code=service_code,
        attributes=[
            ServiceAttribute(
                variable=True,
                code="kelurahan",
                datatype="singlevaluelist",
                required=True,
                datatype_description="Kode atau nama kelurahan di Kota Pontianak",
                order=1,
                description="Kelurahan lokasi kejadian",
                values=kelurahan,
            ),
            ServiceAttribute(
                variable=True,
                code="jenis",
                datatype="singlevaluelist",
                required=False,
                datatype_description="pengaduan (bawaan), aspirasi atau permintaan_informasi",
                order=2,
                description="Jenis laporan",
                values=[AttributeValue(key=t.value, name=t.label) for t in ReportType],
            ),
        ],
    )
    return _xml("service_definition", definition) if wants_xml else definition


@dataclass(frozen=True, slots=True)
class _Extras:
    """What a request view needs beyond its report row, read for a whole page in a fixed number of statements."""

    updated: dict[int, datetime]
    latest_response: dict[int, str]
    first_photo: dict[int, int]


def _extras(session: Session, rows: Sequence[Report]) -> _Extras:
    ids = [r.id for r in rows]
    responses: dict[int, str] = {}
    photos: dict[int, int] = {}
    if ids:
        newest_first = (
            select(ReportMessage.report_id, ReportMessage.text)
            .where(ReportMessage.report_id.in_(ids), ReportMessage.author == Actor.OPD.value)
            .order_by(ReportMessage.created_at.desc(), ReportMessage.id.desc())
        )
        for report_id, text in session.execute(newest_first):
            responses.setdefault(report_id, text)
        first = (
            select(Photo.report_id, func.min(Photo.id))
            .where(Photo.report_id.in_(ids), Photo.kind == PhotoKind.REPORT.value)
            .group_by(Photo.report_id)
        )
        photos = {report_id: photo_id for report_id, photo_id in session.execute(first)}
    return _Extras(last_activity(session, rows), responses, photos)


def _request_view(report: Report, extras: _Extras, context: AppContext, now: datetime) -> ServiceRequest:
    latest_response = extras.latest_response.get(report.id)
    label = status_view(report.status).label
    opd = opd_of(report.opd_code)
    photo = extras.first_photo.get(report.id)
    return ServiceRequest(
        service_request_id=report.tracking_id,
        status="closed" if report.status in CLOSED_STATUSES else "open",
        status_notes=f"{label}: {latest_response}" if latest_response else label,
        service_name=category_of(report.category).name,
        service_code=report.category,
        description=report.description,
        agency_responsible=opd.name if opd else None,
        service_notice=None,
        requested_datetime=report.created_at,
        updated_datetime=extras.updated[report.id],
        expected_datetime=None,
        address=report.address,
        address_id=None,
        zipcode=None,
        lat=report.latitude,
        long=report.longitude,
        media_url=signed_photo_urls([photo], context, now)[0] if photo is not None else report.media_url,
    )


def _request_views(
    session: Session, rows: Sequence[Report], context: AppContext, now: datetime
) -> list[ServiceRequest]:
    extras = _extras(session, rows)
    return [_request_view(report, extras, context, now) for report in rows]


@router.get("/requests.json", response_model=list[ServiceRequest])
@router.get("/requests.xml", response_model=list[ServiceRequest], include_in_schema=False)
def requests(
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    wants_xml: WantsXmlDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    service_request_id: Annotated[
        str | None, Query(max_length=2000, pattern=r"^[A-Za-z0-9_.,\- ]*$", description="Nomor dipisah koma")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN)] = None,
    start_date: Moment | None = None,
    end_date: Moment | None = None,
    status: Annotated[
        str | None, Query(pattern=r"^(open|closed)(,(open|closed))*$", description="open, closed, atau open,closed")
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Halaman, mulai dari 1 (ekstensi paging GeoReport)")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Permintaan per halaman, bawaan {DEFAULT_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> list[ServiceRequest] | Response:
    """Public service requests (verified, non-confidential reports), newest first, one page at a time."""
    limiter.spend(("open311_list:ip", ip))
    query = public_reports()
    if service_request_id:
        query = query.where(Report.tracking_id.in_([i.strip() for i in service_request_id.split(",") if i.strip()]))
    else:
        start = _aware(start_date) or (now - DEFAULT_WINDOW)
        query = query.where(Report.created_at >= start)
        if end_date is not None:
            query = query.where(Report.created_at <= _aware(end_date))
    if service_code:
        query = query.where(Report.category == service_code)
    wanted = set((status or "open,closed").split(","))
    if wanted == {"closed"}:
        query = query.where(Report.status.in_(CLOSED_STATUSES))
    elif wanted == {"open"}:
        query = query.where(Report.status.not_in(CLOSED_STATUSES))
    newest_first = query.order_by(Report.created_at.desc(), Report.id.desc())
    rows = list(session.scalars(newest_first.offset((page - 1) * page_size).limit(page_size)))
    views = _request_views(session, rows, context, now)
    return _xml("service_requests", views) if wants_xml else views


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequest])
@router.get("/requests/{service_request_id}.xml", response_model=list[ServiceRequest], include_in_schema=False)
def request_by_id(
    service_request_id: Annotated[str, Path(max_length=32, pattern=CODE_PATTERN)],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    wants_xml: WantsXmlDep,
) -> list[ServiceRequest] | Response:
    """One public service request (Open311 answers with a list)."""
    report = session.scalar(public_reports().where(Report.tracking_id == service_request_id))
    if report is None:
        raise NotFound("service_request_id tidak ditemukan.")
    views = _request_views(session, [report], context, now)
    return _xml("service_requests", views) if wants_xml else views


def open311_reporter(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    api_key: Annotated[str | None, Form(max_length=200, description="Token pelapor (GeoReport v2 api_key)")] = None,
    api_key_in_query: Annotated[
        str | None, Query(alias="api_key", max_length=200, description="Token pelapor, bila tidak di formulir")
    ] = None,
) -> Reporter:
    """GeoReport's api_key (form field or query parameter); a reporter's bearer token is accepted as well."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    if authorization and (scheme.lower() != "bearer" or not bearer.strip()):
        raise Open311Forbidden("Gunakan api_key atau Authorization: Bearer <token pelapor>.")
    token = api_key or api_key_in_query or bearer.strip()
    if not token:
        raise Open311Forbidden()
    try:
        return reporter_from_token(session, context, token, now)
    except Unauthorized:
        raise Open311Forbidden() from None


@router.post("/requests.json", status_code=status.HTTP_201_CREATED, response_model=list[ServiceRequestCreated])
@router.post(
    "/requests.xml",
    status_code=status.HTTP_201_CREATED,
    response_model=list[ServiceRequestCreated],
    include_in_schema=False,
)
def create_request(
    reporter: Annotated[Reporter, Depends(open311_reporter)],
    service_code: Annotated[str, Form(max_length=32, pattern=CODE_PATTERN)],
    description: Annotated[Description, Form()],
    kelurahan: Annotated[
        str,
        ONE_LINE,
        Form(alias="attribute[kelurahan]", min_length=1, max_length=64, description="Kode atau nama kelurahan"),
        Storable,
    ],
    session: SessionDep,
    context: ContextDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
    now: NowDep,
    wants_xml: WantsXmlDep,
    lat: Annotated[float | None, Form(ge=LAT_MIN, le=LAT_MAX)] = None,
    long: Annotated[float | None, Form(ge=LON_MIN, le=LON_MAX)] = None,
    address_string: Annotated[Address | None, Form()] = None,
    media_url: Annotated[
        MediaUrl | None, Form(description="Tautan https:// ke foto; disimpan sebagai tautan, tidak diunduh server")
    ] = None,
    media: Annotated[list[UploadFile], File(description="Foto (opsional, maks. 5)")] = [],  # noqa: B006
    report_type: Annotated[
        ReportTypeCode, Form(alias="attribute[jenis]", description="Jenis laporan; bawaan pengaduan")
    ] = "pengaduan",
) -> list[ServiceRequestCreated] | Response:
    """Create a service request as the reporter who owns the token."""
    limiter.spend(("submission:ip", ip), ("submission:reporter", str(reporter.id)))  # a refused request counts
    wanted = kelurahan.replace(" ", "").lower()
    place = next(
        (k for k in masterdata.kelurahan_list() if wanted in (k.code.lower(), k.name.replace(" ", "").lower())), None
    )
    if place is None:
        raise Open311BadRequest("attribute[kelurahan] tidak dikenal di Kota Pontianak.")
    address = address_string or (f"{lat}, {long}" if lat is not None and long is not None else None)
    if not address:
        raise Open311BadRequest("Lokasi wajib: address_string atau lat dan long.")
    try:
        fields = ReportFields(
            title=" ".join(description.split())[:60],
            description=description,
            category=service_code,
            address=address,
            kecamatan=place.kecamatan_code,
            kelurahan=place.code,
            latitude=lat,
            longitude=long,
            report_type=report_type,
        )
    except ValidationError as err:
        raise Open311BadRequest("; ".join(str(e["msg"]) for e in err.errors())) from None
    request = intake.IntakeRequest(
        report_data(fields),
        channel="web",
        reporter_id=reporter.id,
        origin=intake.Origin(source="open311"),
        photos=read_files(media),
        media_url=media_url,
    )
    session.commit()  # no connection held while the core decodes the photos (after its cheap checks)
    report = intake.accept(session, request, rules=photo_rules(context), now=now).report
    _log.info("open311.request_created", report_id=report.id)
    created = ServiceRequestCreated(
        service_request_id=report.tracking_id,
        service_notice=(
            f"Laporan diterima dan akan diverifikasi dalam {deadlines.model_rules()[Deadline.VERIFICATION].describe()}."
        ),
        account_id=None,
    )
    return _xml("service_requests", [created], status.HTTP_201_CREATED) if wants_xml else [created]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
