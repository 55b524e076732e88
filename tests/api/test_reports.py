"""Submitting a report with photos, tracking it, and the replies that become engine messages."""

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, Engine, event, func, select

from lapor import reports, uploads
from lapor.db import session_scope
from lapor.models import MessageKind, OutboxMessage, Photo, Report, ReportMessage, ReportStatus
from lapor.ratelimit import Limit
from lapor.vocabulary import Actor
from tests.api.conftest import (
    REPORT_FIELDS,
    START,
    ApiTestSettings,
    Person,
    image_bytes,
    photo_files,
    set_status,
    submit,
)
from tests.support.builders import report_row


def counts(db: Engine) -> tuple[int, int, int, int]:
    with session_scope(db) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Report, Photo, OutboxMessage, ReportMessage)
        )


def stored_files(settings: ApiTestSettings) -> list[Path]:
    root = settings.data_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_report(client: TestClient, person: Person, files: list[object], **fields: str) -> dict[str, object]:
    response = client.post("/reports", data={**REPORT_FIELDS, **fields}, files=files, headers=person.auth)
    return {**response.json(), "http": response.status_code}


# -- submission ------------------------------------------------------------------------------------------------------
def test_submission_writes_report_photos_and_start_command_in_one_go(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    response = client.post(
        "/reports",
        data={**REPORT_FIELDS, "latitude": "-0.0263", "longitude": "109.3425", "anonymous": "true"},
        files=photo_files(2),
        headers=citizen.auth,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"PTK-2611-[2-9A-HJ-NP-Z]{6}", body["tracking_id"])
    assert body["status"] == {"code": "BELUM_TERVERIFIKASI", "label": "Belum Terverifikasi"}
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, body["tracking_id"])
        assert (report.channel, report.anonymous, report.latitude, str(report.incident_date)) == (
            "web",
            True,
            -0.0263,
            "2026-11-20",
        )
        photos = session.scalars(select(Photo).where(Photo.report_id == report.id)).all()
        command = session.scalars(select(OutboxMessage)).one()
        assert command.kind == "start_process" and command.dedup_key == f"start:{report.tracking_id}"
        assert command.payload["variables"] == reports.process_variables(report, photo_count=2)
        # Primitives only, and the tracking id under its one name; the staff page shows the photos.
        assert command.payload["variables"]["trackingId"] == report.tracking_id
        assert "photoLinks" not in command.payload["variables"] and "reportId" not in command.payload["variables"]
        # Tasklist's forms read names, not codes (the codes stay for the model's routing).
        names = {k: v for k, v in command.payload["variables"].items() if k.endswith("Name")}
        assert names == {
            "channelName": "Situs web / aplikasi",
            "categoryName": "Jalan dan Jembatan",
            "kecamatanName": "Pontianak Selatan",
            "kelurahanName": "Benua Melayu Laut",
        }
        assert command.sent_at is None and report.process_instance_id is None
    assert [p.kind for p in photos] == ["report", "report"]
    files = stored_files(settings)
    assert sorted(f.name for f in files) == sorted(f"{p.sha256}.jpg" for p in photos)
    for stored in files:
        data = stored.read_bytes()
        assert b"KameraPonsel" not in data  # EXIF gone
        assert not Image.open(io.BytesIO(data)).getexif()  # GPS included


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted(client: TestClient, citizen: Person, db_engine: Engine, fmt: str) -> None:
    files = [("photos", ("x.bin", image_bytes(fmt), "application/octet-stream"))]  # the type comes from the bytes
    assert post_report(client, citizen, files)["http"] == 201
    with session_scope(db_engine) as session:
        assert session.scalars(select(Photo.content_type)).one() == f"image/{fmt.lower()}"


