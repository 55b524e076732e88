"""Versioned master data of Kota Pontianak: wilayah, OPD and report categories (see SOURCES.md)."""

import csv
import enum
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Protocol, TypeVar

__all__ = [
    "KOTA_CODE",
    "Category",
    "Kecamatan",
    "Kelurahan",
    "MasterData",
    "MasterDataError",
    "Opd",
    "OpdKind",
    "categories_changed_at",
    "category_list",
    "check_location",
    "get_category",
    "get_kecamatan",
    "get_kelurahan",
    "get_opd",
    "kecamatan_list",
    "kelurahan_list",
    "opd_list",
    "read_master_data",
]

# Kemendagri code of Kota Pontianak; every kecamatan row must point to it.
KOTA_CODE = "61.71"

_T = TypeVar("_T")
# Shape check only: catches a shifted column or a typo such as a missing "@", not whether the inbox exists.
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}")


class MasterDataError(ValueError):
    """A code is unknown, inconsistent with other master data, or a data file is malformed."""


class OpdKind(enum.StrEnum):
    """Kind of organisation that handles complaints."""

    PERANGKAT_DAERAH = "perangkat_daerah"
    KECAMATAN = "kecamatan"
    BUMD = "bumd"


@dataclass(frozen=True, slots=True)
class Kecamatan:
    """A kecamatan (district) of Kota Pontianak: `name` as the city writes it, `official_name` as Kemendagri does."""

    code: str
    name: str
    official_name: str


@dataclass(frozen=True, slots=True)
class Kelurahan:
    """A kelurahan (urban village) and its kecamatan: `name` as the city writes it ("Sungai Bangkong", shown
    everywhere), `official_name` as the Kemendagri list does ("Sungaibangkong", kept to diff against it)."""

    code: str
    name: str
    official_name: str
    kecamatan_code: str


@dataclass(frozen=True, slots=True)
class Opd:
    """An organisation that follows up complaints, with its Tasklist candidate group and liaison inbox."""

    code: str
    name: str
    short_name: str
    candidate_group: str
    kind: OpdKind
    email: str  # inbox of the Pejabat Penghubung, where dispositions and reminders go

    @property
    def is_bumd(self) -> bool:
        """Whether this is a regional-owned enterprise rather than part of the city government."""
        return self.kind is OpdKind.BUMD


@dataclass(frozen=True, slots=True)
class Category:
    """A report category a citizen can pick, with the OPD it is routed to by default."""

    code: str
    name: str
    default_opd: str


@dataclass(frozen=True, slots=True)
class _Wilayah:
    kecamatan: dict[str, Kecamatan]
    kelurahan: dict[str, Kelurahan]


@dataclass(frozen=True, slots=True)
class MasterData:
    """The three files of one master-data folder, each in file order (the bundled one, or a copy in a test)."""

    opds: tuple[Opd, ...]
    categories: tuple[Category, ...]
    kecamatan: tuple[Kecamatan, ...]


def _bundled() -> Traversable:
    return resources.files(__name__)


