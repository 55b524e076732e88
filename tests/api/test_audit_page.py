"""The supervisors' audit trail page (issue 20, item 3): koordinator and kepala bidang, signed in with their Tasklist
login on the real engine, read who did what with a report and download it; every other role and a visitor are
refused; a changed entry shows as a broken chain naming it; the reporter is never named."""

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from lapor.db import session_scope
from lapor.models import AuditEntry, Report
from tests.api.test_front_desk import FACE_TO_FACE, file, limits, scan, settings, sign_in, signed_in
from tests.web.conftest import text_of

pytestmark = pytest.mark.engine
__all__ = ["limits", "settings"]  # the front desk's fixtures: the real engine's logins, its sign-in limits


@pytest.fixture
def filed(app: FastAPI) -> str:
    """A face-to-face report Admin Pengaduan filed at the front desk; its tracking id."""
    with TestClient(app) as desk:
        signed_in(desk, "admin-pengaduan")
        answer = file(desk, FACE_TO_FACE, [scan()])
        assert answer.status_code == 303, text_of(answer.text)
        return str(answer.headers["location"].rsplit("/", 1)[1])


@pytest.mark.parametrize("supervisor", ["koordinator", "kepala-bidang"])
def test_a_supervisor_reads_who_filed_the_report_and_downloads_the_trail(
    client: TestClient, filed: str, supervisor: str
) -> None:
    signed_in(client, supervisor)
    home = text_of(client.get("/staf").text)
    assert "Jejak audit laporan: nomor laporan" in home and "Catat laporan baru" not in home
    found = client.get("/staf/jejak", params={"nomor": filed.lower()}, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, f"/staf/laporan/{filed}/jejak")
    shown = client.get(f"/staf/laporan/{filed}/jejak")
    assert shown.status_code == 200, text_of(shown.text)
    page = text_of(shown.text)
    assert f"Nomor laporan {filed}" in page
    assert "Rantai jejak utuh: 1 catatan" in page
    assert "Laporan diterima" in page and "Petugas: admin-pengaduan" in page
    assert "Laporan masuk: Petugas, diterima melalui tatap muka" in page
    assert "hasan" not in page.lower()  # the reporter the clerk typed in is never in the trail

    table = client.get(f"/staf/laporan/{filed}/jejak.csv")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert table.headers["content-disposition"] == f'attachment; filename="jejak-{filed}.csv"'
    rows = table.text.lstrip("\ufeff").splitlines()
    assert rows[0] == "No.,Waktu (WIB),Pelaku,Tindakan,Keterangan,Dicatat (UTC),MAC"
    assert rows[1].startswith("1,") and "Petugas: admin-pengaduan,Laporan diterima" in rows[1]
    # Downloading is itself in the trail, by the supervisor, and the file holds it.
    assert rows[2].startswith("2,") and f"Petugas: {supervisor},Jejak audit diekspor" in rows[2]
    exported = json.loads(client.get(f"/staf/laporan/{filed}/jejak.json").text)
    assert exported["tracking_id"] == filed
    assert [e["action"] for e in exported["entries"]] == ["report_received", "trail_exported", "trail_exported"]
    assert "hasan" not in json.dumps(exported).lower()
    assert "Rantai jejak utuh: 3 catatan" in text_of(client.get(f"/staf/laporan/{filed}/jejak").text)


@pytest.mark.parametrize("user", ["admin-pengaduan", "analis", "opd-dishub"])
def test_other_roles_may_not_read_a_trail(client: TestClient, filed: str, user: str, db_engine: Engine) -> None:
    signed_in(client, user)
    for path in (f"/staf/laporan/{filed}/jejak", f"/staf/laporan/{filed}/jejak.csv", f"/staf/jejak?nomor={filed}"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 403, (path, text_of(refused.text))
        assert "Peran Anda tidak" in text_of(refused.text) or "tidak berhak" in text_of(refused.text).lower()
    with session_scope(db_engine) as session:  # a refused download records nothing
        assert len(session.scalars(select(AuditEntry)).all()) == 1


def test_a_visitor_is_sent_to_sign_in_and_bad_numbers_are_refused(client: TestClient, filed: str) -> None:
    away = client.get(f"/staf/laporan/{filed}/jejak", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/staf/masuk?lanjut=")
    assert client.get(f"/staf/laporan/{filed}/jejak.json", follow_redirects=False).status_code == 303
    signed_in(client, "koordinator")
    assert client.get("/staf/laporan/PTK-0000-TIDAKADA/jejak").status_code == 404
    assert client.get("/staf/laporan/PTK-0000-TIDAKADA/jejak.csv").status_code == 404
    assert client.get("/staf/laporan/<script>/jejak").status_code in (404, 422)
    assert client.get(f"/staf/laporan/{filed}/jejak.xml").status_code in (404, 422)


def test_a_changed_entry_shows_as_a_broken_chain(client: TestClient, filed: str, db_engine: Engine) -> None:
    with db_engine.begin() as connection:
        report_id = connection.scalar(select(Report.id).where(Report.tracking_id == filed))
        postgres = connection.dialect.name == "postgresql"
        lift = "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"
        connection.execute(text(lift if postgres else "DROP TRIGGER audit_entries_append_only"))
        connection.execute(
            text("UPDATE audit_entries SET actor = 'orang-lain' WHERE report_id = :id"), {"id": report_id}
        )
        entry_id = connection.scalar(select(AuditEntry.id).where(AuditEntry.report_id == report_id))
        connection.execute(
            text(
                "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"
                if postgres
                else "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
        )
    signed_in(client, "koordinator")
    page = text_of(client.get(f"/staf/laporan/{filed}/jejak").text)
    assert "Rantai jejak rusak" in page
    assert f"audit entry {entry_id} (report {filed}, #1)" in page


def test_sign_in_goes_back_to_the_trail_asked_for(client: TestClient, filed: str) -> None:
    answer = sign_in(client, "koordinator", back=f"/staf/laporan/{filed}/jejak")
    assert (answer.status_code, answer.headers["location"]) == (303, f"/staf/laporan/{filed}/jejak")
