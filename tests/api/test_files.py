"""Signed links: photo links for staff and the public view of a report, the OPD's proof photo among them."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lapor import reports, signed_links, uploads
from lapor.db import session_scope
from lapor.models import Photo, PhotoKind, Report, ReportMessage, ReportStatus
from lapor.vocabulary import Actor
from tests.api.conftest import START, ApiTestSettings, Clock, Person, image_bytes, set_status, submit


def report_of(db: Engine, tracking_id: str) -> Report:
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.expunge(report)
        return report


def store_proof(db: Engine, settings: ApiTestSettings, tracking_id: str) -> int:
    """What the lapor-proof worker does with the photo the OPD attached in Tasklist (workers/proof.py)."""
    image = uploads.clean_image(image_bytes("PNG"))
    uploads.store(uploads.upload_dir(settings.data_dir), image)
    with session_scope(db) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        photo = Photo(report_id=report.id, sha256=image.sha256, content_type=image.content_type,
                      size_bytes=len(image.data), kind="proof", created_at=START)  # fmt: skip
        session.add(photo)
        session.flush()
        return photo.id


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_photo_links_open_the_photos_until_they_expire(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings, api_clock: Clock
) -> None:
    tracking_id = submit(client, citizen, photos=2)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        links = signed_links.photo_links(
            session, report, START + timedelta(hours=1), "https://lapor.example", settings=settings
        )
    assert len(links) == 2 and all(link.startswith("https://lapor.example/files/photos/") for link in links)
    answer = client.get(path_of(links[0]))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.content.startswith(b"\xff\xd8") and b"KameraPonsel" not in answer.content
    api_clock.advance(timedelta(hours=1))
    expired = client.get(path_of(links[0]))
    assert expired.status_code == 403
    assert expired.json()["error"] == {
        "code": "invalid_link",
        "message": "Tautan sudah kedaluwarsa.",
        "details": {"reason": "expired"},
    }


@pytest.mark.parametrize("tamper", ["other-photo", "later-expiry", "bad-signature", "no-signature"])
def test_forged_photo_links_are_403(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings, tamper: str
) -> None:
    submit(client, citizen, photos=2)
    with session_scope(db_engine) as session:
        first, second = session.scalars(select(Photo.id).order_by(Photo.id)).all()
    link = signed_links.sign(
        signed_links.photo_path(first), START + timedelta(hours=1), key=signed_links.signing_key(settings)
    )
    query = parse_qs(urlsplit(link).query)
    forged = {
        "other-photo": link.replace(f"/photos/{first}?", f"/photos/{second}?"),
        "later-expiry": link.replace(query["expires"][0], str(int(query["expires"][0]) + 86400)),
        "bad-signature": link[:-4] + "AAAA",
        "no-signature": signed_links.photo_path(first),
    }[tamper]
    response = client.get(forged)
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_link"


def test_a_link_signed_with_another_key_is_403(client: TestClient, citizen: Person, db_engine: Engine) -> None:
    submit(client, citizen)
    with session_scope(db_engine) as session:
        photo_id = session.scalars(select(Photo.id)).one()
    link = signed_links.sign(signed_links.photo_path(photo_id), START + timedelta(hours=1), key=b"someone-else")
    assert client.get(link).status_code == 403


def test_the_proof_photo_is_shown_once_the_completion_is_documented(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.PROSES, actor=Actor.OPD)
    proof_id = store_proof(db_engine, settings, tracking_id)
    with session_scope(db_engine) as session:
        proof = session.get(Photo, proof_id)
        assert proof is not None and (proof.kind, proof.content_type) == ("proof", "image/png")
        report = reports.get_by_tracking_id(session, tracking_id)
        # The citizen's photo links leave the proof out; the staff photo link still opens it.
        assert len(signed_links.photo_links(session, report, START + timedelta(hours=1), "", settings=settings)) == 1
    proof_link = signed_links.sign(
        signed_links.photo_path(proof.id), START + timedelta(hours=1), key=signed_links.signing_key(settings)
    )
    assert client.get(proof_link).headers["content-type"] == "image/png"
    # Tracking shows the proof once the OPD has reported completion, to the reporter and to the public.
    assert client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["proof_photo_urls"] == []
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        session.add(ReportMessage(report_id=report.id, author="opd", kind="opd_completion", text="Selesai.",
                                  created_at=START))  # fmt: skip
    set_status(db_engine, tracking_id, ReportStatus.MENUNGGU_KONFIRMASI, actor=Actor.ADMIN_PENGADUAN)
    for headers in (citizen.auth, {}):
        [shown] = client.get(f"/reports/{tracking_id}", headers=headers).json()["proof_photo_urls"]
        answer = client.get(shown.removeprefix("http://testserver"))
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    page = client.get(f"/lacak/{tracking_id}")
    assert "Foto bukti penyelesaian" in page.text


def test_production_refuses_to_sign_without_a_key_and_a_local_run_makes_its_own(tmp_path: Path) -> None:
    from lapor.settings import Settings

    with pytest.raises(RuntimeError, match="LAPOR_FILE_SIGNING_KEY"):
        signed_links.signing_key(Settings(environment="production", file_signing_key=None, data_dir=tmp_path))
    development = Settings(environment="development", file_signing_key=None, data_dir=tmp_path / "a")
    key = signed_links.signing_key(development)
    assert len(key) >= 40 and signed_links.signing_key(development) == key  # generated once, then read back
    assert (tmp_path / "a" / signed_links.LOCAL_KEY_FILE).stat().st_mode & 0o077 == 0
    assert signed_links.signing_key(development.model_copy(update={"data_dir": tmp_path / "b"})) != key


def test_staff_report_page_shows_the_report_and_never_the_reporter(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = submit(client, citizen, photos=2, anonymous=True)
    link = signed_links.report_summary_url(
        report_of(db_engine, tracking_id), START + timedelta(days=4), "", settings=settings
    )
    page = client.get(link)
    assert page.status_code == 200
    assert (
        tracking_id in page.text and "Lubang besar di badan jalan" in page.text and "Belum Terverifikasi" in page.text
    )
    photos = set(re.findall(r'src="(/files/photos/[^"]+)"', page.text))
    assert len(photos) == 2  # the photos, each behind its own signed link
    assert "Pelapor anonim" in page.text
    for personal in (citizen.name, citizen.email, citizen.phone):
        assert personal not in page.text
    photo = re.search(r'src="([^"]+)"', page.text)
    assert photo and client.get(photo.group(1).replace("&amp;", "&")).status_code == 200
    forged = client.get(link.replace(tracking_id, "PTK-2611-ZZZZZZ"))
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_link"


def test_pages_may_not_be_framed_or_sniffed(client: TestClient, citizen: Person, settings: ApiTestSettings) -> None:
    tracking_id = submit(client, citizen)
    link = signed_links.sign(
        signed_links.report_summary_path(tracking_id),
        START + timedelta(hours=1),
        key=signed_links.signing_key(settings),
    )
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/health").headers["X-Content-Type-Options"] == "nosniff"


def test_signed_photos_of_one_kind_say_which_supplement_they_came_with(
    client: TestClient, citizen: Person, db_engine: Engine, settings: ApiTestSettings
) -> None:
    tracking_id = submit(client, citizen, photos=2)
    set_status(db_engine, tracking_id, ReportStatus.DIKEMBALIKAN, actor=Actor.ADMIN_PENGADUAN)
    supplement = client.post(
        f"/reports/{tracking_id}/supplement",
        data={"text": "Foto dari dekat."},
        files=[("photos", ("dekat.jpg", image_bytes(), "image/jpeg"))],
        headers=citizen.auth,
    )
    assert supplement.status_code == 202, supplement.text
    set_status(db_engine, tracking_id, ReportStatus.PROSES, actor=Actor.OPD)
    store_proof(db_engine, settings, tracking_id)
    key, until = signed_links.signing_key(settings), START + timedelta(hours=1)
    with session_scope(db_engine) as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        message_id = session.scalars(select(ReportMessage.id)).one()
        reporter = signed_links.signed_photos(
            session, report, PhotoKind.REPORT, until, "https://lapor.example", key=key
        )
        proofs = signed_links.signed_photos(session, report, PhotoKind.PROOF, until, "", key=key)
        # photo_links (the workers' and the public view's) keeps its shape: the reporter's photos, links only.
        assert signed_links.photo_links(session, report, until, "https://lapor.example", key=key) == [
            p.url for p in reporter
        ]
    assert [p.message_id for p in reporter] == [None, None, message_id]
    assert all(p.url.startswith("https://lapor.example/files/photos/") for p in reporter)
    [only] = proofs
    assert only.message_id is None and client.get(only.url).headers["content-type"] == "image/png"
