"""Moving running reports to a new process version, as `python -m lapor.designer --migrate` does (issue 21).

Reports are started mid-way (before a user task, with every due date set, as if the workers had computed them):
spread over verification, disposition, the OPD's response and the OPD's completion. The designer's change is the
OPD response SLA from 10 to 5 working days; the figure is the wall time of `lapor.designer.migrate` (check, deploy,
generate, validate, the engine's batches) until every report runs on the new version.

`python -m bench.migration [--reports 1000]` runs it alone on a fresh local stack; `python -m bench` includes it.
"""

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.loads import Figure, process_variables
from faults.topology import Stack, load_average
from lapor import designer
from lapor.deploy import BPMN_DIR
from lapor.process import EngineClient
from lapor.process import migration as engine_migration
from lapor.roles import API_ACCOUNT
from lapor.vocabulary import DUE_VARIABLES, PROCESS_ID, Deadline

WAITING_IN = ("VerifyReportTask", "DispatchReportTask", "OpdResponseTask", "OpdCompletionTask")


def shorter_opd_response(directory: Path) -> Path:
    """bpmn/ with the OPD response SLA at 5 working days instead of 10, as a designer saves it."""
    copy = directory / "bpmn"
    shutil.copytree(BPMN_DIR, copy)
    model = copy / "lapor-pengaduan.bpmn"
    text = model.read_text(encoding="utf-8")
    start = text.index('name="sla" value="opd-response"')
    model.write_text(
        text[:start] + text[start:].replace('name="length" value="10"', 'name="length" value="5"', 1), encoding="utf-8"
    )
    return copy


def running_reports(rest_url: str, *, reports: int, prefix: str) -> None:
    """Reports waiting in the user tasks, with the variables those tasks' forms, due dates and timers read."""
    due = datetime.now(UTC) + timedelta(days=30)
    dates = {name: due for name in DUE_VARIABLES} | {
        str(d.reminder_variable): due - timedelta(days=1) for d in Deadline if d.reminder_variable
    }
    extra = {"opdCode": "PUPR", "proposedOpdCode": "PUPR", "reportSummaryUrl": "http://127.0.0.1/ringkasan"}
    with EngineClient(rest_url, user=API_ACCOUNT, password=API_ACCOUNT) as api, ThreadPoolExecutor(8) as pool:

        def start(i: int) -> str:
            key = f"{prefix}{i}"
            variables = {**process_variables(key), **dates, **extra}
            return api.start(PROCESS_ID, business_key=key, variables=variables, at=WAITING_IN[i % len(WAITING_IN)])

        list(pool.map(start, range(reports)))


def migration(stack: Stack, *, reports: int) -> list[Figure]:
    assert stack.admin is not None
    admin = stack.admin
    stack.pause_workers()
    work = Path(tempfile.mkdtemp(prefix="lapor-bench-migration-"))
    try:
        running_reports(stack.rest_url(0), reports=reports, prefix=f"BENCH-MIG-{time.monotonic_ns()}-")
        models = shorter_opd_response(work)
        load = load_average()
        started = time.perf_counter()
        outcome = designer.migrate(admin, models)
        seconds = time.perf_counter() - started
    finally:
        stack.resume_workers()
        shutil.rmtree(work, ignore_errors=True)
    if not outcome.ok:
        raise RuntimeError(designer.report(outcome, mode="migrate"))
    moved = sum(v.moved for p in outcome.processes for v in p.versions)
    target = engine_migration.latest(admin, PROCESS_ID)
    left = sum(
        len(engine_migration.instances(admin, d.id))
        for d in engine_migration.definitions(admin, PROCESS_ID)
        if target is None or d.id != target.id
    )
    note = f"{reports} reports in 4 user tasks; moved {moved}, {left} left on older versions; goal < 60 s"
    return [
        Figure("migrate running reports (check, deploy, plan, batches)", seconds, "s", load=load, note=note),
        Figure(
            "reports moved per second", moved / seconds, "reports/s", load=load, note=f"batch {designer.BATCH_SIZE}"
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migration", description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args(argv)
    with Stack(nodes=1, workers=0, engine_env={}) as stack:
        figures = migration(stack, reports=args.reports)
    for f in figures:
        print(f"{f.name}: {f.value:.1f} {f.unit} (load {f.load}) {f.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
