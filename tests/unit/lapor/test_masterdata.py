"""Integrity tests of the bundled master data and its loaders."""

import dataclasses
import re
from collections import Counter

import pytest

from lapor.masterdata import (
    KOTA_CODE,
    MasterDataError,
    OpdKind,
    category_list,
    check_location,
    get_category,
    get_kecamatan,
    get_kelurahan,
    get_opd,
    kecamatan_list,
    kelurahan_list,
    opd_list,
)

KECAMATAN_CODE = re.compile(r"61\.71\.\d{2}")
# Kemendagri numbers kelurahan from 1001 and desa from 2001; a city has only kelurahan.
KELURAHAN_CODE = re.compile(r"61\.71\.\d{2}\.1\d{3}")
OPD_CODE = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*")
CATEGORY_CODE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
EMAIL = re.compile(r"[a-z0-9.-]+@[a-z0-9-]+(\.[a-z0-9-]+)+")


def test_six_kecamatan() -> None:
    names = {k.name for k in kecamatan_list()}
    assert names == {
        "Pontianak Selatan",
        "Pontianak Timur",
        "Pontianak Barat",
        "Pontianak Utara",
        "Pontianak Kota",
        "Pontianak Tenggara",
    }


def test_twenty_nine_kelurahan() -> None:
    assert len(kelurahan_list()) == 29
    per_kecamatan = Counter(get_kecamatan(k.kecamatan_code).name for k in kelurahan_list())
    assert per_kecamatan == {
        "Pontianak Selatan": 5,
        "Pontianak Timur": 7,
        "Pontianak Barat": 4,
        "Pontianak Utara": 4,
        "Pontianak Kota": 5,
        "Pontianak Tenggara": 4,
    }


def test_every_kelurahan_parent_exists() -> None:
    kecamatan_codes = {k.code for k in kecamatan_list()}
    for kelurahan in kelurahan_list():
        assert kelurahan.kecamatan_code in kecamatan_codes
        assert kelurahan.code.startswith(kelurahan.kecamatan_code + ".")


def test_wilayah_codes_unique_and_well_formed() -> None:
    kecamatan_codes = [k.code for k in kecamatan_list()]
    kelurahan_codes = [k.code for k in kelurahan_list()]
    assert len(set(kecamatan_codes)) == len(kecamatan_codes)
    assert len(set(kelurahan_codes)) == len(kelurahan_codes)
    assert all(KECAMATAN_CODE.fullmatch(c) and c.startswith(KOTA_CODE + ".") for c in kecamatan_codes)
    assert all(KELURAHAN_CODE.fullmatch(c) for c in kelurahan_codes)
    names = [k.name for k in kelurahan_list()]
    assert len(set(names)) == len(names)


def test_kelurahan_list_filtered_by_kecamatan() -> None:
    timur = kelurahan_list("61.71.02")
    assert len(timur) == 7
    assert {k.kecamatan_code for k in timur} == {"61.71.02"}
    with pytest.raises(MasterDataError):
        kelurahan_list("61.71.99")


def test_opd_codes_and_candidate_groups() -> None:
    opds = opd_list()
    codes = [o.code for o in opds]
    assert len(set(codes)) == len(codes)
    for opd in opds:
        assert OPD_CODE.fullmatch(opd.code), opd.code
        assert opd.candidate_group == "opd-" + opd.code.lower()
        assert opd.name and opd.short_name
    groups = [o.candidate_group for o in opds]
    assert len(set(groups)) == len(groups)


def test_opd_expected_members() -> None:
    codes = {o.code for o in opd_list()}
    assert {
        "PUPR",
        "DLH",
        "DISHUB",
        "DINKES",
        "DISDIKBUD",
        "DISDUKCAPIL",
        "SATPOLPP",
        "DINSOS",
        "DISPERKIM",
        "BAPENDA",
        "DISKOMINFO",
        "PDAM",
    } <= codes
    kecamatan_offices = [o for o in opd_list() if o.kind is OpdKind.KECAMATAN]
    assert len(kecamatan_offices) == len(kecamatan_list()) == 6
    assert get_opd("KEC-PTK-BARAT").candidate_group == "opd-kec-ptk-barat"


