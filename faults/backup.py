"""Backup and restore under load: the two databases dumped `gap` s apart and the files copied while reports keep
arriving, all three restored, `python -m lapor.restore` run as an operator runs it, the services started again.

Each round dumps one database first: the engine's (reports received between the dumps come back without an
instance and are started again through the outbox) or the application's (their instances come back without a
report and get a stand-in). The verdict: nothing lost that was acknowledged before the earlier dump, one instance per
tracking id, every open report waiting in the engine, every instance with a report, every running deadline with its
recorded start (what `python -m lapor.recompute` computes from), a second repair with nothing to do.
"""

import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from faults.probes import submit, waiting_at
from faults.topology import ADMIN, Stack, wait_for
from lapor import recompute
from lapor.db import make_engine, session_scope
from lapor.deadlines import default_calendar
from lapor.models import CLOSED_STATUSES, Report
from lapor.process import EngineClient
from lapor.settings import ROOT, Settings
from lapor.vocabulary import PROCESS_ID

RUNNING = {"ACTIVE", "SUSPENDED"}


@dataclass
class _Acknowledged:
    tracking_id: str
    at: float  # time.monotonic() when the 201 arrived


def _tool(stack: Stack, name: str) -> str:
    assert stack.app_db is not None
    return str(stack.app_db.bin / name)


def _dump(stack: Stack, url: str, path: Path) -> None:
    """pg_dump's custom format as docs/operations.md takes it: a snapshot as of its start, no lock that stops writes."""
    subprocess.run([_tool(stack, "pg_dump"), "-Fc", "-f", str(path), "-d", url], check=True, timeout=600)


def _restore(stack: Stack, url: str, path: Path) -> None:
    command = [_tool(stack, "pg_restore"), "--clean", "--if-exists", "--no-owner", "-d", url, str(path)]
    subprocess.run(command, check=True, timeout=600, capture_output=True)


