"""Pydantic schemas shared by several domains: report input fields and the views of a report."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from lapor import masterdata, reporters
from lapor.deadlines import WAITING_ON
from lapor.text import FORMAT_CHARACTERS, storable, storable_text
from lapor.vocabulary import ReportType

# Kota Pontianak, roughly: a point outside this box is a typo or a report about somewhere else.
LAT_MIN, LAT_MAX = -0.10, 0.03
LON_MIN, LON_MAX = 109.25, 109.40

# A Literal (not the enum) so the schema and the form field carry plain strings; it must list ReportType's values.
ReportTypeCode = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
assert set(get_args(ReportTypeCode)) == {t.value for t in ReportType}


@dataclass(frozen=True, slots=True)
class JsonPattern:
    """A `pattern` for the OpenAPI document only: the validators below say why in Indonesian, the schema
    tells clients (and schemathesis) what will be accepted."""

    pattern: str

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


# lapor.text holds the rules; these patterns state them in the OpenAPI document.
# (Lone surrogates are refused too, by `lapor.text`; a pattern cannot name them: regex engines refuse the range.)
_NOT_IN_LINE = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + FORMAT_CHARACTERS
_NOT_IN_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + FORMAT_CHARACTERS
# Starts and ends with a visible character (whitespace is trimmed before the length is checked).
ONE_LINE = JsonPattern(rf"^[^\s{_NOT_IN_LINE}](?:[^{_NOT_IN_LINE}]*[^\s{_NOT_IN_LINE}])?$")
SEVERAL_LINES = JsonPattern(rf"^[^\s{_NOT_IN_LINE}](?:[^{_NOT_IN_TEXT}]*[^\s{_NOT_IN_LINE}])?$")
EMAIL_PATTERN = JsonPattern(
    r"^[A-Za-z0-9!#$%&*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
PHONE_PATTERN = JsonPattern(r"^(?:\+62|62|0)8[0-9]{7,12}$")  # separators (spaces, dashes) are accepted too
# A contact as the core stores it (lapor.reporters normalises it: lower-cased, +628...); too long is refused first.
EmailAddress = Annotated[
    str, StringConstraints(max_length=320), EMAIL_PATTERN, AfterValidator(reporters.normalize_email)
]
PhoneNumber = Annotated[str, StringConstraints(max_length=32), PHONE_PATTERN, AfterValidator(reporters.normalize_phone)]

Storable = AfterValidator(storable)
StorableText = AfterValidator(storable_text)


def _form_bool(value: object) -> object:
    """true/false as a form sends them; other spellings ("on", "1") are refused rather than guessed."""
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise ValueError("isi true atau false")
        return value.strip().lower() == "true"
    return value


FormBool = Annotated[StrictBool, BeforeValidator(_form_bool)]


def not_before_2000(value: date) -> date:
    if value < date(2000, 1, 1):
        raise ValueError("tanggal sebelum tahun 2000")
    return value


def _trimmed(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# Codes (category, kecamatan, kelurahan, tracking ids) have a fixed alphabet: anything else is refused early.
CODE_PATTERN = r"^[A-Za-z0-9_.\-]+$"
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=CODE_PATTERN)]
Title = Annotated[str, ONE_LINE, _trimmed(5, 200), Storable]
Description = Annotated[
    str, SEVERAL_LINES, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000), StorableText
]
Address = Annotated[str, ONE_LINE, _trimmed(3, 300), Storable]
ReplyText = Annotated[
    str, SEVERAL_LINES, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), StorableText
]
Name = Annotated[str, ONE_LINE, _trimmed(2, 200), Storable]
ExternalId = Annotated[str, ONE_LINE, _trimmed(1, 100), Storable]
IncidentDate = Annotated[date, JsonPattern(r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}$"), AfterValidator(not_before_2000)]
Latitude = Annotated[float, Field(ge=LAT_MIN, le=LAT_MAX, description="Lintang, di dalam Kota Pontianak")]
Longitude = Annotated[float, Field(ge=LON_MIN, le=LON_MAX, description="Bujur, di dalam Kota Pontianak")]


class ReportFields(BaseModel):
    """What every channel says about a report (field names in English, values as the gazetteer has them)."""

    model_config = ConfigDict(
        json_schema_extra={  # both coordinates or neither
            "dependentSchemas": {
                "latitude": {"required": ["longitude"], "properties": {"longitude": {"type": "number"}}},
                "longitude": {"required": ["latitude"], "properties": {"latitude": {"type": "number"}}},
            }
        }
    )

    title: Title
    description: Description
    incident_date: IncidentDate | None = Field(None, description="Tanggal kejadian (YYYY-MM-DD)")
    category: Code = Field(
        description="Kode kategori, lihat GET /public/categories",
        json_schema_extra={"enum": [c.code for c in masterdata.category_list()]},
    )
    address: Address
    kecamatan: Code = Field(
        description="Kode kecamatan Kemendagri, mis. 61.71.01",
        json_schema_extra={"enum": [k.code for k in masterdata.kecamatan_list()]},
    )
    kelurahan: Code = Field(
        description="Kode kelurahan Kemendagri, mis. 61.71.01.1002 (harus di dalam kecamatan yang dipilih)",
        json_schema_extra={"enum": [k.code for k in masterdata.kelurahan_list()]},
    )
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    report_type: ReportTypeCode = Field(
        "pengaduan", description="Jenis laporan: pengaduan, aspirasi, atau permintaan_informasi (permintaan informasi)"
    )
    anonymous: FormBool = Field(False, description="anonim: identitas disembunyikan dari publik dan OPD")
    confidential: FormBool = Field(False, description="rahasia: laporan tidak ditampilkan kepada publik")
    show_name: FormBool = Field(
        False, description="tampilkan nama pelapor pada laporan publik; bawaan: nama tidak ditampilkan"
    )

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
    kind: Annotated[
        str,
        Field(
            description="lapor.vocabulary.Deadline code of the deadline the report waits on",
            json_schema_extra={"enum": sorted({d.code for d in WAITING_ON.values()})},
        ),
    ]
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
    rating: int | None = Field(None, description="Kepuasan 1-5 yang diberikan pelapor bersama konfirmasinya")
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
    proof_photo_urls: list[str] = Field(
        [], description="Foto bukti penyelesaian dari OPD (tautan bertanda tangan, berlaku singkat)"
    )
    reporter_name: str | None = Field(None, description="Nama pelapor, hanya bila pelapor memilih show_name")
    support_count: int = Field(0, description='Warga yang menyatakan "Saya juga mengalami"')
    # Owner only:
    channel: str | None = None
    incident_date: date | None = None
    anonymous: bool | None = None
    show_name: bool | None = None
    confidential: bool | None = None
    reporter: ReporterView | None = None
    messages: list[MessageView] = []
    return_note: str | None = Field(
        None, description="Catatan Admin Pengaduan: apa yang perlu dilengkapi (laporan dikembalikan)"
    )
    supplement_due_at: datetime | None = Field(None, description="Batas waktu melengkapi laporan yang dikembalikan")
    confirmation_due_at: datetime | None = Field(None, description="Batas waktu menerima atau menolak hasil")


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
    support_count: int = Field(0, description='Warga yang menyatakan "Saya juga mengalami"')
    # The public feed only: the first photo's small copy (a signed, short-lived link) and the point, for its map.
    photo_url: str | None = Field(None, description="Foto pertama laporan, ukuran kecil (tautan bertanda tangan)")
    latitude: float | None = None
    longitude: float | None = None


class Page(BaseModel):
    page: int
    page_size: int
    total: int


class ReportPage(Page):
    items: list[ReportSummary]