def test_every_opd_has_its_own_email() -> None:
    emails = [o.email for o in opd_list()]
    assert len(set(emails)) == len(emails)
    for opd in opd_list():
        assert EMAIL.fullmatch(opd.email), opd.email
    # Placeholders until the city confirms the liaison inboxes (see SOURCES.md).
    assert get_opd("PUPR").email == "pupr@pontianak.go.id"


def test_only_pdam_is_bumd() -> None:
    assert [o.code for o in opd_list() if o.is_bumd] == ["PDAM"]
    assert not get_opd("PUPR").is_bumd


def test_every_category_default_opd_exists() -> None:
    categories = category_list()
    assert 12 <= len(categories) <= 16
    codes = [c.code for c in categories]
    assert len(set(codes)) == len(codes)
    for category in categories:
        assert CATEGORY_CODE.fullmatch(category.code), category.code
        assert get_opd(category.default_opd).code == category.default_opd


def test_category_routing_examples() -> None:
    assert get_category("JALAN").default_opd == "PUPR"
    assert get_category("DRAINASE").default_opd == "PUPR"
    assert get_category("SAMPAH").default_opd == "DLH"
    assert get_category("LAMPU_JALAN").default_opd == "DISHUB"
    assert get_category("AIR_BERSIH").default_opd == "PDAM"
    assert get_category("KETERTIBAN").default_opd == "SATPOLPP"
    assert get_category("LAINNYA").default_opd == "DISKOMINFO"


def test_check_location_accepts_real_pair() -> None:
    kelurahan = check_location("61.71.03", "61.71.03.1001")
    assert (kelurahan.name, kelurahan.official_name) == ("Pal Lima", "Pallima")
    assert kelurahan == get_kelurahan("61.71.03.1001")


def test_kelurahan_names_as_pontianak_writes_them_with_the_kemendagri_spelling_kept() -> None:
    shown = {k.official_name: k.name for k in kelurahan_list()}
    assert {official: shown[official] for official in ("Sungaibangkong", "Daratsekip", "Parittokaya", "Kotabaru")} == {
        "Sungaibangkong": "Sungai Bangkong",
        "Daratsekip": "Darat Sekip",
        "Parittokaya": "Parit Tokaya",
        "Kotabaru": "Kota Baru",
    }
    assert {
        "Benua Melayu Darat", "Benua Melayu Laut", "Sungai Jawi Dalam", "Sungai Jawi Luar", "Sungai Beliung",
        "Siantan Hulu", "Siantan Tengah", "Siantan Hilir", "Batu Layang", "Tanjung Hulu", "Tanjung Hilir",
        "Parit Mayor", "Bangka Belitung Darat", "Bangka Belitung Laut", "Akcaya", "Mariana", "Tengah",
        "Dalam Bugis", "Tambelan Sampit", "Banjar Serasan", "Saigon", "Pal Lima", "Sungai Jawi",
    } <= set(shown.values())  # fmt: skip
    # Only spaces differ: SMS 1708 and Open311 find a kelurahan by its name without spaces, either spelling.
    for kelurahan in kelurahan_list():
        assert kelurahan.name.replace(" ", "").lower() == kelurahan.official_name.replace(" ", "").lower()
    assert all(k.name == k.official_name for k in kecamatan_list())
    assert get_kelurahan("61.71.05.1001").official_name == "Sungaibangkong"  # the code stays Kemendagri's


def test_check_location_rejects_mismatched_pair() -> None:
    # Pal Lima is in Pontianak Barat, not Pontianak Selatan.
    with pytest.raises(MasterDataError, match="tidak berada di Kecamatan Pontianak Selatan"):
        check_location("61.71.01", "61.71.03.1001")


def test_check_location_rejects_unknown_codes() -> None:
    with pytest.raises(MasterDataError, match="Kelurahan"):
        check_location("61.71.01", "61.71.01.1001")  # 1001 is not used in Pontianak Selatan
    with pytest.raises(MasterDataError, match="Kecamatan"):
        check_location("61.71.07", "61.71.03.1001")


def test_master_data_error_is_value_error() -> None:
    assert issubclass(MasterDataError, ValueError)
    with pytest.raises(ValueError):
        get_opd("TIDAK-ADA")
    with pytest.raises(ValueError):
        get_category("TIDAK_ADA")


def test_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_opd("PUPR").name = "x"  # type: ignore[misc]