def _read_csv(directory: Traversable, filename: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a CSV file of the folder and check that its header is exactly the expected columns."""
    text = directory.joinpath(filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        raise MasterDataError(f"{filename}: expected columns {columns}, found {reader.fieldnames}")
    rows: list[dict[str, str]] = []
    for line_no, row in enumerate(reader, start=2):
        # A short row leaves None values; a long row adds a None key. Both mean a broken file.
        if None in row or any(value is None for value in row.values()):
            raise MasterDataError(f"{filename}:{line_no}: wrong number of fields")
        cleaned = {key: value.strip() for key, value in row.items()}
        if not all(cleaned.values()):
            raise MasterDataError(f"{filename}:{line_no}: empty field in {cleaned}")
        rows.append(cleaned)
    return rows


def _put_unique(target: dict[str, _T], code: str, item: _T, filename: str) -> None:
    """Insert an item, refusing duplicate codes so a copy-paste error in the data cannot hide a row."""
    if code in target:
        raise MasterDataError(f"{filename}: duplicate code {code!r}")
    target[code] = item


@functools.cache
def _wilayah() -> _Wilayah:
    """Load the bundled wilayah.csv once."""
    return _load_wilayah(_bundled())


def _load_wilayah(directory: Traversable) -> _Wilayah:
    filename = "wilayah.csv"
    kecamatan: dict[str, Kecamatan] = {}
    kelurahan: dict[str, Kelurahan] = {}
    for row in _read_csv(directory, filename, ("code", "name", "official_name", "level", "parent_code")):
        code, name, official, level, parent = (
            row[column] for column in ("code", "name", "official_name", "level", "parent_code")
        )
        if level == "kecamatan":
            if parent != KOTA_CODE:
                raise MasterDataError(f"{filename}: kecamatan {code} has parent {parent}, not {KOTA_CODE}")
            _put_unique(kecamatan, code, Kecamatan(code=code, name=name, official_name=official), filename)
        elif level == "kelurahan":
            place = Kelurahan(code=code, name=name, official_name=official, kecamatan_code=parent)
            _put_unique(kelurahan, code, place, filename)
        else:
            raise MasterDataError(f"{filename}: unknown level {level!r} for {code}")
    orphans = sorted(k.code for k in kelurahan.values() if k.kecamatan_code not in kecamatan)
    if orphans:
        raise MasterDataError(f"{filename}: kelurahan with unknown kecamatan: {orphans}")
    return _Wilayah(kecamatan=kecamatan, kelurahan=kelurahan)


@functools.cache
def _opd() -> dict[str, Opd]:
    """Load the bundled opd.csv once."""
    return _load_opd(_bundled())


def _load_opd(directory: Traversable) -> dict[str, Opd]:
    filename = "opd.csv"
    result: dict[str, Opd] = {}
    for row in _read_csv(directory, filename, ("code", "name", "short_name", "candidate_group", "kind", "email")):
        try:
            kind = OpdKind(row["kind"])
        except ValueError:
            raise MasterDataError(f"{filename}: unknown kind {row['kind']!r} for {row['code']}") from None
        if not _EMAIL.fullmatch(row["email"]):
            raise MasterDataError(f"{filename}: invalid email {row['email']!r} for {row['code']}")
        opd = Opd(
            code=row["code"],
            name=row["name"],
            short_name=row["short_name"],
            candidate_group=row["candidate_group"],
            kind=kind,
            email=row["email"],
        )
        _put_unique(result, opd.code, opd, filename)
    return result


@functools.cache
def _categories() -> dict[str, Category]:
    """Load the bundled categories.csv once."""
    return _load_categories(_bundled())


def _load_categories(directory: Traversable) -> dict[str, Category]:
    filename = "categories.csv"
    result: dict[str, Category] = {}
    for row in _read_csv(directory, filename, ("code", "name", "default_opd")):
        category = Category(code=row["code"], name=row["name"], default_opd=row["default_opd"])
        _put_unique(result, category.code, category, filename)
    return result


def read_master_data(directory: Traversable | None = None) -> MasterData:
    """The OPD, categories and kecamatan of a master-data folder (the bundled one by default), read afresh."""
    if directory is None:
        return MasterData(opds=opd_list(), categories=category_list(), kecamatan=kecamatan_list())
    return MasterData(
        opds=tuple(_load_opd(directory).values()),
        categories=tuple(_load_categories(directory).values()),
        kecamatan=tuple(_load_wilayah(directory).kecamatan.values()),
    )


def categories_changed_at() -> datetime:
    """When this installation's categories.csv last changed: Open311's changeset for its service list."""
    with resources.as_file(resources.files(__package__) / "categories.csv") as path:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def kecamatan_list() -> tuple[Kecamatan, ...]:
    """All kecamatan in file order."""
    return tuple(_wilayah().kecamatan.values())


def get_kecamatan(code: str) -> Kecamatan:
    """The kecamatan with this code; MasterDataError if unknown."""
    try:
        return _wilayah().kecamatan[code]
    except KeyError:
        raise MasterDataError(f"Kecamatan dengan kode {code!r} tidak dikenal") from None


def kelurahan_list(kecamatan_code: str | None = None) -> tuple[Kelurahan, ...]:
    """All kelurahan in file order, or only those of one kecamatan (MasterDataError if it is unknown)."""
    everything = _wilayah().kelurahan.values()
    if kecamatan_code is None:
        return tuple(everything)
    get_kecamatan(kecamatan_code)
    return tuple(k for k in everything if k.kecamatan_code == kecamatan_code)


def get_kelurahan(code: str) -> Kelurahan:
    """The kelurahan with this code; MasterDataError if unknown."""
    try:
        return _wilayah().kelurahan[code]
    except KeyError:
        raise MasterDataError(f"Kelurahan dengan kode {code!r} tidak dikenal") from None


def check_location(kecamatan_code: str, kelurahan_code: str) -> Kelurahan:
    """Validate a kecamatan/kelurahan pair from a report and return the kelurahan."""
    kecamatan = get_kecamatan(kecamatan_code)
    kelurahan = get_kelurahan(kelurahan_code)
    if kelurahan.kecamatan_code != kecamatan.code:
        actual = get_kecamatan(kelurahan.kecamatan_code)
        raise MasterDataError(
            f"Kelurahan {kelurahan.name} ({kelurahan.code}) tidak berada di Kecamatan {kecamatan.name} "
            f"({kecamatan.code}), melainkan di Kecamatan {actual.name} ({actual.code})"
        )
    return kelurahan


def opd_list() -> tuple[Opd, ...]:
    """All OPD in file order."""
    return tuple(_opd().values())


def get_opd(code: str) -> Opd:
    """The OPD with this code; MasterDataError if unknown."""
    try:
        return _opd()[code]
    except KeyError:
        raise MasterDataError(f"OPD dengan kode {code!r} tidak dikenal") from None


def category_list() -> tuple[Category, ...]:
    """All report categories in file order."""
    return tuple(_categories().values())


def get_category(code: str) -> Category:
    """The report category with this code; MasterDataError if unknown."""
    try:
        return _categories()[code]
    except KeyError:
        raise MasterDataError(f"Kategori dengan kode {code!r} tidak dikenal") from None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def name_of(lookup: Callable[[str], _Named], code: str) -> str | None:
    """The name a lookup (get_category, get_kecamatan, ...) gives a code; None when the master data does not (or no
    longer does) know it, so a report older than a master-data change still reads."""
    try:
        return lookup(code).name
    except MasterDataError:
        return None
