"""The one-database benchmarks' run (bench.nearby, bench.sla): a private PostgreSQL migrated with Alembic, seeded
with `reports` rows, measured in process, each figure printed as a row of docs/benchmarks.md's tables."""

import time
from collections.abc import Callable

from sqlalchemy import Engine

from bench.loads import Figure
from faults.topology import migrated_database


def seed_and_measure(
    name: str,
    *,
    reports: int,
    seed: Callable[[Engine, int], None],
    measure: Callable[[Engine], list[Figure]],
    decimals: int = 1,
) -> None:
    """Seed `reports` rows into a private database, time the seeding, print `measure`'s figures as table rows."""
    with migrated_database(f"lapor-bench-{name}-") as db:
        started = time.perf_counter()
        seed(db, reports)
        print(f"seeded {reports} reports in {time.perf_counter() - started:.1f} s")
        for figure in measure(db):
            print(f"| {figure.name} | {figure.value:.{decimals}f} {figure.unit} | {figure.load} | {figure.note} |")
