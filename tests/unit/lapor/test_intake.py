"""lapor.intake on its own: the order of refusals (nothing costly before the cheap checks), what one accepted
request writes in its one transaction, and idempotency on an external reference."""

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lapor import intake, uploads
from lapor.models import AuditEntry, OutboxMessage, Photo, Report, Reporter
from lapor.refusals import Kind
from lapor.vocabulary import ReportType

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
KECAMATAN, KELURAHAN = "61.71.01", "61.71.01.1002"
NOT_AN_IMAGE = b"\xff\xd8 this would fail to decode"  # proof that a refusal came before any decoding


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, format="JPEG")
    return out.getvalue()


def data(**changes: object) -> intake.ReportData:
    base = intake.ReportData(
        title="Lampu jalan mati",
        description="Lampu jalan di depan masjid mati sejak seminggu.",
        category="LAMPU_JALAN",
        kecamatan=KECAMATAN,
        kelurahan=KELURAHAN,
        address="Jl. Tanjungpura No. 1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def request(**changes: object) -> intake.IntakeRequest:
    return replace(intake.IntakeRequest(data(), channel="web"), **changes)  # type: ignore[arg-type]


@pytest.fixture
def rules(tmp_path: Path) -> intake.PhotoRules:
    return intake.PhotoRules(upload_dir=tmp_path / "uploads")


@pytest.fixture
def session(db_engine: Engine) -> Session:
    with Session(db_engine, expire_on_commit=False) as session:
        yield session  # type: ignore[misc]


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- the order of refusals: each cheaper check refuses before a costlier one runs ---------------------------------
def test_an_unknown_location_is_refused_without_decoding_a_photo(session: Session, rules: intake.PhotoRules) -> None:
    bad = request(data=data(kelurahan="61.71.99.9999"), photos=(NOT_AN_IMAGE,) * 5)
    with pytest.raises(intake.UnknownLocation) as refused:
        intake.accept(session, bad, rules=rules, now=NOW)
    assert refused.value.code == "unknown_location"
    assert refused.value.details == {"fields": ["kecamatan", "kelurahan"]}
    assert count(session, Report) == 0


def test_a_kelurahan_outside_its_kecamatan_is_an_unknown_location(session: Session, rules: intake.PhotoRules) -> None:
    with pytest.raises(intake.UnknownLocation):
        intake.accept(session, request(data=data(kecamatan="61.71.02")), rules=rules, now=NOW)


def test_an_unknown_category_is_refused_before_the_location_and_the_photos(
    session: Session, rules: intake.PhotoRules
) -> None:
    bad = request(data=data(category="TIDAK_ADA", kelurahan="61.71.99.9999"), photos=(NOT_AN_IMAGE,))
    with pytest.raises(intake.UnknownCategory):
        intake.accept(session, bad, rules=rules, now=NOW)


def test_too_many_photos_are_refused_before_the_master_data(session: Session, rules: intake.PhotoRules) -> None:
    bad = request(data=data(category="TIDAK_ADA"), photos=(NOT_AN_IMAGE,) * (uploads.MAX_FILES + 1))
    with pytest.raises(intake.TooManyFiles) as refused:
        intake.accept(session, bad, rules=rules, now=NOW)
    assert refused.value.details == {"max_files": uploads.MAX_FILES}


def test_a_channel_that_requires_photos_is_refused_without_one(session: Session, rules: intake.PhotoRules) -> None:
    with pytest.raises(intake.PhotosRequired):
        intake.accept(session, request(photos_required=True), rules=rules, now=NOW)


def test_an_incident_date_in_the_future_is_refused_without_decoding_a_photo(
    session: Session, rules: intake.PhotoRules
) -> None:
    bad = request(data=data(incident_date=date(2026, 11, 17)), photos=(NOT_AN_IMAGE,))
    with pytest.raises(intake.InvalidIncidentDate):
        intake.accept(session, bad, rules=rules, now=NOW)
    # Today in Pontianak is fine.
    intake.check(request(data=data(incident_date=date(2026, 11, 16))), NOW)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "Jalan \u202erusak"}, "title"),
        ({"address": "Jl. Gajah Mada\nNo. 1"}, "address"),
        ({"description": "Sampah menumpuk \u200b di sini"}, "description"),
    ],
)
def test_invisible_or_control_characters_are_refused_without_decoding_a_photo(
    session: Session, rules: intake.PhotoRules, changes: dict[str, str], field: str
) -> None:
    with pytest.raises(intake.InvalidText) as refused:
        intake.accept(session, request(data=data(**changes), photos=(NOT_AN_IMAGE,)), rules=rules, now=NOW)
    assert refused.value.details["field"] == field
    assert count(session, Report) == 0


def test_a_contact_name_with_a_direction_override_is_refused(session: Session, rules: intake.PhotoRules) -> None:
    contact = intake.Contact(name="Budi \u202eoknoS", phone="+6281234567890")
    with pytest.raises(intake.InvalidText):
        intake.accept(session, request(channel="staff", contact=contact), rules=rules, now=NOW)


def test_a_description_keeps_its_line_breaks(session: Session, rules: intake.PhotoRules) -> None:
    description = "Baris pertama.\nBaris kedua,\tdengan tab."
    accepted = intake.accept(session, request(data=data(description=description)), rules=rules, now=NOW)
    assert accepted.report.description == description


def test_a_photo_that_is_not_one_is_refused_after_the_cheap_checks_and_nothing_is_written(
    session: Session, rules: intake.PhotoRules
) -> None:
    with pytest.raises(intake.PhotoUnsupported) as refused:
        intake.accept(session, request(photos=(jpeg(), NOT_AN_IMAGE)), rules=rules, now=NOW)
    assert refused.value.kind is Kind.UNSUPPORTED
    assert refused.value.details == {"file_index": 1}
    assert (count(session, Report), count(session, Photo), count(session, OutboxMessage)) == (0, 0, 0)


