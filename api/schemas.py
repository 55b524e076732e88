"""Pydantic schemas shared by several domains: report input fields and the views of a report."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

from lapor.reports import REPORT_TYPES

# Kota Pontianak, roughly: a point outside this box is a typo or a report about somewhere else.
LAT_MIN, LAT_MAX = -0.10, 0.03
LON_MIN, LON_MAX = 109.25, 109.40

ReportType = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
assert set(REPORT_TYPES) == {"pengaduan", "aspirasi", "permintaan_informasi"}


def storable(value: str) -> str:
    """Text a database can keep: PostgreSQL refuses NUL characters, and lone surrogates are not UTF-8."""
    if "\x00" in value:
        raise ValueError("teks mengandung karakter NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("teks bukan UTF-8 yang valid") from None
    return value


Storable = AfterValidator(storable)


def not_before_2000(value: date) -> date:
    if value < date(2000, 1, 1):
        raise ValueError("tanggal sebelum tahun 2000")
    return value


# Codes (category, kecamatan, kelurahan, tracking ids) have a fixed alphabet: anything else is refused early.
CODE_PATTERN = r"^[A-Za-z0-9_.\-]+$"
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=CODE_PATTERN)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=200), Storable]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000), Storable]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300), Storable]
ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), Storable]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200), Storable]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable]
IncidentDate = Annotated[date, AfterValidator(not_before_2000)]
Latitude = Annotated[float, Field(ge=LAT_MIN, le=LAT_MAX, description="Lintang, di dalam Kota Pontianak")]
Longitude = Annotated[float, Field(ge=LON_MIN, le=LON_MAX, description="Bujur, di dalam Kota Pontianak")]


class ReportFields(BaseModel):
    """What every channel says about a report (field names in English, values as the gazetteer has them)."""

    title: Title
    description: Description
    incident_date: IncidentDate | None = Field(None, description="Tanggal kejadian (YYYY-MM-DD)")
    category: Code = Field(description="Kode kategori, lihat GET /public/categories")
    address: Address
    kecamatan: Code = Field(description="Kode kecamatan Kemendagri, mis. 61.71.01")
    kelurahan: Code = Field(description="Kode kelurahan Kemendagri, mis. 61.71.01.1002")
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    report_type: ReportType = "pengaduan"
    anonymous: bool = Field(False, description="anonim: identitas disembunyikan dari publik dan OPD")
    confidential: bool = Field(False, description="rahasia: laporan tidak ditampilkan kepada publik")

    @model_validator(mode="after")
    def _both_coordinates(self) -> "ReportFields":
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude dan longitude harus diisi berdua atau dikosongkan berdua")
        return self


class StatusView(BaseModel):
    code: str
    label: str = Field(description="Nama status menurut SOP")


class ReportAccepted(BaseModel):
    """The answer to a submission: the tracking id to quote in every later contact."""

    tracking_id: str
    status: StatusView
    created_at: datetime
    message: str


class CodeName(BaseModel):
    code: str
    name: str | None


class LocationView(BaseModel):
    kecamatan: CodeName
    kelurahan: CodeName
    address: str | None
    latitude: float | None
    longitude: float | None


class TimelineEntry(BaseModel):
    status: StatusView
    actor: str
    actor_label: str
    at: datetime
    note: str | None = None


class DeadlineView(BaseModel):
    kind: Literal["verification", "opd-response", "opd-completion"]  # lapor.vocabulary.Deadline codes
    label: str
    due_at: datetime


class OpdResponseView(BaseModel):
    kind: str
    text: str
    at: datetime


class MessageView(BaseModel):
    kind: str
    author: str
    text: str
    accepted: bool | None
    at: datetime


class ReporterView(BaseModel):
    name: str
    email: str | None
    phone: str | None


class ReportView(BaseModel):
    """A report as its viewer may see it: `owner` sees everything, `public` what the feed shows, and `limited`
    (a report not yet verified, looked up by someone else) only its progress."""

    view: Literal["owner", "public", "limited"]
    tracking_id: str
    status: StatusView
    deadline: DeadlineView | None
    timeline: list[TimelineEntry]
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    description: str | None = None
    report_type: str | None = None
    category: CodeName | None = None
    location: LocationView | None = None
    opd: CodeName | None = None
    responses: list[OpdResponseView] = []
    photo_urls: list[str] = Field([], description="Tautan foto bertanda tangan, berlaku singkat")
    reporter_name: str | None = Field(None, description="Nama pelapor, kecuali laporan anonim")
    # Owner only:
    channel: str | None = None
    incident_date: date | None = None
    anonymous: bool | None = None
    confidential: bool | None = None
    reporter: ReporterView | None = None
    messages: list[MessageView] = []


class ReportSummary(BaseModel):
    """A report in a list (the public feed, the reporter's own reports)."""

    tracking_id: str
    title: str
    category: CodeName
    report_type: str
    status: StatusView
    kecamatan: CodeName
    kelurahan: CodeName
    reporter_name: str | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    page: int
    page_size: int
    total: int


class ReportPage(Page):
    items: list[ReportSummary]