def test_the_same_photo_twice_is_stored_once(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    same = image_bytes()
    files = [("photos", ("a.jpg", same, "image/jpeg")), ("photos", ("b.jpg", same, "image/jpeg"))]
    assert post_report(client, citizen, files)["http"] == 201
    assert counts(db_engine)[1] == 1


def _big_jpeg() -> bytes:
    """A real JPEG one byte over the per-photo limit (its tail is padding after the image, as some cameras add)."""
    noise = Image.effect_noise((2600, 2600), 120).convert("RGB")
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=100)
    return out.getvalue() + b"\0" * (uploads.MAX_BYTES + 1 - len(out.getvalue()))


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([], 422, "photos_required"),
        (photo_files(6), 422, "too_many_files"),
        ([("photos", ("surat.jpg", b"%PDF-1.4 bukan foto", "image/jpeg"))], 415, "unsupported_file_type"),
        ([("photos", ("anim.gif", image_bytes("GIF", gps=False), "image/gif"))], 415, "unsupported_file_type"),
        ([("photos", ("patah.jpg", image_bytes()[:200], "image/jpeg"))], 415, "unsupported_file_type"),
        ([*photo_files(1), ("photos", ("besar.jpg", b"", "image/jpeg"))], 415, "unsupported_file_type"),
    ],
    ids=["none", "six", "pdf", "gif", "truncated", "empty-second"],
)
def test_refused_photos_leave_nothing_behind(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    settings: ApiTestSettings,
    files: list[object],
    status: int,
    code: str,
) -> None:
    answer = post_report(client, citizen, files)
    assert answer["http"] == status and answer["error"]["code"] == code  # type: ignore[index]
    assert counts(db_engine) == (0, 0, 0, 0)
    assert stored_files(settings) == []


def test_photo_over_40_mb_is_413(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    answer = post_report(client, citizen, [("photos", ("besar.jpg", _big_jpeg(), "image/jpeg"))])
    assert answer["http"] == 413 and answer["error"]["code"] == "file_too_large"  # type: ignore[index]
    assert counts(db_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kelurahan": "61.71.02.1001"}, "unknown_location"),  # a kelurahan of another kecamatan
        ({"kecamatan": "61.72.01"}, "unknown_location"),
        ({"category": "BANJIR_BANDANG"}, "unknown_category"),
        ({"incident_date": "2026-11-27"}, "invalid_incident_date"),  # tomorrow in Pontianak
        ({"latitude": "0.5", "longitude": "109.3"}, "validation_error"),  # outside the city
        ({"latitude": "-0.02"}, "validation_error"),  # only one coordinate
        ({"report_type": "keluhan"}, "validation_error"),
        ({"title": ""}, "validation_error"),
    ],
)
def test_bad_fields_are_422_and_nothing_is_written(
    client: TestClient,
    citizen: Person,
    db_engine: Engine,
    settings: ApiTestSettings,
    fields: dict[str, str],
    code: str,
) -> None:
    answer = post_report(client, citizen, photo_files(1), **fields)
    assert answer["http"] == 422 and answer["error"]["code"] == code, answer  # type: ignore[index]
    assert counts(db_engine) == (0, 0, 0, 0)
    assert stored_files(settings) == []


def test_a_crash_after_the_report_row_rolls_everything_back(
    app: FastAPI, citizen: Person, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("lapor.outbox.enqueue_start", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/reports", data=REPORT_FIELDS, files=photo_files(2), headers=citizen.auth)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Terjadi kesalahan pada server.", "details": None}
    }
    assert counts(db_engine) == (0, 0, 0, 0)


def test_submission_needs_a_reporter_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer staff-token-for-tests"}):
        response = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_oversized_body_is_refused_before_reading(
    client: TestClient, citizen: Person, settings: ApiTestSettings
) -> None:
    length = str(settings.max_body_bytes + 1)
    response = client.post("/reports", content=b"x", headers={**citizen.auth, "Content-Length": length})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


