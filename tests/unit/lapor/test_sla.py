"""The SLA computation on a seeded set whose figures were worked out by hand (tests/support/sla_seed.py), and the
monthly recap showing the very same figures for the same period."""

from datetime import date

import pytest

from lapor import sla
from lapor.recap import compute_recap
from lapor.sla import NOT_DISPATCHED, SlaCount, live_view, working_days_left
from lapor.vocabulary import Deadline
from lapor.workdays import WorkingCalendar
from tests.support.sla_seed import NOW, due, seed_reports, wib
from tests.unit.conftest import SessionFactory

D = Deadline
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))
CALENDAR = WorkingCalendar()


@pytest.fixture
def seeded(session_factory: SessionFactory) -> SessionFactory:
    with session_factory() as session:
        seed_reports(session)
    return session_factory


def test_working_days_left_counts_the_working_calendar() -> None:
    assert working_days_left(due(12, 21), NOW, CALENDAR) == 0  # due tonight
    assert working_days_left(due(12, 23), NOW, CALENDAR) == 2  # 22, 23
    assert working_days_left(due(12, 28), NOW, CALENDAR) == 3  # 22, 23, 28: 24 cuti bersama, 25 Christmas
    lifted = WorkingCalendar(extra_working_days=frozenset({date(2026, 12, 24)}))
    assert working_days_left(due(12, 28), NOW, lifted) == 4  # the city works on the cuti bersama day
    assert working_days_left(due(12, 18), NOW, CALENDAR) == -1  # Friday's deadline, on Monday
    assert working_days_left(due(12, 18), wib(12, 19, 9), CALENDAR) == -1  # late on a Saturday still counts as late
    assert working_days_left(due(12, 3), NOW, CALENDAR) == -12


def test_november_compliance_as_worked_out_by_hand(seeded: SessionFactory) -> None:
    with seeded() as session:
        facts = sla.judge_created(session, *NOVEMBER, sla.local_midnight(date(2026, 12, 1)))
    figures = sla.compliance(facts)
    assert figures.reports == 5  # A B C L M
    assert figures.compliance == {
        D.VERIFICATION: SlaCount(met=2, missed=1, pending=2),  # A B / M / C L (L's return was round 1)
        D.DISPOSITION: SlaCount(met=2, missed=1, pending=0),  # A M / B
        D.OPD_RESPONSE: SlaCount(met=2, missed=0, pending=1),  # A M / B
        D.OPD_COMPLETION: SlaCount(met=1, missed=1, pending=1),  # A / M / B
        D.DOCUMENTATION: SlaCount(met=1, missed=0, pending=1),  # A / M (documented 3 Dec, due 4 Dec)
    }
    assert figures.median_hours_to_verification == 71  # A 25, B 46, L 96, M 168
    assert figures.median_hours_dispatched_to_process == 168  # A 144, M 192
    assert figures.median_hours_to_completion == 576  # A only; M closed in December


