"""Simulated city: how many running deadlines move when one cuti bersama day is added during the year.

    .venv/bin/python bench/calendar_simulation.py                       # 200 reports a month, 2026-2027
    .venv/bin/python bench/calendar_simulation.py --per-month 400 --day-off 2027-05-21 --announced 2027-04-30

Reports arrive at random over 2026-2027 and go through the SOP with random but plausible step durations
(verification, a supplement round for some, dispatch, OPD response and completion, the reporter's confirmation).
Every deadline is computed with the real functions (`lapor.deadlines.compute_sla`, the default calendar). On the
day the new cuti bersama is announced, every deadline still running (its step not finished) is computed again with
the day added, as `python -m lapor.recompute` would; the script counts those whose due date or reminder moves.
It also sweeps every working day of 2027 as the added day (announced four weeks before) for the spread.
No engine, no database: a simulation, not a test; the figure goes in notes.
"""

import argparse
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lapor.deadlines import Sla, compute_sla, model_rules
from lapor.vocabulary import Deadline
from lapor.workdays import PONTIANAK_TZ, WorkingCalendar

START, END = date(2026, 1, 1), date(2027, 12, 31)


@dataclass(frozen=True)
class Running:
    """One deadline of one report and when its step finished (the deadline stops mattering then)."""

    report: int
    sla: Sla
    ends_at: datetime


def _at(day: date, rng: random.Random) -> datetime:
    """A submission moment on that day, mostly in waking hours (WIB)."""
    hour = min(23, max(0, round(rng.gauss(13, 4))))
    return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=PONTIANAK_TZ).astimezone(UTC)


def _days(low: float, high: float, rng: random.Random) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def simulate(per_month: int, seed: int) -> list[Running]:
    """Every deadline of every simulated report, with the moment its step ended (lengths from the process model)."""
    rules = model_rules()
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    months = (END.year - START.year) * 12 + END.month - START.month + 1
    total = per_month * months
    span = (END - START).days + 1
    deadlines: list[Running] = []

    def add(report: int, deadline: Deadline, start: datetime, ends_at: datetime) -> None:
        deadlines.append(Running(report, rules[deadline].start(start), ends_at))

    for report in range(total):
        received = _at(START + timedelta(days=rng.randrange(span)), rng)
        verified = received + _days(0.1, 5, rng)
        add(report, Deadline.VERIFICATION, received, verified)
        if rng.random() < 0.12:  # tidak lengkap: the reporter supplements, or the report closes after 10 days
            answered = verified + _days(0.5, 14, rng)
            add(report, Deadline.SUPPLEMENT, verified, min(answered, verified + timedelta(days=10)))
            if answered > verified + timedelta(days=10):
                continue
            verified, received = answered + _days(0.1, 4, rng), answered
            add(report, Deadline.VERIFICATION, received, verified)
        if rng.random() < 0.05:  # bukan kewenangan: back to Admin Pusat
            continue
        dispatched = verified + _days(0.05, 2, rng)
        responded = dispatched + _days(0.5, 18, rng)
        completed = responded + _days(3, 100, rng)
        add(report, Deadline.OPD_RESPONSE, dispatched, responded)
        add(report, Deadline.OPD_COMPLETION, dispatched, completed)
        add(report, Deadline.CITIZEN_CONFIRMATION, completed, completed + _days(0.5, 12, rng))
    return deadlines


@dataclass(frozen=True)
class Count:
    running: int
    moved: int
    due_moved: int
    reports_moved: int
    by_deadline: dict[str, int]


def count_moves(deadlines: list[Running], usual: WorkingCalendar, day_off: date, announced: datetime) -> Count:
    """Deadlines running at `announced` whose due date or reminder differs once `day_off` is a day off."""
    changed = WorkingCalendar(usual.extra_days_off | {day_off}, extra_working_days=usual.extra_working_days)
    running = [d for d in deadlines if d.sla.started_at <= announced < d.ends_at]
    moved = due_moved = 0
    reports: set[int] = set()
    by_deadline = dict.fromkeys((d.code for d in Deadline), 0)
    for item in running:
        before = compute_sla(item.sla, usual)
        due = before[item.sla.deadline.due_variable]
        # A day off after the due date or not after the start cannot change anything: skip the computation.
        if not item.sla.started_at.astimezone(PONTIANAK_TZ).date() < day_off <= due.astimezone(PONTIANAK_TZ).date():
            continue
        after = compute_sla(item.sla, changed)
        if after != before:
            moved += 1
            reports.add(item.report)
            by_deadline[item.sla.deadline.code] += 1
            due_moved += after[item.sla.deadline.due_variable] != due
    return Count(len(running), moved, due_moved, len(reports), by_deadline)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-month", type=int, default=200, help="reports a month (default 200)")
    parser.add_argument("--day-off", type=date.fromisoformat, default=date(2027, 8, 16), help="the added cuti bersama")
    parser.add_argument("--announced", type=date.fromisoformat, default=date(2027, 7, 26), help="announcement day")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-sweep", action="store_true", help="only the one scenario")
    args = parser.parse_args(argv)
    usual = WorkingCalendar()
    deadlines = simulate(args.per_month, args.seed)
    reports = len({d.report for d in deadlines})
    print(f"{reports} reports ({args.per_month}/month, {START} to {END}), {len(deadlines)} deadlines")

    announced = datetime.combine(args.announced, time(9), tzinfo=PONTIANAK_TZ)
    one = count_moves(deadlines, usual, args.day_off, announced)
    print(
        f"cuti bersama {args.day_off} announced {args.announced}: {one.running} deadlines running, {one.moved} move "
        f"({one.due_moved} with their due date, the rest a reminder only) in {one.reports_moved} reports"
    )
    print("  moved by deadline: " + ", ".join(f"{code} {n}" for code, n in one.by_deadline.items()))
    if args.no_sweep:
        return 0
    sweep: list[int] = []
    day = date(2027, 1, 1)
    while day <= date(2027, 12, 31):
        if usual.is_working_day(day):
            when = datetime.combine(day - timedelta(days=28), time(9), tzinfo=PONTIANAK_TZ)
            sweep.append(count_moves(deadlines, usual, day, when).moved)
        day += timedelta(days=1)
    print(
        f"any working day of 2027 as the added day (announced 4 weeks before), {len(sweep)} cases: "
        f"min {min(sweep)}, median {statistics.median(sweep):.0f}, max {max(sweep)} deadlines move"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