class TestSubmissionRateLimit:
    @pytest.fixture
    def limits(self) -> dict[str, Limit]:
        return {"submission:reporter": Limit(2, timedelta(hours=1))}

    def test_third_report_in_an_hour_waits(self, client: TestClient, citizen: Person, db_engine: Engine) -> None:
        submit(client, citizen)
        submit(client, citizen)
        answer = client.post("/reports", data=REPORT_FIELDS, files=photo_files(1), headers=citizen.auth)
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
        assert counts(db_engine)[0] == 2


# -- tracking --------------------------------------------------------------------------------------------------------
def test_owner_sees_everything_others_only_progress_until_verified(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen, photos=2)
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, tracking_id).verification_due_at = START + timedelta(days=3)
    set_status(db_engine, tracking_id, ReportStatus.BELUM_TERVERIFIKASI)

    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert owner["view"] == "owner"
    assert owner["reporter"] == {"name": citizen.name, "email": citizen.email, "phone": None}
    assert owner["location"]["kelurahan"] == {"code": "61.71.01.1002", "name": "Benua Melayu Laut"}
    assert owner["deadline"] == {
        "kind": "verification",
        "label": "Batas waktu verifikasi laporan",
        "due_at": "2026-11-29T03:00:00Z",
    }
    assert owner["timeline"] == [
        {
            "status": {"code": "BELUM_TERVERIFIKASI", "label": "Belum Terverifikasi"},
            "actor": "sistem",
            "actor_label": "Sistem",
            "at": "2026-11-26T03:00:00Z",
            "note": None,
        }
    ]
    assert len(owner["photo_urls"]) == 2
    for headers in ({}, other_citizen.auth):
        limited = client.get(f"/reports/{tracking_id}", headers=headers).json()
        assert limited["view"] == "limited" and limited["title"] is None and limited["description"] is None
        assert limited["status"]["code"] == "BELUM_TERVERIFIKASI" and limited["deadline"] is not None


def test_verified_report_public_view_with_opd_responses(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    tracking_id = submit(client, citizen, show_name=True)
    set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI, actor=Actor.ADMIN_PENGADUAN)
    set_status(db_engine, tracking_id, ReportStatus.PROSES, at=START + timedelta(days=1), actor=Actor.OPD)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        report.opd_code = "PUPR"
        report.completion_due_at = START + timedelta(days=60)
        session.add(
            ReportMessage(
                report_id=report.id,
                author=Actor.OPD.value,
                kind=MessageKind.OPD_RESPONSE.value,
                text="Tim akan menambal jalan minggu ini.",
                created_at=START + timedelta(days=1),
            )
        )
    public = client.get(f"/reports/{tracking_id}").json()
    assert public["view"] == "public"
    assert public["reporter_name"] == citizen.name and public["reporter"] is None
    assert public["opd"] == {"code": "PUPR", "name": "Dinas Pekerjaan Umum dan Penataan Ruang"}
    assert public["responses"] == [
        {"kind": "opd_response", "text": "Tim akan menambal jalan minggu ini.", "at": "2026-11-27T03:00:00Z"}
    ]
    assert public["deadline"]["kind"] == "opd-completion"
    assert public["deadline"]["label"] == "Batas waktu penyelesaian tindak lanjut"
    assert [(e["status"]["label"], e["actor_label"]) for e in public["timeline"]] == [
        ("Terverifikasi (belum ditindaklanjuti)", "Admin Pengaduan Daerah"),
        ("Proses", "OPD / Pejabat Penghubung"),
    ]
    assert public["updated_at"] == "2026-11-27T03:00:00Z"
    photo = client.get(public["photo_urls"][0].removeprefix("http://testserver"))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


def test_confidential_report_is_404_for_everyone_but_its_reporter(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen, confidential=True)
    set_status(db_engine, tracking_id, ReportStatus.PROSES)
    assert client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["confidential"] is True
    for headers in ({}, other_citizen.auth):
        response = client.get(f"/reports/{tracking_id}", headers=headers)
        assert response.status_code == 404 and response.json()["error"]["code"] == "report_not_found"
    assert client.get("/reports/PTK-2611-AAAAAA").status_code == 404


