"""lapor.personal_data: a reporter's export holds exactly their data (anonymous and confidential reports included)
and nobody else's; consent choices are recorded at intake with their time; exports and identity reads go on the
reporter's own audit chain, which verifies and names a changed entry."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from lapor import audit, data_request, intake, personal_data, reporter_audit
from lapor.audit import AuditActor
from lapor.models import (
    ConsentRecord,
    MessageKind,
    Notification,
    RegistrationCode,
    Report,
    Reporter,
    ReporterAuditEntry,
    ReporterToken,
    ReportFollower,
    ReportMessage,
    ReportSupport,
)
from lapor.vocabulary import FOLLOWER

NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, format="JPEG")
    return out.getvalue()


def report_data(title: str, **options: bool) -> intake.ReportData:
    return intake.ReportData(
        title=title,
        description=f"Uraian {title}",
        category="LAMPU_JALAN",
        kecamatan="61.71.01",
        kelurahan="61.71.01.1002",
        address="Jl. Tanjungpura No. 1",
        **options,
    )


@pytest.fixture
def session(db_engine: Engine) -> Session:
    with Session(db_engine, expire_on_commit=False) as session:
        yield session  # type: ignore[misc]


@pytest.fixture
def rules(tmp_path: Path) -> intake.PhotoRules:
    return intake.PhotoRules(upload_dir=tmp_path / "uploads")


def reporter(session: Session, name: str, email: str, phone: str) -> Reporter:
    person = Reporter(name=name, email=email, phone=phone, verified_at=NOW, created_at=NOW)
    session.add(person)
    session.flush()
    session.add(
        ReporterToken(
            reporter_id=person.id, token_hash=name[:8].ljust(64, "0"), created_at=NOW, expires_at=NOW + timedelta(1)
        )
    )
    session.add(
        RegistrationCode(
            public_id=f"reg-{person.id}",
            name=name,
            email=email,
            code_hash="0" * 64,
            expires_at=NOW,
            created_at=NOW,
            verified_at=NOW,
        )
    )
    session.add(
        Notification(
            idempotency_key=f"registration:reg-{person.id}:email",
            template="kode_verifikasi",
            recipient_kind="pelapor",
            channel="email",
            state="sent",
            created_at=NOW,
            sent_at=NOW,
        )
    )
    return person


def file_report(
    session: Session, rules: intake.PhotoRules, person: Reporter, title: str, color: str, **options: bool
) -> Report:
    request = intake.IntakeRequest(
        report_data(title, **options), channel="web", reporter_id=person.id, photos=(jpeg(color),)
    )
    report = intake.accept(session, request, rules=rules, now=NOW).report
    session.add(
        ReportMessage(
            report_id=report.id,
            author="pelapor",
            kind=MessageKind.CONFIRMATION.value,
            text=f"Terima kasih, {title} beres",
            accepted=True,
            rating=4,
            created_at=NOW,
        )
    )
    session.add(
        Notification(
            idempotency_key=f"task-{report.tracking_id}",
            report_id=report.id,
            template="laporan_diterima",
            recipient_kind="pelapor",
            channel="email",
            state="sent",
            created_at=NOW,
            sent_at=NOW,
        )
    )
    session.commit()
    return report


@pytest.fixture
def two_reporters(session: Session, rules: intake.PhotoRules) -> tuple[Reporter, Reporter, list[str], list[str]]:
    siti = reporter(session, "Siti Rahmawati", "siti@example.id", "+6281299990001")
    andi = reporter(session, "Andi Pratama", "andi@example.id", "+6281299990002")
    # Someone typed Siti's address at a registration nobody proved: not hers to receive (it holds another name).
    session.add(
        RegistrationCode(
            public_id="reg-penyusup",
            name="Penyusup",
            email="siti@example.id",
            code_hash="0" * 64,
            expires_at=NOW,
            created_at=NOW,
        )
    )
    session.commit()
    mine = [
        file_report(session, rules, siti, "Lampu mati Siti", "red", show_name=True).tracking_id,
        file_report(session, rules, siti, "Anonim Siti", "green", anonymous=True).tracking_id,
        file_report(session, rules, siti, "Rahasia Siti", "blue", confidential=True).tracking_id,
    ]
    theirs = [file_report(session, rules, andi, "Lampu mati Andi", "yellow").tracking_id]
    return siti, andi, mine, theirs


def test_the_export_holds_exactly_the_reporters_data(
    session: Session, rules: intake.PhotoRules, two_reporters: tuple[Reporter, Reporter, list[str], list[str]]
) -> None:
    siti, andi, mine, theirs = two_reporters
    personal = personal_data.collect(session, siti, upload_dir=rules.upload_dir, now=NOW)
    data = personal.data
    assert data["identity"]["name"] == "Siti Rahmawati"
    assert data["identity"]["email"] == "siti@example.id"
    assert [r["tracking_id"] for r in data["reports"]] == mine  # the anonymous and the confidential one included
    assert {(r["title"], r["anonymous"], r["confidential"], r["show_name"]) for r in data["reports"]} == {
        ("Lampu mati Siti", False, False, True),
        ("Anonim Siti", True, False, False),
        ("Rahasia Siti", False, True, False),
    }
    assert all(r["messages"][0]["text"].startswith("Terima kasih") for r in data["reports"])
    assert [r["rating"] for r in data["ratings"]] == [4, 4, 4]
    assert len(data["sign_ins"]) == 1 and "token_hash" not in json.dumps(data)
    assert [r["name"] for r in data["registrations"]] == ["Siti Rahmawati"]  # not the unproved one
    assert sorted(n["tracking_id"] or "kode" for n in data["notifications"]) == sorted([*mine, "kode"])
    assert {(c["tracking_id"], c["choice"], c["granted"]) for c in data["consent"]} >= {
        (mine[0], "show_name", True),
        (mine[1], "anonymous", True),
        (mine[1], "show_name", False),
        (mine[2], "confidential", True),
    }
    everything = json.dumps(data, ensure_ascii=False)
    for other in ["Andi", "andi@example.id", "+6281299990002", "Penyusup", *theirs]:
        assert other not in everything
    assert len(personal.photos) == 3 and all(p.path is not None for p in personal.photos)
    theirs_data = personal_data.collect(session, andi, upload_dir=rules.upload_dir, now=NOW).data
    assert [r["tracking_id"] for r in theirs_data["reports"]] == theirs
    assert "Siti" not in json.dumps(theirs_data, ensure_ascii=False)


def test_what_they_support_and_follow_and_the_notices_they_got_as_a_follower_are_theirs(
    session: Session, rules: intake.PhotoRules, two_reporters: tuple[Reporter, Reporter, list[str], list[str]]
) -> None:
    siti, andi, _, theirs = two_reporters
    andis = session.scalar(select(Report).where(Report.tracking_id == theirs[0]))
    assert andis is not None
    session.add(ReportSupport(report_id=andis.id, reporter_id=siti.id, created_at=NOW))
    session.add(ReportFollower(report_id=andis.id, reporter_id=siti.id, created_at=NOW))
    for follower in (siti.id, siti.id * 10 + 1):  # hers, and another follower's whose id ends like hers
        session.add(
            Notification(
                idempotency_key=f"task-9:{FOLLOWER}:{follower}",
                report_id=andis.id,
                template="laporan-diikuti",
                recipient_kind=FOLLOWER,
                channel="email",
                state="sent",
                created_at=NOW,
                sent_at=NOW,
            )
        )
    session.commit()
    data = personal_data.collect(session, siti, upload_dir=rules.upload_dir, now=NOW).data
    assert (
        data["supports"] == [{"tracking_id": theirs[0], "at": NOW.isoformat()}]
        or data["supports"][0]["tracking_id"] == theirs[0]
    )
    assert [f["tracking_id"] for f in data["follows"]] == theirs
    followed = [n for n in data["notifications"] if n["tracking_id"] == theirs[0]]
    assert len(followed) == 1, followed  # hers, not the other follower's, and none of Andi's own notices
    everything = json.dumps(data, ensure_ascii=False)
    assert "Andi" not in everything and "andi@example.id" not in everything
    andis_data = personal_data.collect(session, andi, upload_dir=rules.upload_dir, now=NOW).data
    assert andis_data["supports"] == [] and andis_data["follows"] == []
    assert "Siti" not in json.dumps(andis_data, ensure_ascii=False)


def test_the_zip_holds_the_data_and_the_photo_files(
    session: Session, rules: intake.PhotoRules, two_reporters: tuple[Reporter, Reporter, list[str], list[str]]
) -> None:
    siti, _, mine, _ = two_reporters
    personal = personal_data.collect(session, siti, upload_dir=rules.upload_dir, now=NOW)
    archive = zipfile.ZipFile(io.BytesIO(personal_data.to_zip(personal)))
    names = set(archive.namelist())
    assert {"data.json", "BACA-SAYA.txt"} <= names
    data = json.loads(archive.read("data.json"))
    photos = [p for r in data["reports"] for p in r["photos"]]
    assert {p["file"] for p in photos} == names - {"data.json", "BACA-SAYA.txt"}
    assert all(name.split("/")[1] in mine for name in names if name.startswith("photos/"))
    for photo in photos:  # the very files the city stores
        assert Image.open(io.BytesIO(archive.read(photo["file"]))).size == (32, 24)
    assert personal_data.file_name(personal) == "data-pelapor-lapor-pontianak-2026-11-16.zip"


def test_a_missing_photo_file_is_listed_without_a_file(
    session: Session, rules: intake.PhotoRules, two_reporters: tuple[Reporter, Reporter, list[str], list[str]]
) -> None:
    siti = two_reporters[0]
    for stored in rules.upload_dir.rglob("*.jpg"):
        stored.unlink()
    personal = personal_data.collect(session, siti, upload_dir=rules.upload_dir, now=NOW)
    assert [p["file"] for r in personal.data["reports"] for p in r["photos"]] == [None, None, None]
    assert set(zipfile.ZipFile(io.BytesIO(personal_data.to_zip(personal))).namelist()) == {"data.json", "BACA-SAYA.txt"}


def test_consent_is_recorded_at_intake_and_not_for_a_report_without_reporter(
    session: Session, rules: intake.PhotoRules
) -> None:
    request = intake.IntakeRequest(report_data("Tanpa pelapor"), channel="staff")
    intake.accept(session, request, rules=rules, now=NOW)
    assert session.scalars(select(ConsentRecord)).all() == []
    desk = intake.IntakeRequest(
        report_data("Di meja depan", show_name=True),
        channel="staff",
        contact=intake.Contact(name="Budi", phone="+6281299990003"),
        origin=intake.Origin(source="tatap_muka", filed_by="admin-pengaduan"),
    )
    report = intake.accept(session, desk, rules=rules, now=NOW).report
    rows = session.scalars(select(ConsentRecord).order_by(ConsentRecord.choice)).all()
    assert [(r.choice, r.granted, r.channel, r.recorded_by, r.recorded_at) for r in rows] == [
        ("anonymous", False, "staff", "admin-pengaduan", NOW),
        ("confidential", False, "staff", "admin-pengaduan", NOW),
        ("show_name", True, "staff", "admin-pengaduan", NOW),
    ]
    assert {r.report_id for r in rows} == {report.id}
    assert audit.trail(session, report)[0].detail["show_name"] is True  # and in the report's own trail


def test_find_reporter_by_either_contact_normalised(
    session: Session, two_reporters: tuple[Reporter, Reporter, list[str], list[str]]
) -> None:
    siti, andi, _, _ = two_reporters
    assert personal_data.find_reporter(session, email=" SITI@example.id ") is siti
    assert personal_data.find_reporter(session, phone="0812-9999-0002") is andi
    assert personal_data.find_reporter(session, email="siti@example.id", phone="081299990002") is None  # two people
    assert personal_data.find_reporter(session, email="nobody@example.id") is None


def test_exports_and_identity_reads_chain_on_the_reporter_and_hold_no_identity(
    session: Session,
    db_engine: Engine,
    rules: intake.PhotoRules,
    two_reporters: tuple[Reporter, Reporter, list[str], list[str]],
) -> None:
    siti, andi, _, _ = two_reporters
    personal_data.record_identity_read(
        session, siti, staff="admin-pengaduan", page="data_pelapor", found_by="email", at=NOW
    )
    personal_data.record_export(
        session,
        siti,
        via=personal_data.ExportVia.FRONT_DESK,
        actor_kind=AuditActor.STAF,
        actor="admin-pengaduan",
        at=NOW + timedelta(minutes=1),
    )
    personal_data.record_export(
        session, andi, via=personal_data.ExportVia.WEB, actor_kind=AuditActor.PELAPOR, actor="pelapor", at=NOW
    )
    session.commit()
    data = personal_data.collect(session, siti, upload_dir=rules.upload_dir, now=NOW).data
    assert [(a["seq"], a["action"], a["actor"]) for a in data["access_record"]] == [
        (1, "identity_read", "admin-pengaduan"),
        (2, "data_exported", "admin-pengaduan"),
    ]
    assert data["access_record"][1]["detail"]["reports"] == 3
    stored = " ".join(row.detail + row.actor for row in session.scalars(select(ReporterAuditEntry)))
    for identity in ("Siti", "siti@example.id", "+6281299990001", "Andi", "andi@example.id"):
        assert identity not in stored
    verdict = reporter_audit.verify(session)
    assert verdict.ok and (verdict.reporters, verdict.entries) == (2, 3)
    with db_engine.begin() as connection, pytest.raises(DatabaseError):
        connection.execute(text("UPDATE reporter_audit_entries SET actor = 'x'"))
    with db_engine.begin() as connection:  # a deleted entry (no UPDATE needed) is named by the head
        connection.execute(text("DELETE FROM reporter_audit_entries WHERE seq = 2"))
    session.expire_all()
    broken = reporter_audit.verify(session).broken
    assert [str(b) for b in broken] == [
        f"reporter {siti.id}: its head says 2 entries, the chain holds 1: entries were removed or added"
    ]


def test_the_operators_command_writes_the_zip_and_records_who_handed_it_out(
    session: Session,
    db_engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    two_reporters: tuple[Reporter, Reporter, list[str], list[str]],
) -> None:
    siti, _, mine, _ = two_reporters
    out = tmp_path / "data-siti.zip"
    args = ["export", "--email", "SITI@example.id", "--by", "admin-pengaduan", "--out", str(out)]
    assert data_request.main(args, db=db_engine, now=NOW) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"reporter #{siti.id}: 3 reports, ")
    assert "Siti" not in printed and "siti@" not in printed
    data = json.loads(zipfile.ZipFile(out).read("data.json"))
    assert [r["tracking_id"] for r in data["reports"]] == mine
    assert [(a["action"], a["actor"], a["detail"]["via"]) for a in data["access_record"]] == [
        ("data_exported", "admin-pengaduan", "tertulis")
    ]
    assert data_request.main(["export", "--phone", "0812000", "--by", "x", "--out", str(out)], db=db_engine) == 2
    assert data_request.main(["export", "--email", "x@example.id", "--by", "x", "--out", str(out)], db=db_engine) == 2


def test_migration_0011_records_the_choices_of_older_reports_at_their_time(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from lapor.db import make_engine
    from lapor.settings import ROOT

    url = f"sqlite:///{tmp_path / 'alt.db'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0010")
    old = make_engine(url)
    with old.begin() as connection:
        connection.execute(
            text("INSERT INTO reporters (id, name, email, created_at) VALUES (1, 'Siti', 'siti@example.id', :at)"),
            {"at": NOW},
        )
        for report_id, reporter_id, show, anonymous in (
            (1, 1, True, False),
            (2, 1, False, True),
            (3, None, True, False),
        ):
            connection.execute(
                text(
                    "INSERT INTO reports (id, tracking_id, reporter_id, channel, report_type, title, description,"
                    " category, kecamatan_code, kelurahan_code, address, anonymous, confidential, show_reporter_name,"
                    " status, created_at) VALUES (:id, :tid, :rid, 'web', 'pengaduan', 't', 'd', 'JALAN', 'k', 'l',"
                    " 'a', :anon, 0, :show, 'SELESAI', :at)"
                ),
                {
                    "id": report_id,
                    "tid": f"PTK-{report_id}",
                    "rid": reporter_id,
                    "anon": anonymous,
                    "show": show,
                    "at": NOW,
                },
            )
    old.dispose()
    command.upgrade(config, "head")
    with Session(make_engine(url)) as session:
        rows = session.scalars(select(ConsentRecord).order_by(ConsentRecord.report_id, ConsentRecord.choice)).all()
        assert [(r.report_id, r.choice, r.granted, r.origin) for r in rows] == [
            (1, "anonymous", False, "migration-0011"),
            (1, "confidential", False, "migration-0011"),
            (1, "show_name", True, "migration-0011"),
            (2, "anonymous", True, "migration-0011"),
            (2, "confidential", False, "migration-0011"),
            (2, "show_name", False, "migration-0011"),
        ]  # report 3 has no reporter: nobody's consent
        assert {r.recorded_at for r in rows} == {NOW} and {r.reporter_id for r in rows} == {1}
        assert session.scalar(select(Reporter.audit_seq)) == 0
