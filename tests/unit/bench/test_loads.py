"""The bench's CPU meter: per-report figures from the processes' CPU, the whole stack or the city's own part."""

from typing import Any, cast

import pytest

from bench.loads import CITY_PROCESSES, CpuMeter
from faults.topology import Stack

# CPU seconds over a load of 100 reports, by process, as the meter names them.
SPENT = {
    "lapor-engine-1": 2.9,
    "engine-postgres": 2.2,
    "api": 1.9,
    "workers-1": 1.4,
    "workers-2": 1.3,
    "app-postgres": 1.2,
    "bench": 0.9,
}


def meter() -> CpuMeter:
    measured = CpuMeter(cast(Stack, cast(Any, None)))
    measured.spent = dict(SPENT)
    return measured


def test_a_figure_counts_every_process_per_report_with_the_largest_share_first() -> None:
    figure = meter().figure("intake: CPU per report", 100, "ms")
    assert figure.value == pytest.approx(118.0)
    assert figure.note.startswith("lapor-engine-1 29.0, engine-postgres 22.0, api 19.0")


def test_the_citys_own_steps_leave_out_the_engine_its_database_and_the_load_generator() -> None:
    figure = meter().figure("intake: the city's own steps", 100, "ms", only=CITY_PROCESSES)
    assert figure.value == pytest.approx(19.0 + 14.0 + 13.0 + 12.0)
    assert figure.note == "api 19.0, workers-1 14.0, workers-2 13.0, app-postgres 12.0"
