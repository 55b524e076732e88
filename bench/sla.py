"""`python -m bench.sla [--reports 10000] [--runs 7]`: the supervisors' SLA view on a database of 10,000 reports.

A throwaway PostgreSQL (as in production; bench.seeded) migrated with Alembic, filled with a year of
reports at the share of stages a running city has (a third still open, late ones among them) with their timelines
and deadline starts; then the computation (lapor.sla.live_view) and the API endpoint (GET /staff/sla through the
ASGI app in process: routing, token, validation, JSON; no network) are timed for the current month and for the
longest range the API allows (366 days, every report in it). Issue 20 requires the view under 1 s.
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from api.main import create_app
from bench.loads import Figure
from bench.seeded import seed_and_measure
from lapor.db import session_scope
from lapor.deadlines import default_calendar
from lapor.models import DeadlineStart, Report, ReportEvent, ReportStatus
from lapor.settings import Settings
from lapor.sla import live_view
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar

S = ReportStatus
NOW = datetime(2026, 12, 21, 10, 0, tzinfo=PONTIANAK_TZ)
TOKEN = "bench-sla-token"  # noqa: S105 - a throwaway database's API, never deployed
OPDS = ["PUPR", "DLH", "DISHUB", "DINKES", "DISPERKIM", "SATPOLPP", "DINSOS", "PDAM"]
# (share, last status reached, statuses on the way): a year's mix of where reports stand.
STAGES: list[tuple[int, list[ReportStatus]]] = [
    (45, [S.TERVERIFIKASI, S.PROSES, S.MENUNGGU_KONFIRMASI, S.SELESAI]),
    (10, [S.DIKEMBALIKAN, S.DITUTUP]),
    (5, [S.DIKEMBALIKAN_KE_PUSAT]),
    (10, []),  # waiting for verification
    (10, [S.TERVERIFIKASI]),
    (12, [S.TERVERIFIKASI, S.PROSES]),
    (8, [S.TERVERIFIKASI, S.PROSES, S.MENUNGGU_KONFIRMASI]),
]


def _report_rows(count: int, rng: random.Random, calendar: WorkingCalendar) -> list[dict[str, Any]]:
    rows = []
    for number in range(count):
        created = NOW - timedelta(days=365 * (number / count)) - timedelta(minutes=rng.randint(0, 600))
        statuses = rng.choices([s for _, s in STAGES], weights=[w for w, _ in STAGES])[0]
        dispatched = S.TERVERIFIKASI in statuses
        rows.append(
            {
                "tracking_id": f"BEN-{number:06d}",
                "channel": "web",
                "report_type": "pengaduan",
                "title": f"Laporan uji beban {number}",
                "description": "Uji beban tampilan SLA",
                "category": "JALAN",
                "kecamatan_code": "61.71.01",
                "kelurahan_code": "61.71.01.1001",
                "address": "Jl. Uji",
                "status": (statuses[-1] if statuses else S.BELUM_TERVERIFIKASI).value,
                "opd_code": rng.choice(OPDS) if dispatched else None,
                "created_at": created,
                "verification_due_at": calendar.add_working_days(created, 3),
                "disposition_due_at": calendar.add_working_days(created, 6) if dispatched else None,
                "response_due_at": calendar.add_working_days(created, 16) if dispatched else None,
                "completion_due_at": calendar.add_working_days(created, 66) if dispatched else None,
                "documentation_due_at": calendar.add_working_days(created, 40)
                if S.MENUNGGU_KONFIRMASI in statuses
                else None,
                "_statuses": statuses,
            }
        )
    return rows


def seed(db: Engine, count: int) -> None:
    """count reports with their status timelines and deadline starts, inserted in bulk."""
    rng = random.Random(20)  # noqa: S311 - reproducible test data, not a secret
    calendar = WorkingCalendar()
    rows = _report_rows(count, rng, calendar)
    with session_scope(db) as session:
        session.execute(insert(Report), [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows])
        ids = {
            tracking_id: report_id for tracking_id, report_id in session.execute(select(Report.tracking_id, Report.id))
        }
        events: list[dict[str, Any]] = []
        starts: list[dict[str, Any]] = []
        for row in rows:
            report_id, at = ids[row["tracking_id"]], row["created_at"]
            events.append({"report_id": report_id, "kind": "status", "status": S.BELUM_TERVERIFIKASI.value,
                           "actor": "sistem", "occurred_at": at + timedelta(minutes=1)})  # fmt: skip
            for status in row["_statuses"]:
                at += timedelta(hours=rng.randint(4, 24 * 8))
                events.append(
                    {"report_id": report_id, "kind": "status", "status": status.value, "actor": "sistem",
                     "occurred_at": min(at, NOW - timedelta(minutes=5))}
                )  # fmt: skip
            if row["disposition_due_at"] is not None:
                starts.append({"report_id": report_id, "deadline": "disposition", "days": 3,
                               "started_at": row["created_at"] + timedelta(hours=rng.randint(2, 60))})  # fmt: skip
        session.execute(insert(ReportEvent), events)
        session.execute(insert(DeadlineStart), starts)


def _timed(runs: int, call: Callable[[], object]) -> list[float]:
    call()  # warm: first statements are planned, the first request builds the OpenAPI-free route cache
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(db: Engine, *, runs: int) -> list[Figure]:
    # A signing key as production has one (without it every link would read the local key file).
    database_url = db.url.render_as_string(hide_password=False)
    settings = Settings(
        environment="test", database_url=database_url, sla_api_tokens=TOKEN, file_signing_key="bench-signing-key"
    )
    calendar = default_calendar(settings)
    app = create_app(settings, db=db, run_dispatcher=False, clock=lambda: NOW.astimezone(UTC))
    month = (date(2026, 12, 1), date(2026, 12, 31))
    year = (date(2025, 12, 22), date(2026, 12, 21))
    figures: list[Figure] = []
    with TestClient(app) as client:
        for label, (start, end) in (("current month", month), ("366 days", year)):

            def compute(start: date = start, end: date = end) -> object:
                with session_scope(db) as session:
                    return live_view(session, start=start, end=end, now=NOW, within=2, calendar=calendar)

            def request(start: date = start, end: date = end) -> object:
                response = client.get(
                    "/staff/sla",
                    params={"start": str(start), "end": str(end), "within": 2},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                assert response.status_code == 200, response.text
                return response

            body = client.get(
                "/staff/sla",
                params={"start": str(start), "end": str(end)},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ).json()
            note = f"{body['overall']['reports']} reports in range, {body['open']} open, {len(body['at_risk'])} at risk"
            for what, call in (("lapor.sla.live_view", compute), ("GET /staff/sla", request)):
                seconds = _timed(runs, call)
                figures.append(Figure(f"{what}, {label}: median", statistics.median(seconds) * 1000, "ms", note=note))
                figures.append(Figure(f"{what}, {label}: slowest of {runs}", max(seconds) * 1000, "ms"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    seed_and_measure("sla", reports=args.reports, seed=seed, measure=lambda db: measure(db, runs=args.runs), decimals=0)


if __name__ == "__main__":
    main()
