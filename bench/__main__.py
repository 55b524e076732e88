"""`python -m bench [--quick] [--month N] [--no-tuning] [--out docs/benchmarks.md]`: the local stack (one engine
node on PostgreSQL, the API, two worker processes), every figure measured side by side in one run, printed as a
table and written to docs/benchmarks.md with the command, the machine, the date and the load average."""

import argparse
import os
import platform
import shutil
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.loads import CITY_PROCESSES, CpuMeter, Figure, IntakeResult, engine_alone, footprint, intake, tracking
from bench.migration import migration
from bench.month import simulate
from bench.tuning import basic_auth_cost, restart_knobs, worker_knobs
from faults.topology import Stack, load_average
from lapor.logging import configure_logging
from lapor.settings import ROOT


@dataclass(frozen=True)
class Size:
    instances: int
    reports: int
    tracking_seconds: float
    month: int
    tuning_instances: int
    timers: int
    migration: int
    warm_up_instances: int  # engine alone's first round, not counted: the JIT at its steady state
    warm_up_reports: int  # each intake's first round, not counted: the restarted workers' start-up


SIZES = {
    "quick": Size(100, 60, 10, 50, 60, 60, 100, 200, 30),
    "full": Size(500, 200, 20, 1000, 200, 200, 1000, 500, 30),
}
WARM_UP_FIRST_NUMBER = 90_000  # the warm-up's reports take numbers below the measured ones (bench.loads.intake)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return f"{os.cpu_count()} cores ({cpu}), {memory} MiB RAM, {platform.system()} {platform.release()}"


Sections = list[tuple[str, list[Figure]]]


class Sink(list[tuple[str, list[Figure]]]):
    """The sections measured so far; `on_change` sees every new one (the file is written after each section, so an
    interrupted run keeps what it measured)."""

    def __init__(self, on_change: Callable[["Sink"], None] = lambda sink: None) -> None:
        super().__init__()
        self.on_change = on_change

    def append(self, section: tuple[str, list[Figure]]) -> None:
        super().append(section)
        self.on_change(self)


@dataclass
class Throughput:
    alone: Figure
    intake: IntakeResult
    per_instance: Figure  # CPU
    per_report: Figure
    city_per_report: Figure  # the part of per_report spent in CITY_PROCESSES


TURNS = 2  # engine alone and intake measured this many times each, taking turns


def throughput(stack: Stack, size: Size) -> Throughput:
    """Engine alone and intake, each measured warm, as the city's stack runs for weeks, and taking turns, so a
    change in the machine's speed during the run falls on both alike. A first round of engine alone, not counted,
    warms the engine's JIT; engine alone stops the workers and starts them again (Stack.pause_workers), so before
    each intake the workers are waited for and a round of intake, not counted, carries their start-up and first
    connections."""
    alone_cpu, intake_cpu = CpuMeter(stack), CpuMeter(stack)
    alone_seconds, rates, rounds = 0.0, [], []
    engine_alone(stack, "warm-up", instances=size.warm_up_instances)
    for turn in range(TURNS):
        with alone_cpu:
            rate = engine_alone(stack, "baseline", instances=size.instances)
        rates.append(rate)
        alone_seconds += size.instances / rate.value
        stack.wait_for_workers()
        intake(stack, reports=size.warm_up_reports, first_number=WARM_UP_FIRST_NUMBER + 1_000 * turn)
        with intake_cpu:
            rounds.append(intake(stack, reports=size.reports, first_number=100_000 + 10_000 * turn))
    turns = ", ".join(f"{r.value:.1f}" for r in rates)
    alone = Figure(
        "engine alone (baseline)",
        TURNS * size.instances / alone_seconds,
        "instances/s",
        note=f"{TURNS} turns ({turns}/s) of {rates[0].note}",
    )
    per_turn = ", ".join(f"{len(r.tracking_ids) / r.seconds:.1f}" for r in rounds)
    received = IntakeResult.combined(rounds, note=f"{TURNS} turns ({per_turn}/s) of {rounds[0].note}")
    return Throughput(
        alone,
        received,
        alone_cpu.figure("engine alone: CPU per instance", TURNS * size.instances, "ms"),
        intake_cpu.figure("intake: CPU per report", len(received.tracking_ids), "ms"),
        intake_cpu.figure(
            "intake: the city's own steps, CPU per report", len(received.tracking_ids), "ms", only=CITY_PROCESSES
        ),
    )