def test_the_live_view_now(seeded: SessionFactory) -> None:
    with seeded() as session:
        view = live_view(session, start=DECEMBER[0], end=DECEMBER[1], now=NOW, within=2, calendar=CALENDAR)
    assert (view.open, view.late, view.due_soon) == (9, 4, 2)
    assert view.as_of == NOW  # December is not over: judged as of now
    rows = [
        (r.tracking_id, r.deadline, r.working_days_left, r.late, r.holder_group, r.holder, r.status)
        for r in view.at_risk
    ]
    assert rows == [
        ("SLA-C", D.VERIFICATION, -13, True, "admin-pengaduan", "Admin Pengaduan Daerah", "BELUM_TERVERIFIKASI"),
        ("SLA-B", D.OPD_RESPONSE, -12, True, "opd-dlh", "Dinas Lingkungan Hidup", "TERVERIFIKASI"),
        ("SLA-L", D.VERIFICATION, -12, True, "admin-pengaduan", "Admin Pengaduan Daerah", "BELUM_TERVERIFIKASI"),
        ("SLA-J", D.VERIFICATION, -1, True, "admin-pengaduan", "Admin Pengaduan Daerah", "BELUM_TERVERIFIKASI"),
        ("SLA-G", D.DOCUMENTATION, 0, False, "admin-pengaduan", "Admin Pengaduan Daerah", "PROSES"),
        (
            "SLA-D",
            D.DISPOSITION,
            2,
            False,
            "admin-pengaduan,analis,kepala-bidang",
            "Admin Pengaduan / Analis / Kepala Bidang",
            "BELUM_TERVERIFIKASI",
        ),
    ]
    assert [r.due_at for r in view.at_risk][:2] == [due(12, 2), due(12, 3)]
    # Master-data order, OPDs with nothing open and nothing in the period left out, the undispatched last.
    per_opd = [(o.opd_code, o.open, o.late, o.due_soon, o.figures.reports) for o in view.per_opd]
    assert per_opd == [("PUPR", 2, 0, 1, 2), ("DLH", 2, 1, 0, 1), ("DISHUB", 1, 0, 0, 1), (None, 4, 3, 1, 3)]
    # December's compliance, as of now.
    assert view.overall.compliance == {
        D.VERIFICATION: SlaCount(met=6, missed=1, pending=0),  # D E F G H I / J
        D.DISPOSITION: SlaCount(met=4, missed=0, pending=1),  # E F G H / D
        D.OPD_RESPONSE: SlaCount(met=4, missed=0, pending=0),  # E F G H
        D.OPD_COMPLETION: SlaCount(met=2, missed=0, pending=2),  # G H / E F
        D.DOCUMENTATION: SlaCount(met=1, missed=0, pending=1),  # H / G
    }
    assert view.overall.median_hours_to_verification == 24  # D 26, E F G H 24, I 48
    assert view.overall.median_hours_dispatched_to_process == 48  # E 144, F 72, G 24, H 24
    assert view.overall.median_hours_to_completion is None  # nothing Selesai in December yet


def test_a_wider_window_takes_in_the_deadline_after_the_holidays(seeded: SessionFactory) -> None:
    with seeded() as session:
        three = live_view(session, start=DECEMBER[0], end=DECEMBER[1], now=NOW, within=3, calendar=CALENDAR)
        lifted = WorkingCalendar(extra_working_days=frozenset({date(2026, 12, 24)}))
        not_with_work_on_24 = live_view(session, start=DECEMBER[0], end=DECEMBER[1], now=NOW, within=3, calendar=lifted)
    assert [r.tracking_id for r in three.at_risk][-1] == "SLA-E" and three.due_soon == 3
    assert "SLA-E" not in [r.tracking_id for r in not_with_work_on_24.at_risk]  # 4 working days left then


def test_the_view_of_a_past_month_is_the_recap_of_that_month(seeded: SessionFactory) -> None:
    with seeded() as session:
        view = live_view(session, start=NOVEMBER[0], end=NOVEMBER[1], now=NOW, within=2, calendar=CALENDAR)
        recap = compute_recap(session, *NOVEMBER)
    assert view.as_of == sla.local_midnight(date(2026, 12, 1))
    compliance = view.overall.compliance
    assert (recap.verification, recap.disposition, recap.response, recap.completion, recap.documentation) == (
        compliance[D.VERIFICATION],
        compliance[D.DISPOSITION],
        compliance[D.OPD_RESPONSE],
        compliance[D.OPD_COMPLETION],
        compliance[D.DOCUMENTATION],
    )
    assert recap.verification == SlaCount(met=2, missed=1, pending=2)  # by hand, as above
    assert (recap.median_hours_to_verification, recap.median_hours_verified_to_process) == (71, 168)
    assert recap.sla_per_opd == {sla.opd_name(o.opd_code): o.figures for o in view.per_opd if o.figures.reports}
    assert list(recap.sla_per_opd) == [
        "Dinas Pekerjaan Umum dan Penataan Ruang",
        "Dinas Lingkungan Hidup",
        NOT_DISPATCHED,
    ]
    assert recap.sla_per_opd["Dinas Lingkungan Hidup"].compliance[D.DISPOSITION] == SlaCount(missed=1)  # B


def test_end_before_start_is_refused(session_factory: SessionFactory) -> None:
    with session_factory() as session, pytest.raises(ValueError):
        sla.judge_created(session, date(2026, 12, 2), date(2026, 12, 1), NOW)
