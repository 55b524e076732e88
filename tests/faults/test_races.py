"""Races on the engine's PostgreSQL: a task completion that loses a deadlock to another transaction on the same
process instance is run again by the engine (engine/…/ConcurrencyRetry.java) instead of failing with HTTP 500.

The deadlock is made, not waited for. The test's own transaction locks the task's row, so the engine's completion
blocks when it deletes the task, after it has updated the instance's execution row; then the test asks for that
execution row, and PostgreSQL finds the cycle. The server's deadlock_timeout (3 s) is shorter than the test
session's (60 s), so the check of the engine's waiting transaction runs first and the engine's transaction is the
one rolled back: the race a person in Tasklist loses against a worker finishing a task of the same report.
"""

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from engine import LocalEngine
from faults.topology import PostgresServer, jdbc, wait_for
from lapor.process import EngineClient
from tests.conftest import free_port

pytestmark = pytest.mark.engine

ADMIN = ("admin", "admin")
MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="races" targetNamespace="http://lapor.pontianak.go.id/test">
  <bpmn:process id="Races" isExecutable="true" camunda:historyTimeToLive="P1D">
    <bpmn:startEvent id="Start"><bpmn:outgoing>ToFirst</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="First">
      <bpmn:incoming>ToFirst</bpmn:incoming><bpmn:outgoing>ToSecond</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="Second">
      <bpmn:incoming>ToSecond</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End"><bpmn:incoming>ToEnd</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="ToFirst" sourceRef="Start" targetRef="First" />
    <bpmn:sequenceFlow id="ToSecond" sourceRef="First" targetRef="Second" />
    <bpmn:sequenceFlow id="ToEnd" sourceRef="Second" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def on_postgres() -> Iterator[tuple[LocalEngine, str]]:
    """One engine on a private PostgreSQL whose deadlock check waits 3 s; the engine and the database's URL."""
    root = Path(tempfile.mkdtemp(prefix="lapor-races-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its cluster below (as faults.topology does)
    database = PostgresServer(root / "postgres", free_port())
    database.start()
    try:
        with psycopg.connect(database.libpq_url, autocommit=True) as admin:
            admin.execute("ALTER SYSTEM SET deadlock_timeout = '3s'")
            admin.execute("SELECT pg_reload_conf()")
        url, user, password = jdbc(database.libpq_url)
        engine = LocalEngine(
            data_dir=root / "engine", port=free_port(), database_url=url, database_user=user, database_password=password
        )
        engine.start()
        try:
            with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
                client.deploy("races", {"races.bpmn": MODEL})
            yield engine, database.libpq_url
        finally:
            engine.stop()
    finally:
        database.stop()
    shutil.rmtree(root, ignore_errors=True)


def _blocked(probe: psycopg.Connection[Any]) -> bool:
    """Some session (the engine's) waits for a row lock."""
    row = probe.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'").fetchone()
    return bool(row and row[0])


def _new_instance(engine: LocalEngine) -> tuple[str, str]:
    """A new instance of the model waiting at its first task: the instance's and the task's ids."""
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
        instance = client.start("Races", business_key=f"race-{time.monotonic_ns()}", variables={})
        [task] = client.tasks(process_instance_id=instance)
    return instance, str(task.id)


def _complete_aside(engine: LocalEngine, task_id: str, answers: list[httpx.Response]) -> threading.Thread:
    """Complete the task over REST in a thread, as a person in Tasklist would; its answer lands in `answers`."""

    def complete() -> None:
        with httpx.Client(auth=ADMIN, timeout=60) as http:
            answers.append(http.post(f"{engine.rest_url}/task/{task_id}/complete", json={}))

    thread = threading.Thread(target=complete)
    thread.start()
    return thread


def _race(engine: LocalEngine, database_url: str) -> tuple[httpx.Response, str, bool]:
    """Complete the first task while the test's transaction makes a deadlock with it: the engine's answer, the
    instance, and whether the test's transaction survived the deadlock (so the engine's was rolled back)."""
    instance, task_id = _new_instance(engine)
    answers: list[httpx.Response] = []
    survived = False
    with psycopg.connect(database_url) as holder, psycopg.connect(database_url, autocommit=True) as probe:
        holder.execute("SET deadlock_timeout = '60s'")
        holder.execute("SELECT id_ FROM act_ru_task WHERE id_ = %s FOR UPDATE", (task_id,))
        worker = _complete_aside(engine, task_id, answers)
        wait_for(lambda: _blocked(probe), within=20, interval=0.02, what="the engine's completion waiting")
        try:
            holder.execute("SELECT id_ FROM act_ru_execution WHERE id_ = %s FOR UPDATE", (instance,))
            survived = True
        except psycopg.errors.DeadlockDetected:
            holder.rollback()
        # leaving the block commits (or ends) the test's transaction: the task's row is free again
    worker.join(timeout=60)
    assert answers, "the engine did not answer the completion within 60 s"
    return answers[0], instance, survived


def test_a_completion_that_loses_a_deadlock_is_run_again(on_postgres: tuple[LocalEngine, str]) -> None:
    engine, database_url = on_postgres
    for _ in range(3):  # the deadlock's victim is the engine's transaction unless the machine stalls for seconds
        answer, instance, engine_lost = _race(engine, database_url)
        if engine_lost:
            break
    assert engine_lost, "the test's own transaction lost the deadlock three times: nothing was tried"
    assert answer.status_code == 204, answer.text  # not 500 "deadlock detected"
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
        assert [t.definition_key for t in client.tasks(process_instance_id=instance)] == ["Second"]
        done = client.activities(instance, activity_id="First")
        assert len(done) == 1 and done[0].end_time  # completed once
    log = engine.log_file.read_text(errors="replace")
    assert "LAPOR-RETRY CompleteTaskCmd lost a race (code 10000), attempt 1 of 4" in log


def test_a_completion_that_loses_an_optimistic_lock_is_run_again(on_postgres: tuple[LocalEngine, str]) -> None:
    """Another transaction changes the instance's execution while the completion runs, as a worker finishing a task
    of the same report does: the engine's `UPDATE … WHERE REV_ = <the one it read>` then finds no row."""
    engine, database_url = on_postgres
    instance, task_id = _new_instance(engine)
    answers: list[httpx.Response] = []
    with psycopg.connect(database_url) as other, psycopg.connect(database_url, autocommit=True) as probe:
        other.execute("UPDATE act_ru_execution SET rev_ = rev_ + 1 WHERE id_ = %s", (instance,))
        worker = _complete_aside(engine, task_id, answers)
        wait_for(lambda: _blocked(probe), within=20, interval=0.02, what="the engine's completion waiting")
        # leaving the block commits the other transaction: the engine's update finds a newer revision
    worker.join(timeout=60)
    assert answers, "the engine did not answer the completion within 60 s"
    assert answers[0].status_code == 204, answers[0].text  # not 500 "updated by another transaction concurrently"
    with EngineClient(engine.rest_url, user=ADMIN[0], password=ADMIN[1]) as client:
        assert [t.definition_key for t in client.tasks(process_instance_id=instance)] == ["Second"]
    log = engine.log_file.read_text(errors="replace")
    assert "LAPOR-RETRY CompleteTaskCmd lost a race (code 1), attempt 1 of 4" in log
