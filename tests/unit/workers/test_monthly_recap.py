"""lapor-recap: the month before the engine's clock, as a workbook the Analis opens from recapUrl."""

from datetime import UTC, datetime

import openpyxl
import pytest

from lapor.process.tasks import ModelError
from lapor.vocabulary import Topic
from tests.support.builders import report_row
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import BASE_URL, Installed, TaskFactory, wib
from workers.monthly_recap import make_recap

# 1 December 2026, 08:00 WIB (01:00 UTC): when the monthly timer fires.
RECAP_TIME = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def add_november_report(session_factory: SessionFactory, number: int) -> None:
    with session_factory() as session:
        session.add(
            report_row(f"PTK-2611-REKAP{number}", title=f"Laporan {number}", created_at=wib(2026, 11, 10 + number, 9))
        )


def test_the_recap_of_november_is_written_and_linked(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_november_report(session_factory, 1)
    add_november_report(session_factory, 2)
    # The recap process has no report: only the engine's clock.
    result = make_recap(installed.deps, task(Topic.RECAP, trackingId=None, engineNow=RECAP_TIME))

    assert result["recapPeriod"] == "2026-11"
    assert isinstance(result["recapDocumentId"], int)
    assert result["recapUrl"] == f"{BASE_URL}/staff/recaps/2026-11.xlsx"
    summary = openpyxl.load_workbook(installed.settings.data_dir / "recaps" / "rekap-2026-11.xlsx")["Ringkasan"]
    assert (summary["B4"].value, summary["B6"].value) == ("November 2026", 2)
    # The analis and kepala bidang review it before the 10th (Tasklist's due date, "Lewat tenggat" after it).
    assert result["recapReviewDueAt"] == wib(2026, 12, 9, 23, 59, 59)
    assert result["recapReviewDueText"] == "Rabu, 9 Desember 2026 pukul 23.59 WIB"


def test_the_recap_needs_the_engines_clock(installed: Installed, task: TaskFactory) -> None:
    with pytest.raises(ModelError, match="no variable 'engineNow'"):
        make_recap(installed.deps, task(Topic.RECAP, engineNow=None))