def test_a_bad_token_on_tracking_is_401_not_silently_public(client: TestClient, citizen: Person) -> None:
    tracking_id = submit(client, citizen)
    assert client.get(f"/reports/{tracking_id}", headers={"Authorization": "Bearer lpr_salah"}).status_code == 401


def test_my_reports_lists_own_reports_only(client: TestClient, citizen: Person, other_citizen: Person) -> None:
    mine = {submit(client, citizen), submit(client, citizen, confidential=True)}
    submit(client, other_citizen)
    page = client.get("/reporters/me/reports", headers=citizen.auth).json()
    assert page["total"] == 2 and {i["tracking_id"] for i in page["items"]} == mine


def test_a_tracking_read_is_one_statement_outside_a_transaction(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The most frequent read (issue 13): the report, its timeline, messages, photos and the shown name in one
    statement, with no BEGIN/ROLLBACK around it; a token adds its own two look-ups, nothing else. And one hop to
    the thread pool per read (issue 19 item 7: the hops, not the SQL, were half the API's CPU under load)."""
    hops: list[object] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    tracking_id = submit(client, citizen, photos=2, show_name=True)
    set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI, actor=Actor.ADMIN_PENGADUAN)
    set_status(db_engine, tracking_id, ReportStatus.PROSES, at=START + timedelta(days=1), actor=Actor.OPD)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        for kind, days in ((MessageKind.OPD_RESPONSE, 1), (MessageKind.OPD_COMPLETION, 2)):
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author=Actor.OPD.value,
                    kind=kind.value,
                    text=kind.label,
                    created_at=START + timedelta(days=days),
                )
            )
        session.add(
            Photo(report_id=report.id, sha256="0" * 64, content_type="image/png", size_bytes=1, kind="proof",
                  created_at=START + timedelta(days=2))
        )  # fmt: skip
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, at=START + timedelta(days=2))
    executed: list[tuple[str, object]] = []

    def record(connection: Connection, cursor: object, statement: str, *args: object) -> None:
        executed.append((statement, connection.get_execution_options().get("isolation_level")))

    views: dict[str, dict[str, Any]] = {}
    statements: dict[str, list[tuple[str, object]]] = {}
    event.listen(db_engine, "before_cursor_execute", record)
    try:
        for who, headers in (("anonymous", {}), ("other", other_citizen.auth), ("owner", citizen.auth)):
            executed.clear()
            hops.clear()
            views[who] = client.get(f"/reports/{tracking_id}", headers=headers).json()
            statements[who] = list(executed)
            assert len(hops) == 1, (who, hops)
    finally:
        event.remove(db_engine, "before_cursor_execute", record)

    for who in ("anonymous", "other"):
        assert views[who]["view"] == "public" and views[who]["reporter_name"] == citizen.name
        assert views[who]["reporter"] is None and views[who]["messages"] == []
    assert views["owner"]["view"] == "owner" and views["owner"]["reporter"]["email"] == citizen.email
    for view in views.values():
        assert len(view["timeline"]) == 3 and len(view["responses"]) == 2
        assert len(view["photo_urls"]) == 2 and len(view["proof_photo_urls"]) == 1
    [(read, isolation)] = statements["anonymous"]
    assert "FROM reports" in read and isolation == "AUTOCOMMIT"
    for who in ("other", "owner"):
        token, reporter, (read, isolation) = statements[who]
        assert "FROM reporter_tokens" in token[0] and "FROM reporters" in reporter[0]
        assert read == statements["anonymous"][0][0] and isolation == "AUTOCOMMIT"


# -- replies ---------------------------------------------------------------------------------------------------------
def outbox_messages(db: Engine) -> list[OutboxMessage]:
    with session_scope(db) as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "publish_message")))
        session.expunge_all()
        return rows


