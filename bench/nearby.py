"""`python -m bench.nearby [--reports 100000] [--queries 300]`: the nearby search on 100,000 reports in PostgreSQL.

A throwaway PostgreSQL (bench.seeded) migrated with Alembic, filled with reports spread over the
city's bounds (the API's latitude/longitude range) in every category and at the share of stages a running city has
(some confidential), half with a photo and some with supports. Then random points in the city are searched:
`lapor.nearby.find` alone, and `GET /reports/nearby` through the ASGI app in process (validation, rate limit
counted in the database, signed photo links, JSON; no network), each query after one warm-up; the same again by
kelurahan, and once more with the bounding-box index dropped, to show what it buys. Issue 22 asks <= 50 ms p95.
"""

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text

from api.main import create_app
from api.schemas import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN
from bench.loads import Figure, percentile
from bench.seeded import seed_and_measure
from lapor import masterdata, nearby
from lapor.db import session_scope
from lapor.models import Photo, Report, Reporter, ReportStatus, ReportSupport
from lapor.ratelimit import Limit
from lapor.settings import Settings

S = ReportStatus
NOW = datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
RADIUS_M = 150.0
# (share, status): where a year of reports stands; the first three are suggested (open and verified).
STATUSES = [(12, S.TERVERIFIKASI), (15, S.PROSES), (8, S.MENUNGGU_KONFIRMASI), (40, S.SELESAI), (10, S.DITUTUP),
            (5, S.DIKEMBALIKAN_KE_PUSAT), (10, S.BELUM_TERVERIFIKASI)]  # fmt: skip


def seed(db: Engine, count: int) -> None:
    """count reports over the city, a photo for every other one, supports on some, inserted in bulk."""
    rng = random.Random(22)  # noqa: S311 - reproducible test data, not a secret
    categories = [c.code for c in masterdata.category_list()]
    places = [(k.code, x.code) for k in masterdata.kecamatan_list() for x in masterdata.kelurahan_list(k.code)]
    with session_scope(db) as session:
        supporter = Reporter(name="Warga Uji", email="warga.uji@example.test", created_at=NOW)
        session.add(supporter)
        session.flush()
        supporter_id = supporter.id
        rows: list[dict[str, Any]] = []
        for number in range(count):
            kecamatan, kelurahan = rng.choice(places)
            rows.append(
                {
                    "tracking_id": f"DKT-{number:07d}",
                    "channel": "web",
                    "report_type": "pengaduan",
                    "title": f"Laporan uji sekitar {number}",
                    "description": "Uji beban pencarian laporan di sekitar",
                    "category": rng.choice(categories),
                    "kecamatan_code": kecamatan,
                    "kelurahan_code": kelurahan,
                    "address": "Jl. Uji",
                    "latitude": rng.uniform(LAT_MIN, LAT_MAX),
                    "longitude": rng.uniform(LON_MIN, LON_MAX),
                    "confidential": rng.random() < 0.05,
                    "status": rng.choices([s for _, s in STATUSES], weights=[w for w, _ in STATUSES])[0].value,
                    "created_at": NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60)),
                }
            )
        for start in range(0, count, 10_000):
            session.execute(insert(Report), rows[start : start + 10_000])
        ids = list(session.scalars(select(Report.id)))
        photos = [
            {"report_id": i, "sha256": f"{i:064x}", "content_type": "image/jpeg", "size_bytes": 1, "kind": "report",
             "created_at": NOW}
            for i in ids[::2]
        ]  # fmt: skip
        for start in range(0, len(photos), 10_000):
            session.execute(insert(Photo), photos[start : start + 10_000])
        supports = [{"report_id": i, "reporter_id": supporter_id, "created_at": NOW} for i in ids[::7]]
        session.execute(insert(ReportSupport), supports)
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


def _points(count: int) -> list[tuple[float, float]]:
    rng = random.Random(150)  # noqa: S311
    return [(rng.uniform(LAT_MIN, LAT_MAX), rng.uniform(LON_MIN, LON_MAX)) for _ in range(count)]


def _timed(calls: list[Callable[[], object]]) -> list[float]:
    calls[0]()  # warm: the first statements are planned
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def _figures(what: str, seconds: list[float], note: str = "") -> list[Figure]:
    ms = [s * 1000 for s in seconds]
    return [
        Figure(f"{what}: median", percentile(ms, 0.5), "ms", note=note),
        Figure(f"{what}: p95", percentile(ms, 0.95), "ms"),
        Figure(f"{what}: slowest", max(ms), "ms"),
    ]


def measure(db: Engine, *, queries: int) -> list[Figure]:
    database_url = db.url.render_as_string(hide_password=False)
    settings = Settings(environment="test", database_url=database_url, file_signing_key="bench-signing-key")
    # The API's own limit counted in the database (as in production), high enough not to refuse the benchmark.
    limits = {"nearby:ip": Limit(1_000_000, timedelta(minutes=10))}
    app = create_app(settings, db=db, run_dispatcher=False, limits=limits, clock=lambda: NOW)
    categories = [c.code for c in masterdata.category_list()]
    kelurahan = [x.code for x in masterdata.kelurahan_list()]
    rng = random.Random(7)  # noqa: S311
    asks = [(rng.choice(categories), point) for point in _points(queries)]
    found: list[int] = []

    def direct(category: str, point: tuple[float, float]) -> Callable[[], object]:
        def call() -> object:
            with session_scope(db) as session:
                hits = nearby.find(session, category=category, latitude=point[0], longitude=point[1],
                                   kelurahan_code=None, radius_m=RADIUS_M, limit=5)  # fmt: skip
                found.append(len(hits))
                return hits

        return call

    figures = _figures("lapor.nearby.find, 150 m", _timed([direct(c, p) for c, p in asks]))
    note = f"{sum(found) / len(found):.1f} suggestions a query on average, at most {max(found)}"
    figures[0].note = note
    with TestClient(app) as client:

        def request(params: dict[str, object]) -> Callable[[], object]:
            def call() -> object:
                response = client.get("/reports/nearby", params=params)
                assert response.status_code == 200, response.text
                return response

            return call

        by_point = [request({"category": c, "lat": p[0], "lon": p[1]}) for c, p in asks]
        figures += _figures("GET /reports/nearby, 150 m", _timed(by_point), "rate limit counted in PostgreSQL")
        by_kelurahan = [request({"category": c, "kelurahan": rng.choice(kelurahan)}) for c, _ in asks]
        figures += _figures("GET /reports/nearby, by kelurahan", _timed(by_kelurahan), "newest 5 of the kelurahan")
    with db.begin() as connection:
        connection.execute(text("DROP INDEX ix_reports_nearby_point"))
    found.clear()
    without = _figures("lapor.nearby.find, 150 m, without the (category, lat, lon) index",
                       _timed([direct(c, p) for c, p in asks]))  # fmt: skip
    return figures + without


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    seed_and_measure(
        "nearby", reports=args.reports, seed=seed, measure=lambda db: measure(db, queries=args.queries), decimals=1
    )


if __name__ == "__main__":
    main()
