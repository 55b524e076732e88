"""GET /staff/sla: the seeded set's figures (worked out by hand in tests/support/sla_seed.py) over HTTP, equal to
the monthly recap's for the same period; and every way in that must be refused."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor.db import session_scope
from lapor.recap import compute_recap
from tests.api.conftest import NATIONAL_TOKEN, SLA_TOKEN, STAFF_TOKEN, Clock
from tests.support.sla_seed import NOW, REPORTER_EMAIL, REPORTER_NAME, seed_reports

AUTH = {"Authorization": f"Bearer {SLA_TOKEN}"}


@pytest.fixture
def seeded(client: TestClient, db_engine: Engine, api_clock: Clock) -> TestClient:
    api_clock.now = NOW
    with session_scope(db_engine) as session:
        seed_reports(session)
    return client


def test_the_current_month_by_default(seeded: TestClient) -> None:
    response = seeded.get("/staff/sla", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"  # signed links inside
    body = response.json()
    assert (body["start"], body["end"], body["within"]) == ("2026-12-01", "2026-12-31", 2)
    assert (body["open"], body["late"], body["due_soon"]) == (9, 4, 2)
    rows = [(r["tracking_id"], r["deadline"], r["working_days_left"], r["late"], r["holder"]) for r in body["at_risk"]]
    assert rows == [
        ("SLA-C", "verification", -13, True, "Admin Pengaduan Daerah"),
        ("SLA-B", "opd-response", -12, True, "Dinas Lingkungan Hidup"),
        ("SLA-L", "verification", -12, True, "Admin Pengaduan Daerah"),
        ("SLA-J", "verification", -1, True, "Admin Pengaduan Daerah"),
        ("SLA-G", "documentation", 0, False, "Admin Pengaduan Daerah"),
        ("SLA-D", "disposition", 2, False, "Admin Pengaduan / Analis / Kepala Bidang"),
    ]
    first = body["at_risk"][0]
    assert first["due_text"] == "Rabu, 2 Desember 2026 pukul 23.59 WIB"
    assert first["status_label"] == "Belum Terverifikasi" and first["opd_name"] == "Belum didisposisi"
    assert first["deadline_label"] == "Verifikasi oleh Admin Pengaduan"
    # The signed staff page link opens the report's page.
    page = seeded.get(first["staff_url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and "Lampu jalan padam di Gang Sepakat" in page.text
    assert body["overall"]["compliance"]["verification"] == {"met": 6, "missed": 1, "pending": 0, "met_ratio": 6 / 7}
    assert [(o["opd_code"], o["open"], o["late"], o["due_soon"]) for o in body["per_opd"]] == [
        ("PUPR", 2, 0, 1),
        ("DLH", 2, 1, 0),
        ("DISHUB", 1, 0, 0),
        (None, 4, 3, 1),
    ]


def test_a_wider_window(seeded: TestClient) -> None:
    body = seeded.get("/staff/sla", params={"within": 3}, headers=AUTH).json()
    assert body["due_soon"] == 3 and body["at_risk"][-1]["tracking_id"] == "SLA-E"
    assert body["at_risk"][-1]["due_text"] == "Senin, 28 Desember 2026 pukul 23.59 WIB"


def test_a_past_month_equals_its_recap(seeded: TestClient, db_engine: Engine) -> None:
    body = seeded.get("/staff/sla", params={"start": "2026-11-01", "end": "2026-11-30"}, headers=AUTH).json()
    with session_scope(db_engine) as session:
        recap = compute_recap(session, date(2026, 11, 1), date(2026, 11, 30))
    compliance = body["overall"]["compliance"]
    for field, count in (
        ("verification", recap.verification),
        ("disposition", recap.disposition),
        ("opd_response", recap.response),
        ("opd_completion", recap.completion),
        ("documentation", recap.documentation),
    ):
        assert compliance[field] == {
            "met": count.met,
            "missed": count.missed,
            "pending": count.pending,
            "met_ratio": count.met_ratio,
        }, field
    assert compliance["verification"] == {"met": 2, "missed": 1, "pending": 2, "met_ratio": 2 / 3}  # by hand
    assert body["overall"]["median_hours_to_verification"] == recap.median_hours_to_verification == 71
    per_opd = {o["opd_name"]: o["period"]["compliance"] for o in body["per_opd"] if o["period"]["reports"]}
    assert list(per_opd) == list(recap.sla_per_opd)
    for name, figures in recap.sla_per_opd.items():
        assert [(c["met"], c["missed"], c["pending"]) for c in per_opd[name].values()] == [
            (count.met, count.missed, count.pending) for count in figures.compliance.values()
        ], name
    assert per_opd["Dinas Lingkungan Hidup"]["disposition"]["missed"] == 1  # B, by hand


def test_never_the_reporter(seeded: TestClient) -> None:
    text = seeded.get("/staff/sla", params={"within": 20}, headers=AUTH).text
    assert REPORTER_NAME not in text and REPORTER_EMAIL not in text and "reporter" not in text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {STAFF_TOKEN}"},
        {"Authorization": f"Bearer {NATIONAL_TOKEN}"},
        {"Authorization": f"Basic {SLA_TOKEN}"},
        {"Authorization": SLA_TOKEN},
        {"Authorization": f"Bearer {SLA_TOKEN}x"},
    ],
)
def test_refused_without_the_sla_token(seeded: TestClient, headers: dict[str, str]) -> None:
    response = seeded.get("/staff/sla", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "SLA-" not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-10", "end": "2026-12-01"}, "query.end"),
        ({"start": "2025-01-01", "end": "2026-12-31"}, "query.end"),
        ({"within": -1}, "query.within"),
        ({"within": 21}, "query.within"),
        ({"within": "dua"}, "query.within"),
        ({"start": "2026-02-30"}, "query.start"),
        ({"start": "kemarin"}, "query.start"),
        ({"end": "2026-12-01T10:00:00"}, "query.end"),
    ],
)
def test_bad_parameters_are_422(seeded: TestClient, params: dict[str, object], field: str) -> None:
    response = seeded.get("/staff/sla", params=params, headers=AUTH)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in {"validation_error", "invalid_input"}
    assert [d["field"] for d in error["details"]] == [field]


def test_no_token_configured_refuses_everyone(seeded: TestClient, app: object) -> None:
    seeded.app.state.context.settings = seeded.app.state.context.settings.model_copy(update={"sla_api_tokens": ""})  # type: ignore[attr-defined]
    assert seeded.get("/staff/sla", headers=AUTH).status_code == 401
    assert seeded.get("/staff/sla", headers={"Authorization": "Bearer "}).status_code == 401


def test_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/staff/sla"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"start", "end", "within"}
    assert {"401", "422"} <= set(operation["responses"])
    assert "SlaToken" in document["components"]["securitySchemes"]