def test_supplement_only_when_returned_and_once_per_round(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    url = f"/reports/{tracking_id}/supplement"
    early = client.post(url, data={"text": "Lokasi tepat di depan gerbang sekolah."}, headers=citizen.auth)
    assert early.status_code == 409
    assert early.json()["error"] == {
        "code": "invalid_state",
        "message": "Tindakan ini tidak dapat dilakukan pada status laporan saat ini.",
        "details": {"status": "BELUM_TERVERIFIKASI", "allowed": ["DIKEMBALIKAN"]},
    }
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN, actor=Actor.ADMIN_PENGADUAN)
    first = client.post(url, data={"text": "Lokasi di depan gerbang."}, files=photo_files(1), headers=citizen.auth)
    assert first.status_code == 202, first.text
    again = client.post(url, data={"text": "Tambahan: lubang sedalam 20 cm."}, headers=citizen.auth)
    assert again.status_code == 202
    [message] = outbox_messages(db_engine)
    assert message.payload["name"] == "laporan-dilengkapi"
    assert message.payload["business_key"] == tracking_id and message.payload["variables"] == {}
    # A later round (verified again, returned again) gets its own message.
    set_status(db_engine, tracking_id, ReportStatus.BELUM_TERVERIFIKASI)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN, actor=Actor.ADMIN_PENGADUAN)
    assert client.post(url, data={"text": "Foto baru terlampir."}, headers=citizen.auth).status_code == 202
    assert len({m.payload["message_id"] for m in outbox_messages(db_engine)}) == 2
    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert [m["kind"] for m in owner["messages"]] == ["supplement"] * 3
    assert len(owner["photo_urls"]) == 2  # the report's photo and the supplement's


def test_confirmation_sends_citizen_accepted_and_only_once(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    url = f"/reports/{tracking_id}/confirmation"
    assert client.post(url, json={"accepted": True}, headers=citizen.auth).status_code == 409
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, actor=Actor.ADMIN_PENGADUAN)
    answer = client.post(url, json={"accepted": False, "comment": "Lubang masih ada."}, headers=citizen.auth)
    assert answer.status_code == 202, answer.text
    twice = client.post(url, json={"accepted": True}, headers=citizen.auth)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_answered"
    [message] = outbox_messages(db_engine)
    assert message.payload["name"] == "tanggapan-pelapor"
    assert message.payload["variables"] == {"citizenAccepted": False}  # the comment stays out of the engine
    assert client.post(url, json={"accepted": "mungkin"}, headers=citizen.auth).status_code == 422


def test_rating_is_kept_private_with_the_confirmation(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, actor=Actor.ADMIN_PENGADUAN)
    url = f"/reports/{tracking_id}/confirmation"
    for hostile in (0, 6, -1, "5", 4.5, True):
        refused = client.post(url, json={"accepted": True, "rating": hostile}, headers=citizen.auth)
        assert refused.status_code == 422, hostile
        assert refused.json()["error"]["code"] == "validation_error"
    assert outbox_messages(db_engine) == []  # a refused rating queues nothing
    answer = client.post(url, json={"accepted": True, "rating": 4, "comment": "Cepat."}, headers=citizen.auth)
    assert answer.status_code == 202, answer.text
    [message] = outbox_messages(db_engine)
    assert message.payload["variables"] == {"citizenAccepted": True}  # the rating never reaches the engine
    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert [(m["kind"], m["accepted"], m["rating"]) for m in owner["messages"]] == [("confirmation", True, 4)]
    public = client.get(f"/reports/{tracking_id}")
    assert public.status_code == 200 and "rating" not in public.text


def test_comments_are_kept_for_the_owner_only(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI)
    added = client.post(f"/reports/{tracking_id}/comments", json={"text": "Terima kasih."}, headers=citizen.auth)
    assert added.status_code == 201
    assert client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["messages"][0]["text"] == "Terima kasih."
    assert client.get(f"/reports/{tracking_id}").json()["messages"] == []
    assert client.post(f"/reports/{tracking_id}/comments", json={"text": ""}, headers=citizen.auth).status_code == 422


