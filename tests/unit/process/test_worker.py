"""Pieces of the external-task loop that need no engine: backoff, worker ids, and the REST shape of a task.
The loop itself is tested on the real engine (tests/e2e/test_toolchain.py)."""

import pytest

from lapor.process.tasks import ExternalTask, ModelError
from lapor.process.worker import backoff_ms, to_task, unique_worker_id


def test_backoff_doubles_from_five_seconds_and_is_capped() -> None:
    assert [backoff_ms(left, total=5) for left in (4, 3, 2, 1)] == [5_000, 10_000, 20_000, 40_000]
    assert backoff_ms(0, total=20) == 300_000


def test_each_process_has_its_own_worker_id() -> None:
    assert unique_worker_id() != unique_worker_id()


def test_a_locked_task_becomes_what_a_handler_reads() -> None:
    task = to_task(
        {
            "id": "t-1",
            "topicName": "lapor-status",
            "processInstanceId": "p-1",
            "activityId": "RecordUnverifiedStatusTask",
            "businessKey": "LPR-1",
            "retries": None,
            "variables": {
                "trackingId": {"type": "String", "value": "LPR-1"},
                "engineNow": {"type": "Date", "value": "2026-12-02T10:00:00.000+0700"},
            },
            "extensionProperties": {"status": "BELUM_TERVERIFIKASI", "actor": "sistem"},
        }
    )
    assert task.var("trackingId") == "LPR-1" and task.var("engineNow").utcoffset().total_seconds() == 7 * 3600
    assert task.prop("status") == "BELUM_TERVERIFIKASI"
    with pytest.raises(ModelError, match="RecordUnverifiedStatusTask"):
        task.prop("template")
    with pytest.raises(ModelError):
        task.var("opdCode")


def test_an_empty_property_is_a_modelling_error() -> None:
    task = ExternalTask(id="t", topic="x", process_instance_id="p", activity_id="A", properties={"sla": ""})
    with pytest.raises(ModelError):
        task.prop("sla")
