"""The CI-sized fault run (`python -m faults --size ci`): two engine nodes on PostgreSQL, the API and two worker
processes, put through worker kills, an engine outage, a database restart, a backup restored and a node kill."""

import pytest

from faults.__main__ import NAMES, run
from faults.scenarios import Verdict

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Verdict]:
    """One stack, every scenario once (a few minutes); each test reads its verdict."""
    return {verdict.name: verdict for verdict in run("ci")}


@pytest.mark.parametrize("name", ["worker-kills", "engine-down", "node-kill"])
def test_the_fault_ends_in_a_passing_verdict(verdicts: dict[str, Verdict], name: str) -> None:
    assert list(verdicts) == list(NAMES)
    assert verdicts[name].passed, verdicts[name].line()


def test_a_database_restart_is_answered_with_503_and_loses_nothing(verdicts: dict[str, Verdict]) -> None:
    assert verdicts["db-restart"].passed, verdicts["db-restart"].line()


def test_a_restore_of_dumps_taken_apart_under_load_is_repaired_whole(verdicts: dict[str, Verdict]) -> None:
    """Nothing acknowledged before the earlier dump lost, one instance per report, every report tracked."""
    assert verdicts["restore-pair"].passed, verdicts["restore-pair"].line()
