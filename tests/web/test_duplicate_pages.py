"""A merged duplicate on its reporter's tracking page: the status Digabungkan, the timeline naming the report it
joined, no deadline (it is closed), and the undo in words; the original's page never names the duplicate."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor import duplicates, reports
from lapor.db import session_scope
from lapor.models import ReportStatus
from lapor.vocabulary import Actor
from tests.api.conftest import START, set_status
from tests.conftest import Mailbox
from tests.web.conftest import text_of, web_register, web_submit


def test_a_merged_report_says_which_report_it_joined_and_an_undo_says_so_too(
    client: TestClient, mailbox: Mailbox, db_engine: Engine
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.duplikat@example.id")
    original, duplicate = web_submit(client), web_submit(client)
    set_status(db_engine, original, ReportStatus.TERVERIFIKASI, actor=Actor.ADMIN_PENGADUAN)
    set_status(db_engine, duplicate, ReportStatus.BELUM_TERVERIFIKASI)
    with session_scope(db_engine) as session:
        duplicates.merge(
            session,
            duplicate=reports.get_by_tracking_id(session, duplicate),
            original=reports.get_by_tracking_id(session, original),
            at=START + timedelta(hours=1),
            task_id="merge-task",
        )

    page = text_of(client.get(f"/lacak/{duplicate}").text)
    assert "Status: Digabungkan" in page
    assert "Digabungkan dengan laporan lain tentang masalah yang sama" in page
    assert f"Digabungkan dengan laporan {original}" in page
    assert "Batas waktu" not in page  # closed: nothing is awaited any more
    assert duplicate not in text_of(client.get(f"/lacak/{original}").text)

    with session_scope(db_engine) as session:
        duplicates.undo(session, tracking_id=duplicate, now=START + timedelta(hours=2))
    html = client.get(f"/lacak/{duplicate}").text
    lines = re.findall(r'<strong>([^<]+)</strong> <span class="status-kecil">Status: ([^<]+)</span>', html)
    assert lines[-2:] == [
        ("Digabungkan dengan laporan lain tentang masalah yang sama", "Digabungkan"),
        ("Penggabungan dibatalkan, menunggu verifikasi ulang", "Belum Terverifikasi"),
    ]
    assert f"Penggabungan dengan laporan {original} dibatalkan" in text_of(html)