def test_a_photo_over_the_pixel_limit_is_too_large(session: Session, tmp_path: Path) -> None:
    small_limit = intake.PhotoRules(upload_dir=tmp_path, max_pixels=100, max_jpeg_pixels=200)
    with pytest.raises(intake.PhotoTooLarge) as refused:
        intake.accept(session, request(photos=(jpeg(),)), rules=small_limit, now=NOW)
    assert refused.value.kind is Kind.TOO_LARGE
    assert refused.value.details["max_pixels"] == 100 and refused.value.details["max_jpeg_pixels"] == 200
    assert refused.value.message.startswith("Foto ke-1 melebihi 40 MB")


# -- what an accepted request writes --------------------------------------------------------------------------------
def test_one_request_writes_the_report_its_photos_the_audit_entry_and_the_start_command(
    session: Session, rules: intake.PhotoRules
) -> None:
    reporter = Reporter(name="Siti Aminah", email="siti@example.id", verified_at=NOW, created_at=NOW)
    session.add(reporter)
    session.commit()
    given = request(
        data=data(incident_date=date(2026, 11, 15), latitude=-0.03, longitude=109.34, show_name=True),
        reporter_id=reporter.id,
        origin=intake.Origin(source="open311"),
        photos=(jpeg("red"), jpeg("blue"), jpeg("red")),
        media_url="https://contoh.id/foto.jpg",
    )
    accepted = intake.accept(session, given, rules=rules, now=NOW)
    assert (accepted.duplicate, accepted.photos) == (False, 2)  # the same photo twice is kept once
    session.expire_all()
    report = session.scalars(select(Report)).one()
    assert (report.reporter_id, report.channel, report.source, report.media_url) == (
        reporter.id,
        "web",
        "open311",
        "https://contoh.id/foto.jpg",
    )
    assert (report.incident_date, report.latitude, report.longitude) == (date(2026, 11, 15), -0.03, 109.34)
    assert report.show_reporter_name is True
    assert count(session, Photo) == 2
    assert all(
        uploads.path_of(rules.upload_dir, p.sha256, p.content_type).exists() for p in session.scalars(select(Photo))
    )
    start = session.scalars(select(OutboxMessage)).one()
    assert start.payload["business_key"] == report.tracking_id
    assert session.scalars(select(AuditEntry.action)).all() == ["report_received"]


def test_anonymous_wins_over_showing_the_name(session: Session, rules: intake.PhotoRules) -> None:
    accepted = intake.accept(session, request(data=data(anonymous=True, show_name=True)), rules=rules, now=NOW)
    assert accepted.report.show_reporter_name is False


def test_already_decoded_photos_are_not_decoded_again(session: Session, rules: intake.PhotoRules) -> None:
    image = uploads.clean_image(jpeg())
    accepted = intake.accept(session, request(photos=(image,)), rules=rules, now=NOW)
    assert accepted.photos == 1
    assert session.scalars(select(Photo.sha256)).one() == image.sha256


def test_an_unplaced_report_needs_no_location_but_only_as_lainnya(session: Session, rules: intake.PhotoRules) -> None:
    unplaced = intake.ReportData.unplaced(
        title="Sampah", description="Sampah menumpuk", report_type=ReportType.ASPIRASI
    )
    accepted = intake.accept(session, request(data=unplaced, channel="sms1708"), rules=rules, now=NOW)
    assert (accepted.report.category, accepted.report.kelurahan_code, accepted.report.report_type) == (
        "LAINNYA",
        "",
        "aspirasi",
    )
    with pytest.raises(intake.UnknownLocation):  # an empty place with any other category is not "unplaced"
        intake.check(request(data=replace(unplaced, category="SAMPAH")), NOW)


# -- idempotency and contacts -----------------------------------------------------------------------------------------
def test_an_external_reference_sent_again_answers_the_first_report(session: Session, rules: intake.PhotoRules) -> None:
    national = request(channel="national", origin=intake.Origin(source="sp4n-lapor", external_ref="national:123"))
    first = intake.accept(session, national, rules=rules, now=NOW)
    again = intake.accept(session, national, rules=rules, now=NOW)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.report.tracking_id == first.report.tracking_id
    assert (count(session, Report), count(session, OutboxMessage), count(session, AuditEntry)) == (1, 1, 1)


def test_a_contact_finds_the_reporter_by_phone_or_creates_one(session: Session, rules: intake.PhotoRules) -> None:
    contact = intake.Contact(name="Pelapor SMS 1708", phone="+6281234567890")
    first = intake.accept(session, request(channel="sms1708", contact=contact), rules=rules, now=NOW)
    second = intake.accept(session, request(channel="sms1708", contact=contact), rules=rules, now=NOW)
    assert first.report.reporter_id is not None
    assert second.report.reporter_id == first.report.reporter_id
    assert session.get(Reporter, first.report.reporter_id).verified_at is None  # type: ignore[union-attr]


def test_a_contact_naming_two_reporters_is_a_conflict_and_writes_nothing(
    session: Session, rules: intake.PhotoRules
) -> None:
    session.add_all(
        [
            Reporter(name="A", email="a@example.id", created_at=NOW),
            Reporter(name="B", phone="+6281111111111", created_at=NOW),
        ]
    )
    session.commit()
    both = intake.Contact(name="C", email="a@example.id", phone="+6281111111111")
    with pytest.raises(intake.IdentityConflict) as refused:
        intake.accept(session, request(channel="staff", contact=both), rules=rules, now=NOW)
    assert refused.value.kind is Kind.CONFLICT
    assert (count(session, Report), count(session, Reporter)) == (0, 2)