def _repair(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's command, with the API's settings and the engine administrator's login."""
    env = stack._env(0, LAPOR_ENGINE_ADMIN_USER=ADMIN[0], LAPOR_ENGINE_ADMIN_PASSWORD=ADMIN[1], LAPOR_LOG_LEVEL="ERROR")
    command = [sys.executable, "-m", "lapor.restore", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=False, cwd=ROOT)


def _stop_services(stack: Stack) -> None:
    assert stack.api is not None and stack.cluster is not None
    stack.api.paused = True
    stack.api.stop()
    stack.pause_workers()
    stack.cluster.stop()


def _start_services(stack: Stack) -> None:
    assert stack.api is not None
    stack.api.paused = False
    stack.api.start()
    stack.resume_workers()
    wait_for(stack._api_ready, within=60, what="the API")


def _reports(stack: Stack) -> dict[str, bool]:
    """Every report of the application's database: tracking id -> closed."""
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        with session_scope(db) as session:
            rows = session.execute(select(Report.tracking_id, Report.status)).all()
    finally:
        db.dispose()
    closed = {status.value for status in CLOSED_STATUSES}
    return {tracking_id: status in closed for tracking_id, status in rows}


def _without_start(stack: Stack, admin: EngineClient) -> int:
    """Running deadlines `python -m lapor.recompute` would skip for want of a recorded start (a dry run)."""
    assert stack.app_db is not None
    db = make_engine(stack.app_db.url)
    try:
        calendar = default_calendar(Settings(_env_file=None))
        return len(recompute.recompute(engine=admin, db=db, calendar=calendar, apply=False).without_start)
    finally:
        db.dispose()


def backup_round(
    stack: Stack, first: int, *, submissions: int, seconds: float, gap: float, engine_first: bool
) -> dict[str, Any]:
    """One backup under load and its restore; the round's figures (`ok` says whether the verdict holds)."""
    assert stack.app_db is not None and stack.cluster is not None
    backups = stack.work_dir / f"backups-{'engine' if engine_first else 'app'}-first"
    backups.mkdir()
    acknowledged: list[_Acknowledged] = []
    lock = threading.Lock()
    started = time.monotonic()

    def one(client: httpx.Client, index: int) -> None:
        time.sleep(max(0.0, started + seconds * index / submissions - time.monotonic()))
        answer = submit(client, first + index)
        if answer.status == 201 and answer.tracking_id:
            with lock:
                acknowledged.append(_Acknowledged(answer.tracking_id, time.monotonic()))

    def load() -> None:
        # Up to 8 at a time, as _submit_spread sends them: a slow answer does not push the later ones back.
        with httpx.Client(base_url=stack.api_url, timeout=30) as client, ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda index: one(client, index), range(submissions)))

    loader = threading.Thread(target=load, name="restore-load", daemon=True)
    loader.start()
    # The first dump once the load runs, the second `gap` s later, the files after both; submissions go on.
    order = [("engine", stack.engine_db_url), ("app", stack.app_db.libpq_url)]
    if not engine_first:
        order.reverse()
    time.sleep(max(1.0, (seconds - gap) / 3))
    first_dump_at = time.monotonic()
    _dump(stack, order[0][1], backups / f"{order[0][0]}.dump")
    time.sleep(max(0.0, first_dump_at + gap - time.monotonic()))
    _dump(stack, order[1][1], backups / f"{order[1][0]}.dump")
    data = stack.work_dir / "data"
    shutil.copytree(data, backups / "files")
    loader.join(timeout=seconds + 300)
    before_first = {a.tracking_id for a in acknowledged if a.at < first_dump_at}

    restore_started = time.monotonic()
    _stop_services(stack)
    _restore(stack, stack.app_db.libpq_url, backups / "app.dump")
    _restore(stack, stack.engine_db_url, backups / "engine.dump")
    shutil.rmtree(data)
    shutil.copytree(backups / "files", data)
    stack.cluster.start(schema_exists=True)
    repaired = _repair(stack)
    second = _repair(stack)
    repair_seconds = time.monotonic() - restore_started
    _start_services(stack)

    assert stack.admin is not None
    admin: EngineClient = stack.admin
    held = _reports(stack)
    open_ids = {key for key, closed in held.items() if not closed}

    def all_waiting() -> bool:
        return open_ids <= set(waiting_at(admin))

    try:
        wait_for(all_waiting, within=120 + submissions / 5, interval=2.0, what="every open report at verification")
    except TimeoutError:
        pass
    historic = admin.historic_instances(PROCESS_ID)
    per_key = Counter(str(i.business_key) for i in historic)
    running = {str(i.business_key) for i in historic if i.state in RUNNING}
    waiting = waiting_at(admin)
    lines = repaired.stdout.splitlines()
    second_lines = second.stdout.strip().splitlines() or ["?"]
    figures = {
        "accepted": len(acknowledged),
        "before_first_dump": len(before_first),
        "lost": sum(1 for key in before_first if key not in held),
        "duplicated": sum(count - 1 for count in per_key.values() if count > 1),
        "untracked": sum(1 for key in open_ids if key not in running),
        "not_waiting": sum(1 for key in open_ids if waiting[key] != 1),
        "orphans": sum(1 for key in per_key if key not in held),
        "restarted": sum(1 for line in lines if "report without instance" in line and "started again" in line),
        "stand_ins": sum(1 for line in lines if "stand-in report created" in line),
        "replayed": sum(1 for line in lines if "instance ahead of report" in line),
        "starts_rebuilt": sum(1 for line in lines if "deadline starts differ" in line),
        "without_start": _without_start(stack, admin),
        "adopted": sum(1 for line in lines if "outbox row already applied" in line),
        "repair_exit": repaired.returncode,
        "second_run_findings": len(second_lines) - 1,
        "second_exit": second.returncode,
        "restore_s": round(repair_seconds),
    }
    figures["ok"] = (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["untracked"] == 0
        and figures["not_waiting"] == 0
        and figures["orphans"] == 0
        and figures["without_start"] == 0
        and second.returncode == 0
        and second_lines[-1].endswith("0 repaired, 0 for a person")
        and before_first <= set(held)
    )
    # What the operator would have read (the stack's work directory is kept when a verdict fails).
    (backups / "repair.txt").write_text(repaired.stdout + repaired.stderr)
    (backups / "repair-again.txt").write_text(second.stdout + second.stderr)
    return figures
