"""lapor.replies on its own: a reply's status is checked before its photos are decoded; a confirmation once per
round; only what the engine needs is queued for it."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lapor import intake, replies, uploads
from lapor.models import Photo, Report, ReportMessage, ReportStatus
from lapor.refusals import Kind

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
NOT_AN_IMAGE = b"\x89PNG this would fail to decode"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def rules(tmp_path: Path) -> intake.PhotoRules:
    return intake.PhotoRules(upload_dir=tmp_path)


@pytest.fixture
def session(db_engine: Engine) -> Session:
    with Session(db_engine, expire_on_commit=False) as session:
        yield session  # type: ignore[misc]


def a_report(session: Session, rules: intake.PhotoRules, status: ReportStatus) -> Report:
    data = intake.ReportData(
        title="Drainase tersumbat",
        description="Air meluap ke jalan setiap hujan.",
        category="DRAINASE",
        kecamatan="61.71.01",
        kelurahan="61.71.01.1002",
        address="Jl. Gajah Mada",
    )
    report = intake.accept(session, intake.IntakeRequest(data, channel="web"), rules=rules, now=NOW).report
    report.status = status.value
    session.commit()
    return report


def test_a_supplement_in_the_wrong_status_is_refused_before_its_photos_are_decoded(
    session: Session, rules: intake.PhotoRules
) -> None:
    report = a_report(session, rules, ReportStatus.TERVERIFIKASI)
    with pytest.raises(replies.InvalidState) as refused:
        replies.supplement(session, report=report, text="Foto", photos=(NOT_AN_IMAGE,), rules=rules, now=NOW)
    assert refused.value.kind is Kind.CONFLICT
    assert refused.value.details == {"status": "TERVERIFIKASI", "allowed": ["DIKEMBALIKAN"]}


def test_a_supplement_with_too_many_photos_is_refused_before_decoding(
    session: Session, rules: intake.PhotoRules
) -> None:
    report = a_report(session, rules, ReportStatus.DIKEMBALIKAN)
    with pytest.raises(intake.TooManyFiles):
        photos = (NOT_AN_IMAGE,) * (uploads.MAX_FILES + 1)
        replies.supplement(session, report=report, text="Foto", photos=photos, rules=rules, now=NOW)


def test_a_supplement_keeps_its_text_and_photos_and_queues_the_message(
    session: Session, rules: intake.PhotoRules
) -> None:
    report = a_report(session, rules, ReportStatus.DIKEMBALIKAN)
    reply = replies.supplement(session, report=report, text="Ini fotonya", photos=(jpeg(),), rules=rules, now=NOW)
    session.commit()
    assert reply.photos == 1
    message = session.scalars(select(ReportMessage)).one()
    assert session.scalars(select(Photo.message_id)).one() == message.id
    sent = replies.sent_reply(session, report)
    assert sent is not None and sent.is_supplement


def test_a_confirmation_is_taken_once_per_round(session: Session, rules: intake.PhotoRules) -> None:
    report = a_report(session, rules, ReportStatus.MENUNGGU_KONFIRMASI)
    replies.confirm(session, report=report, accepted=False, rating=2, comment="Belum beres", now=NOW)
    session.commit()
    with pytest.raises(replies.AlreadyAnswered):
        replies.confirm(session, report=report, accepted=True, rating=None, comment=None, now=NOW)
    sent = replies.sent_reply(session, report)
    assert sent is not None and sent.accepted is False
    assert session.scalar(select(func.count(ReportMessage.id))) == 1
