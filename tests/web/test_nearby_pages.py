"""The report form's nearby list without JavaScript, and "Saya juga mengalami" / follow on the tracking page."""

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lapor import signed_links, support
from lapor.db import session_scope
from lapor.models import ReportFollower, ReportStatus, ReportSupport
from tests.api.conftest import START, ApiTestSettings, set_status
from tests.conftest import Mailbox
from tests.web.conftest import FORM, csrf_of, text_of, web_register, web_submit

HERE = "-0.0263, 109.3425"


def north(metres: float) -> str:
    return f"{-0.0263 + metres / 111_320:.6f}, 109.3425"


def test_the_form_lists_nearby_reports_without_javascript_and_keeps_what_was_typed(
    client: TestClient, app: FastAPI, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.sekitar@example.id")
    close = web_submit(client, title="Lubang besar dekat sekolah", koordinat=north(60))
    far = web_submit(client, title="Lubang jauh di ujung jalan", koordinat=north(400))
    secret = web_submit(client, title="Lubang rahasia", koordinat=north(30), confidential="true")
    for tracking_id in (close, far, secret):
        set_status(db_engine, tracking_id, ReportStatus.PROSES)

    with TestClient(app) as neighbour:
        web_register(neighbour, mailbox, "Andi Pratama", "andi.sekitar@example.id")
        form = neighbour.get("/lapor")
        assert "script-src 'self'" in form.headers["content-security-policy"]
        assert "Cek laporan serupa di sekitar" in form.text and "/statis/sekitar.js" in form.text
        typed = {**FORM, "title": "Jalan rusak parah", "koordinat": HERE, "csrf": csrf_of(form.text)}
        checked = neighbour.post("/lapor/sekitar", data=typed)
        assert checked.status_code == 200
        panel = text_of(checked.text.split('id="sekitar"', 1)[1].split("</section>", 1)[0])
        assert "Lubang besar dekat sekolah" in panel and "± 60 m dari titik Anda" in panel
        assert "Proses" in panel and "0 warga juga mengalami" in panel and "Saya juga mengalami" in panel
        assert "Lubang jauh" not in checked.text and "Lubang rahasia" not in checked.text
        assert "Siti" not in panel
        assert 'value="Jalan rusak parah"' in checked.text and f'value="{HERE}"' in checked.text
        assert re.search(r'<img src="http://testserver/files/photos/\d+/kecil\?', checked.text)

        # "Saya juga mengalami" from the list: the report form's own CSRF token goes with it.
        supported = neighbour.post(f"/lacak/{close}/dukung", data=typed, follow_redirects=False)
        assert supported.status_code == 303 and supported.headers["location"] == f"/lacak/{close}?pesan=didukung#ikuti"
        page = text_of(neighbour.get(f"/lacak/{close}?pesan=didukung").text)
        assert "dukungan Anda tercatat" in page and "1 warga juga mengalami masalah ini" in page
        assert "Berhenti mengikuti" in page and "Siti" not in page
        csrf = csrf_of(neighbour.get(f"/lacak/{close}").text)
        neighbour.post(f"/lacak/{close}/berhenti-mengikuti", data={"csrf": csrf})
        page = text_of(neighbour.get(f"/lacak/{close}?pesan=berhenti").text)
        assert "Anda tidak lagi mengikuti laporan ini" in page and "Ikuti laporan ini" in page
        assert "Anda sudah mendukung laporan ini" in page
        assert neighbour.post(f"/lacak/{secret}/dukung", data={"csrf": csrf}).status_code == 404
        assert neighbour.post(f"/lacak/{close}/dukung", data={"csrf": "0" * 64}).status_code == 403

    # The reporter sees the count, never who; supporting one's own report is explained, not counted.
    own = client.get(f"/lacak/{close}")
    assert "1 warga juga mengalami masalah ini" in text_of(own.text) and "Andi" not in own.text
    refused = client.post(f"/lacak/{close}/dukung", data={"csrf": csrf_of(own.text)})
    assert refused.status_code == 403 and "Ini laporan Anda sendiri" in text_of(refused.text)
    assert "1 warga juga mengalami" in text_of(client.get("/laporan").text)


def test_a_visitor_is_asked_to_sign_in_and_an_empty_place_is_explained(
    client: TestClient, app: FastAPI, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.tamu@example.id")
    tracking_id = web_submit(client)
    set_status(db_engine, tracking_id, ReportStatus.TERVERIFIKASI)
    asked = client.post("/lapor/sekitar", data={"csrf": csrf_of(client.get("/lapor").text), "category": "JALAN"})
    assert "Pilih kategori dan kelurahan" in text_of(asked.text)
    with TestClient(app) as visitor:
        page = text_of(visitor.get(f"/lacak/{tracking_id}").text)
        assert "Masuk untuk menyatakan “Saya juga mengalami”" in page
        assert visitor.post(f"/lacak/{tracking_id}/dukung", data={"csrf": ""}).status_code == 403


def test_the_notices_signed_link_stops_that_followers_notices_after_asking(
    client: TestClient, app: FastAPI, mailbox: Mailbox, db_engine: Engine, settings: ApiTestSettings
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.tautan@example.id")
    tracking_id = web_submit(client)
    set_status(db_engine, tracking_id, ReportStatus.PROSES)
    with TestClient(app) as neighbour:
        web_register(neighbour, mailbox, "Andi Pratama", "andi.tautan@example.id")
        page = neighbour.get(f"/lacak/{tracking_id}")
        neighbour.post(f"/lacak/{tracking_id}/dukung", data={"csrf": csrf_of(page.text)})
    with session_scope(db_engine) as session:
        follower_id = session.scalars(select(ReportFollower.reporter_id)).one()
    key = signed_links.signing_key(settings)
    link = support.unfollow_url(tracking_id, follower_id, "", key=key, now=START)
    with TestClient(app) as mail_reader:  # no session: the link alone
        asked = mail_reader.get(link)
        assert asked.status_code == 200 and "Berhenti mengikuti laporan" in text_of(asked.text)
        assert count(db_engine, ReportFollower) == 1  # opening the link changes nothing
        path, _, query = link.partition("?")
        params = dict(pair.split("=", 1) for pair in query.split("&"))
        done = mail_reader.post(path, data=params)
        assert done.status_code == 200 and "tidak lagi menerima kabar" in text_of(done.text)
        assert count(db_engine, ReportFollower) == 0 and count(db_engine, ReportSupport) == 1
        forged = mail_reader.post(path, data=params | {"signature": "x" + params["signature"][1:]})
        assert forged.status_code == 403
        other = support.unfollow_path(tracking_id, follower_id + 1)
        assert mail_reader.post(other, data=params).status_code == 403


def count(db: Engine, model: type) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
