"""The engine's answers as typed records: what the client asks (filters left out when not given) and what it makes of
the rows it gets back, on a stand-in transport. tests/e2e reads the same records from the real engine."""

# REST paths here are expectations, not calls: these tests check what lapor.process itself sends.
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx

from lapor.process import ActivityInstance, EngineClient, HistoricInstance, Incident, Task, TimerJob

WIB = timezone(timedelta(hours=7))
TASK_ROW = {
    "id": "t1",
    "name": "Verifikasi laporan LPR-1",
    "taskDefinitionKey": "VerifyReportTask",
    "processInstanceId": "p1",
    "assignee": None,
    "owner": None,
    "due": "2026-12-09T23:59:59.000+0700",
    "followUp": None,
    "created": "2026-12-07T10:00:00.000+0700",
    "priority": 50,
    "description": None,
    "tenantId": None,
}


def client(answer: Callable[[httpx.Request], object], seen: list[httpx.Request]) -> EngineClient:
    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer(request))

    return EngineClient("http://engine/engine-rest", user="u", password="p", transport=httpx.MockTransport(respond))


def test_a_task_is_typed_with_its_dates_and_only_the_filters_given_are_sent() -> None:
    seen: list[httpx.Request] = []
    engine = client(lambda _: [TASK_ROW], seen)
    [task] = engine.tasks(process_instance_ids=["p1", "p2"], definition_key="VerifyReportTask")
    assert task == Task(
        id="t1",
        name="Verifikasi laporan LPR-1",
        definition_key="VerifyReportTask",
        process_instance_id="p1",
        assignee=None,
        owner=None,
        due=datetime(2026, 12, 9, 23, 59, 59, tzinfo=WIB),
        follow_up=None,
        created=datetime(2026, 12, 7, 10, 0, tzinfo=WIB),
        priority=50,
        description=None,
    )
    assert seen[0].url.path == "/engine-rest/task"
    assert dict(seen[0].url.params) == {"processInstanceIdIn": "p1,p2", "taskDefinitionKey": "VerifyReportTask"}


def test_a_timer_job_names_its_element_through_its_job_definition() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> object:
        if request.url.path.endswith("/job-definition"):
            return [{"id": "d1", "activityId": "VerificationDeadlineTimer"}]
        row = {"id": "j1", "processInstanceId": "p1", "jobDefinitionId": "d1", "retries": 3, "suspended": False}
        return [{**row, "dueDate": "2026-12-09T23:59:59.000+0700", "exceptionMessage": None}]

    [timer] = client(answer, seen).timer_jobs("lapor-pengaduan")
    assert isinstance(timer, TimerJob)
    assert (timer.id, timer.element_id, timer.process_instance_id) == ("j1", "VerificationDeadlineTimer", "p1")
    assert timer.due_date == datetime(2026, 12, 9, 23, 59, 59, tzinfo=WIB)
    assert dict(seen[1].url.params) == {"processDefinitionKey": "lapor-pengaduan", "timers": "true"}


def test_history_incidents_and_activities_read_the_fields_the_callers_need() -> None:
    rows: dict[str, object] = {
        "/engine-rest/history/process-instance/p1": {
            "id": "p1",
            "businessKey": "LPR-1",
            "processDefinitionKey": "lapor-pengaduan",
            "processDefinitionId": "lapor-pengaduan:3:x",
            "processDefinitionVersion": 3,
            "state": "COMPLETED",
            "startTime": "2026-12-07T10:00:00.000+0700",
            "endTime": "2026-12-08T10:00:00.000+0700",
        },
        "/engine-rest/incident": [
            {
                "id": "i1",
                "incidentType": "failedExternalTask",
                "processInstanceId": "p1",
                "activityId": "NotifyReportReceivedTask",
                "incidentMessage": "NotificationDeliveryError",
                "configuration": "e1",
            }
        ],
        "/engine-rest/history/activity-instance": [
            {"id": "a1", "activityId": "VerifyReportTask", "activityType": "userTask", "endTime": None},
        ],
    }
    seen: list[httpx.Request] = []
    engine = client(lambda request: rows[request.url.path], seen)
    ended = engine.historic_instance("p1")
    assert isinstance(ended, HistoricInstance)
    assert (ended.business_key, ended.state, ended.definition_version) == ("LPR-1", "COMPLETED", 3)
    assert ended.end_time == datetime(2026, 12, 8, 10, 0, tzinfo=WIB)
    [incident] = engine.incidents(process_instance_id="p1")
    assert incident == Incident(
        "i1", "failedExternalTask", "p1", "NotifyReportReceivedTask", "NotificationDeliveryError", "e1"
    )
    [activity] = engine.activities("p1", activity_id="VerifyReportTask")
    assert isinstance(activity, ActivityInstance) and not activity.ended
    assert dict(seen[-1].url.params) == {
        "processInstanceId": "p1",
        "activityId": "VerifyReportTask",
        "sortBy": "startTime",
        "sortOrder": "asc",
    }


def test_a_task_due_date_is_moved_with_every_other_field_sent_back() -> None:
    seen: list[httpx.Request] = []
    engine = client(lambda request: TASK_ROW if request.method == "GET" else None, seen)
    engine.set_task_due_date("t1", datetime(2026, 12, 10, 23, 59, 59, tzinfo=WIB))
    put = seen[-1]
    assert (put.method, put.url.path) == ("PUT", "/engine-rest/task/t1")
    body = httpx.Response(200, content=put.content).json()
    assert body["due"] == "2026-12-10T23:59:59.000+0700"
    assert body["name"] == TASK_ROW["name"] and body["priority"] == 50  # a field left out would be cleared


def test_one_variable_across_a_process_is_read_per_instance_and_per_activity_from_history() -> None:
    rows = [
        {"processInstanceId": "p1", "activityInstanceId": "p1", "type": "String", "value": "DINAS-PU"},
        {
            "processInstanceId": "p2",
            "activityInstanceId": "Task_1:a2",
            "type": "Date",
            "value": "2026-12-09T23:59:59.000+0700",
        },
        {"processInstanceId": None, "activityInstanceId": None, "type": "String", "value": "orphan"},
    ]
    seen: list[httpx.Request] = []
    engine = client(lambda _: rows, seen)
    assert engine.historic_values("lapor", "due") == {
        "p1": "DINAS-PU",
        "p2": datetime(2026, 12, 9, 23, 59, 59, tzinfo=WIB),
    }
    # Local to an activity: the row kept at process scope (activity instance id = process instance id) is not one.
    assert engine.historic_local_values("lapor", "due") == {"Task_1:a2": datetime(2026, 12, 9, 23, 59, 59, tzinfo=WIB)}
    for request in seen:
        assert (request.method, request.url.path) == ("GET", "/engine-rest/history/variable-instance")
        assert dict(request.url.params) == {
            "processDefinitionKey": "lapor",
            "variableName": "due",
            "deserializeValues": "false",
        }