def test_notes_for_staff_never_reach_the_reporter_and_return_notes_only_the_reporter(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        for kind, text, days in (
            (MessageKind.RETURN_NOTE, "Kirim foto dari dekat.", 1),
            (MessageKind.DOCUMENTATION_NOTE, "Dokumentasi lengkap, arsip no. 12.", 5),
        ):
            session.add(
                ReportMessage(
                    report_id=report.id,
                    author=Actor.ADMIN_PENGADUAN.value,
                    kind=kind.value,
                    text=text,
                    created_at=START + timedelta(days=days),
                )
            )
    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert [(m["kind"], m["text"]) for m in owner["messages"]] == [("return_note", "Kirim foto dari dekat.")]
    assert owner["updated_at"] == "2026-11-27T03:00:00Z"  # the staff's later note does not move it either
    mine = client.get("/reporters/me/reports", headers=citizen.auth).json()["items"]
    assert [item["updated_at"] for item in mine] == ["2026-11-27T03:00:00Z"]
    set_status(db_engine, tracking_id, ReportStatus.PROSES, at=START + timedelta(days=2), actor=Actor.OPD)
    for headers in ({}, other_citizen.auth):
        public = client.get(f"/reports/{tracking_id}", headers=headers)
        assert public.json()["messages"] == [] and "Kirim foto" not in public.text and "arsip" not in public.text


def test_a_returned_report_tells_its_reporter_the_note_and_the_supplement_deadline(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        report.supplement_due_at = START + timedelta(days=10)
        session.add(
            ReportMessage(
                report_id=report.id,
                author=Actor.ADMIN_PENGADUAN.value,
                kind=MessageKind.RETURN_NOTE.value,
                text="Kirim foto dari dekat.",
                created_at=START,
            )
        )
    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert (owner["return_note"], owner["supplement_due_at"]) == ("Kirim foto dari dekat.", "2026-12-06T03:00:00Z")
    assert owner["deadline"] == {
        "kind": "supplement",
        "label": "Batas waktu kelengkapan laporan oleh pelapor",
        "due_at": "2026-12-06T03:00:00Z",
    }
    for headers in ({}, other_citizen.auth):
        limited = client.get(f"/reports/{tracking_id}", headers=headers)
        assert limited.json()["return_note"] is None and "Kirim foto" not in limited.text
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, actor=Actor.ADMIN_PENGADUAN)
    with session_scope(db_engine) as session:
        reports.get_by_tracking_id(session, tracking_id).confirmation_due_at = START + timedelta(days=5)
    owner = client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()
    assert (owner["return_note"], owner["supplement_due_at"]) == (None, None)
    assert (
        owner["confirmation_due_at"] == "2026-12-01T03:00:00Z" and owner["deadline"]["kind"] == "citizen-confirmation"
    )


def test_replies_belong_to_the_reporter(
    client: TestClient, citizen: Person, other_citizen: Person, db_engine: Engine
) -> None:
    public = submit(client, citizen)
    hidden = submit(client, citizen, confidential=True)
    for tracking_id in (public, hidden):
        set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI)
    url = "/reports/{}/confirmation"
    forbidden = client.post(url.format(public), json={"accepted": True}, headers=other_citizen.auth)
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "not_owner"
    assert client.post(url.format(hidden), json={"accepted": True}, headers=other_citizen.auth).status_code == 404
    assert client.post(url.format(public), json={"accepted": True}).status_code == 401
    assert outbox_messages(db_engine) == []


def test_a_code_the_master_data_no_longer_knows_is_shown_as_the_code() -> None:
    """A report older than a master-data change still starts, its form showing the code instead of a blank."""
    report = report_row(
        "PTK-2611-AAAAAA", category="DIHAPUS", kecamatan_code="61.71.09", kelurahan_code="61.71.09.9999"
    )
    variables = reports.process_variables(report)
    assert (variables["categoryName"], variables["kecamatanName"], variables["kelurahanName"]) == (
        "DIHAPUS",
        "61.71.09",
        "61.71.09.9999",
    )