def run(size: Size, *, tuning: bool, sections: Sink | None = None) -> Sections:
    sections = Sink() if sections is None else sections
    with Stack(nodes=1, workers=2, engine_env={}) as stack:  # the JIT at full strength: figures, not starts
        time.sleep(5)
        idle = footprint(stack)
        measured = throughput(stack, size)
        received = measured.intake.figures
        ratio = Figure("intake / engine alone", received[0].value / measured.alone.value, "ratio", note="goal >= 0.8")
        sections.append(("Throughput", [measured.alone, *received, ratio]))
        bound = Figure(
            "CPU per instance / CPU per report",
            measured.per_instance.value / measured.per_report.value,
            "ratio",
            note="the intake ratio's ceiling while both loads keep every core busy",
        )
        cpu = [measured.per_instance, measured.per_report, measured.city_per_report, bound]
        sections.append(("CPU (all processes of the stack and the load generator)", cpu))
        reads = tracking(stack, measured.intake.tracking_ids, seconds=size.tracking_seconds)
        tracked, plain = reads[0].value, reads[2].value
        reads.append(Figure("tracking / plain", tracked / plain, "ratio", note="goal >= 0.9, p99 <= 50 ms"))
        sections.append(("Tracking reads", reads))
        sections.append(("Footprint", [*idle, *footprint(stack, measured.intake.peak_rss)[1:]]))
        sections.append(("Simulated month", simulate(stack, reports=size.month)))
        sections.append(
            ("Process migration (python -m lapor.designer --migrate)", migration(stack, reports=size.migration))
        )
        if tuning:
            knobs = [*worker_knobs(stack, instances=size.tuning_instances), *basic_auth_cost(stack)]
            sections.append(("Tuning: worker and HTTP knobs, A/B alternated", knobs))
            restarts = restart_knobs(stack, instances=size.tuning_instances, timers=size.timers)
            sections.append(("Tuning: engine settings (restart on a fresh database), A/B alternated", restarts))
    shutil.rmtree(stack.work_dir, ignore_errors=True)  # every figure is in the table; the logs go with the stack
    return sections


def table(sections: list[tuple[str, list[Figure]]]) -> str:
    lines = ["| figure | value | unit | load (1/5/15 min) | note |", "| --- | ---: | --- | --- | --- |"]
    for title, figures in sections:
        lines.append(f"| **{title}** | | | | |")
        lines += [
            f"| {f.name} | {f.value:.{2 if f.unit == 'ratio' else 1}f} | {f.unit} | {f.load} | {f.note} |"
            for f in figures
        ]
    return "\n".join(lines)


NOTES_MARK = "<!-- Notes below this line are written by hand; python -m bench keeps them. -->"


def write(out: Path, command: str, text: str, started: str, load_before: str) -> None:
    intro = (
        "Measured by `bench/` on the local stack without Docker: one Operaton node on PostgreSQL, the API (uvicorn, "
        "one process) with its outbox dispatcher, two worker processes, the application database on a private "
        "PostgreSQL; the load generator runs on the same machine. Every figure carries the load average when it "
        "was taken: on a shared machine the figures are lower bounds, re-measure with the command below. "
        "docs/scaling.md reads them."
    )
    old = out.read_text() if out.exists() else ""
    notes = old[old.index(NOTES_MARK) :] if NOTES_MARK in old else f"{NOTES_MARK}\n"
    out.write_text(
        f"# Benchmarks\n\n{textwrap.fill(intro, width=116)}\n\n"
        f"- command: `{command}`\n- machine: {machine()}\n- date: {started}\n- load before the run: {load_before}\n\n"
        f"{text}\n\n{notes}"
    )


def main(argv: list[str] | None = None) -> int:
    configure_logging(log_format="console", level=os.environ.get("LAPOR_LOG_LEVEL", "WARNING"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts (a few minutes)")
    parser.add_argument("--month", type=int, help="reports in the simulated month (default 1000, quick 50)")
    parser.add_argument("--no-tuning", action="store_true", help="skip the before/after knobs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    if args.month:
        size = Size(**{**size.__dict__, "month": args.month})
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = load_average()
    command = ("python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    progress = Sink(lambda done: write(args.out, command + " (running)", table(done), started, load_before))
    sections = run(size, tuning=not args.no_tuning, sections=progress)
    text = table(sections)
    print(text)
    write(args.out, command, text, started, load_before)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
