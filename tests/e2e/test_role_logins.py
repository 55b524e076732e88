"""The local run's logins for every SOP role work on the real engine, each in the webapp its role uses; supervisors
retry what failed and change nothing else."""

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from engine import LocalEngine
from lapor.process import EngineClient
from lapor.process.codec import parse_date
from lapor.roles import local_logins
from lapor.settings import Settings
from lapor.vocabulary import PROCESS_ID, RECAP_PROCESS_ID
from tests.e2e.conftest import complete_task, email_channel_to, open_task, submit, walk_to_the_end
from tests.e2e.test_process_operations import skip_backoff_until_incident
from workers.deps import Deps

pytestmark = pytest.mark.engine


def webapp_login(engine: LocalEngine, app: str, user: str, password: str) -> int:
    """What the login page of Tasklist, Cockpit or Admin does; the HTTP status it gets."""
    with httpx.Client(base_url=engine.base_url, timeout=30) as client:
        client.get(f"/operaton/app/{app}/default/")  # the page sets the session and CSRF cookies first
        token = client.cookies.get("XSRF-TOKEN")
        response = client.post(
            f"/operaton/api/admin/auth/user/default/login/{app}",
            data={"username": user, "password": password},
            headers={"X-XSRF-TOKEN": token} if token else {},
        )
        return response.status_code


@pytest.mark.usefixtures("provisioned")
def test_every_role_logs_in_to_the_rest_api(engine: LocalEngine) -> None:
    users = [user.id for user in local_logins()]
    assert {"admin-pengaduan", "analis", "kepala-bidang", "koordinator", "opd-pupr", "opd-dlh"} <= set(users)
    for user in users:
        # Raw: the login itself is under test, as any REST caller sends it.
        answer = httpx.get(f"{engine.rest_url}/task", auth=(user, user), timeout=30)
        assert answer.status_code == 200, f"{user} cannot log in: {answer.text}"


@pytest.mark.usefixtures("provisioned")
def test_each_role_reaches_its_webapp_and_not_the_others(engine: LocalEngine, provisioned: Settings) -> None:
    assert webapp_login(engine, "tasklist", "admin-pengaduan", "admin-pengaduan") == 200
    assert webapp_login(engine, "tasklist", "opd-pupr", "opd-pupr") == 200
    assert webapp_login(engine, "cockpit", "koordinator", "koordinator") == 200
    assert webapp_login(engine, "cockpit", "opd-pupr", "opd-pupr") == 403  # OPDs have no Cockpit
    assert webapp_login(engine, "admin", "koordinator", "koordinator") == 403  # only administrators manage users
    assert webapp_login(engine, "tasklist", "opd-pupr", "salah") == 401


def as_user(engine: LocalEngine, user: str, method: str, path: str, body: object = None) -> httpx.Response:
    """One REST call as a local role login, answered as is (no client-side error mapping)."""
    # Raw on purpose: what a role's login can send by hand (an attacker does not use our client).
    return httpx.request(method, f"{engine.rest_url}{path}", json=body, auth=(user, user), timeout=30)


@pytest.fixture
async def failed_report(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> AsyncIterator[dict[str, str]]:
    """A report whose receipt notice failed for good (an incident): the workers run, the mail server is down."""
    healthy = worker_deps.notifier
    worker_deps.notifier = replace(healthy, channels=(email_channel_to(9),))  # nothing listens on port 9
    report = await submit(lapor_process, worker_deps)
    incident = await skip_backoff_until_incident(operaton, report)
    try:
        yield {
            "instance": report.process_instance_id,
            "task": incident.configuration,
            "tracking_id": report.tracking_id,
        }
    finally:
        worker_deps.notifier = healthy
        operaton.cancel(report.process_instance_id)


def retries_set_by(operaton: EngineClient, user: str) -> int:
    """How many external-task retries the user set (the engine's user operation log)."""
    query = {"userId": user, "operationType": "SetExternalTaskRetries", "entityType": "ExternalTask"}
    # Raw: the log's rows for one user across instances (lapor.process.history keeps one instance's, grouped).
    return len(operaton.request("GET", "/history/user-operation", params={**query, "maxResults": 1000}))


@pytest.mark.parametrize("supervisor", ["koordinator", "kepala-bidang"])
def test_supervisors_retry_failed_tasks_and_jobs_but_change_nothing_else(
    engine: LocalEngine, operaton: EngineClient, failed_report: dict[str, str], supervisor: str
) -> None:
    instance, task = failed_report["instance"], failed_report["task"]
    timer = operaton.jobs(process_key=RECAP_PROCESS_ID)[0]  # the monthly recap's timer: a LAPOR! job
    # Raw: the calls a supervisor could try by hand; each must be refused by the engine itself.
    variable = f"/process-instance/{instance}/variables/trackingId"
    refused = {
        "set a variable": ("PUT", variable, {"value": "X", "type": "String"}),
        "modify variables": ("POST", f"/process-instance/{instance}/variables", {"modifications": {"x": {"value": 1}}}),
        "delete a variable": ("DELETE", variable, None),
        "set a local variable": ("PUT", f"/execution/{instance}/localVariables/x", {"value": 1, "type": "Integer"}),
        "suspend the instance": ("PUT", f"/process-instance/{instance}/suspended", {"suspended": True}),
        "suspend by definition": (
            "PUT",
            "/process-instance/suspended",
            {"processDefinitionKey": PROCESS_ID, "suspended": True},
        ),
        "suspend as a batch": (
            "POST",
            "/process-instance/suspended-async",
            {"processInstanceIds": [instance], "suspended": True},
        ),
        "modify the instance": (
            "POST",
            f"/process-instance/{instance}/modification",
            {"instructions": [{"type": "startBeforeActivity", "activityId": "VerifyReportTask"}]},
        ),
        "modify as a batch": (
            "POST",
            "/modification/execute",
            {
                "processDefinitionId": operaton.instance(instance).definition_id,
                "processInstanceIds": [instance],
                "instructions": [{"type": "startBeforeActivity", "activityId": "VerifyReportTask"}],
            },
        ),
        "cancel the instance": ("DELETE", f"/process-instance/{instance}", None),
        "move a job's due date": ("PUT", f"/job/{timer.id}/duedate", {"duedate": "2030-01-01T08:00:00.000+0700"}),
        "suspend a job": ("PUT", f"/job/{timer.id}/suspended", {"suspended": True}),
        "reprioritise an external task": ("PUT", f"/external-task/{task}/priority", {"priority": 99}),
        "retry as a batch": ("POST", "/external-task/retries-async", {"externalTaskIds": [task], "retries": 1}),
    }
    for what, (method, path, body) in refused.items():
        answer = as_user(engine, supervisor, method, path, body)
        assert answer.status_code == 403, f"{supervisor} may {what}: {answer.status_code} {answer.text}"
        assert answer.json()["type"] == "AuthorizationException", what
    # Nor may a supervisor act as a worker: fetching locks nothing for them.
    topics = [{"topicName": "lapor-notify", "lockDuration": 1000, "businessKey": failed_report["tracking_id"]}]
    fetched = as_user(engine, supervisor, "POST", "/external-task/fetchAndLock", {"workerId": "x", "topics": topics})
    assert fetched.status_code == 200 and fetched.json() == []
    assert operaton.variables(instance)["trackingId"] == failed_report["tracking_id"]
    assert not operaton.instance(instance).suspended
    assert operaton.jobs(job_id=timer.id)[0].due_date == timer.due_date

    # What they may do: retry the failed external task (one, or a list) and a job whose retries ran out. The workers
    # run and the mail server is still down, so the task fails again: the engine's log shows who retried it.
    before = retries_set_by(operaton, supervisor)
    assert as_user(engine, supervisor, "PUT", f"/external-task/{task}/retries", {"retries": 1}).status_code == 204
    listed = as_user(engine, supervisor, "PUT", "/external-task/retries", {"externalTaskIds": [task], "retries": 1})
    assert listed.status_code == 204
    assert retries_set_by(operaton, supervisor) >= before + 2
    operaton.set_job_retries(timer.id, 0)
    try:
        assert as_user(engine, supervisor, "PUT", f"/job/{timer.id}/retries", {"retries": 1}).status_code == 204
        assert operaton.jobs(job_id=timer.id)[0].retries == 1
    finally:
        operaton.set_job_retries(timer.id, timer.retries)


def test_the_administrator_still_changes_instances(operaton: EngineClient, failed_report: dict[str, str]) -> None:
    """The engine plugin narrows nothing for the administrators (and the service accounts keep UPDATE_INSTANCE)."""
    instance = failed_report["instance"]
    operaton.set_variables(instance, {"catatanAdmin": "diperiksa"})
    operaton.set_suspended(instance, True)
    assert operaton.instance(instance).suspended
    operaton.set_suspended(instance, False)
    before = retries_set_by(operaton, "admin")
    operaton.set_external_task_retries(failed_report["task"], 1)
    assert retries_set_by(operaton, "admin") == before + 1
    assert operaton.variables(instance)["catatanAdmin"] == "diperiksa"


@pytest.mark.parametrize("supervisor", ["koordinator", "kepala-bidang"])
async def test_supervisors_see_who_holds_every_task_and_cannot_touch_it(
    engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps, supervisor: str
) -> None:
    """Who holds a report, for those who watch the SLA (issue 20, 1): the OPD's open task with its assignee and due
    date, as Cockpit's "Tugas manusia" and an instance's user-task tab read it; and nothing they may change."""
    report = await submit(lapor_process, worker_deps)
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    task = await open_task(operaton, report, "OpdResponseTask")
    operaton.claim(task.id, "opd-pupr")  # the PUPR liaison holds it

    seen = as_user(engine, supervisor, "GET", f"/task?processInstanceId={report.process_instance_id}")
    assert seen.status_code == 200, seen.text
    [held] = seen.json()
    assert (held["id"], held["assignee"], parse_date(held["due"])) == (task.id, "opd-pupr", task.due)
    for report_path in ("/task/report/candidate-group-count", "/task/count?assigned=true"):  # Cockpit's dashboard
        counts = as_user(engine, supervisor, "GET", report_path)
        assert counts.status_code == 200, counts.text
        # Raw, as Cockpit's dashboard asks: the administrator's answer to the same path.
        assert counts.json() == operaton.request("GET", report_path), report_path
    history = as_user(engine, supervisor, "GET", f"/history/task?processInstanceId={report.process_instance_id}")
    assert {t["taskDefinitionKey"] for t in history.json()} >= {"VerifyReportTask", "DispatchReportTask"}

    path = f"/task/{task.id}"
    fields = (
        "name description priority assignee owner delegationState due followUp parentTaskId caseInstanceId tenantId"
    )
    updatable = {name: held.get(name) for name in fields.split()}  # what PUT /task/{id} takes (the admin's is 204)
    refused = {
        "claim it": ("POST", f"{path}/claim", {"userId": supervisor}),
        "unclaim it": ("POST", f"{path}/unclaim", None),
        "reassign it": ("POST", f"{path}/assignee", {"userId": supervisor}),
        "delegate it": ("POST", f"{path}/delegate", {"userId": supervisor}),
        "complete it": ("POST", f"{path}/complete", {"variables": {}}),
        "submit its form": ("POST", f"{path}/submit-form", {"variables": {}}),
        "change its due date": ("PUT", path, {**updatable, "due": "2030-01-01T08:00:00.000+0700"}),
        "set its variables": ("POST", f"{path}/variables", {"modifications": {"opdDecision": {"value": "x"}}}),
        "add a candidate": ("POST", f"{path}/identity-links", {"groupId": "koordinator", "type": "candidate"}),
    }
    for what, (method, where, body) in refused.items():
        answer = as_user(engine, supervisor, method, where, body)
        assert answer.status_code == 403, f"{supervisor} may {what}: {answer.status_code} {answer.text}"
        assert answer.json()["type"] == "AuthorizationException", (what, answer.text)
    after = operaton.task(task.id)
    assert (after.assignee, after.due) == ("opd-pupr", task.due)  # nothing moved
    assert "opdDecision" not in operaton.variables(report.process_instance_id)
    assert operaton.candidate_groups(task.id) == ["opd-pupr"]
    operaton.request("PUT", path, json=updatable)  # raw, the same update well-formed: the administrator's goes through
    operaton.cancel(report.process_instance_id)


def history_of(operaton: EngineClient, instance: str) -> dict[str, object]:
    """What the engine keeps of a report, to compare before and after a refused change."""
    # Raw rows (a count, end times) where the typed records keep less: the comparison must see everything.
    query = {"processInstanceId": instance}
    return {
        "instance": operaton.historic_instance(instance),
        "activities": operaton.request("GET", "/history/activity-instance/count", params=query)["count"],
        "tasks": sorted(
            (t["id"], t["assignee"], t["endTime"]) for t in operaton.request("GET", "/history/task", params=query)
        ),
        "variables": operaton.historic_variables(instance),
        "runs": len(operaton.historic_instances(business_key=operaton.historic_instance(instance).business_key)),
    }


@pytest.mark.parametrize("supervisor", ["koordinator", "kepala-bidang"])
async def test_supervisors_read_a_finished_report_and_cannot_undo_restart_or_erase_it(
    engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps, supervisor: str
) -> None:
    """Issue 20, 1: Cockpit's history view (app/cockpit/scripts/lapor-history.js) reads a finished report with the
    supervisor's own login; nothing of it, nor of a running report, may be restarted, erased, migrated or changed."""
    finished = await submit(lapor_process, worker_deps)
    ended = await walk_to_the_end(lapor_process, operaton, engine, finished)
    running = await submit(lapor_process, worker_deps)
    open_verification = await open_task(operaton, running, "VerifyReportTask")
    done, definition = finished.process_instance_id, ended.definition_id

    # What the history view reads, each with the supervisor's own login (raw: Cockpit's plugin sends these paths).
    reads: dict[str, Callable[[Any], bool]] = {
        f"/history/process-instance/{done}": lambda body: body["state"] == "COMPLETED",
        f"/history/process-instance?processInstanceBusinessKeyLike=%25{finished.tracking_id}%25&finished=true": (
            lambda body: [i["id"] for i in body] == [done]
        ),
        f"/history/activity-instance?processInstanceId={done}": lambda body: any(
            a["activityId"] == "OpdCompletionTask" for a in body
        ),
        f"/history/task?processInstanceId={done}": lambda body: {t["assignee"] for t in body} >= {"opd-pupr"},
        f"/history/incident?processInstanceId={done}": lambda body: body == [],
        f"/process-definition/{definition}/xml": lambda body: "OpdResponseTask" in body["bpmn20Xml"],
    }
    for path, expected in reads.items():
        answer = as_user(engine, supervisor, "GET", path)
        assert answer.status_code == 200 and expected(answer.json()), f"{supervisor} reads {path}: {answer.text}"

    # Raw: ids of engine records that only the refused calls below use.
    [variable] = operaton.request(
        "GET", "/history/variable-instance", params={"processInstanceId": done, "variableName": "trackingId"}
    )
    [operation] = operaton.request(
        "GET",
        "/history/user-operation",
        params={"processInstanceId": done, "operationType": "Complete", "maxResults": 1},
    )
    restart = {
        "processInstanceIds": [done],
        "instructions": [{"type": "startBeforeActivity", "activityId": "VerifyReportTask"}],
    }
    plan = {"sourceProcessDefinitionId": definition, "targetProcessDefinitionId": definition, "instructions": []}
    refused: dict[str, tuple[str, str, object]] = {
        "restart the finished report": ("POST", f"/process-definition/{definition}/restart", restart),
        "restart it as a batch": ("POST", f"/process-definition/{definition}/restart-async", restart),
        "erase its history": ("DELETE", f"/history/process-instance/{done}", None),
        "erase its history as a batch": (
            "POST",
            "/history/process-instance/delete",
            {"historicProcessInstanceIds": [done], "deleteReason": "dihapus"},
        ),
        "erase its variables' history": ("DELETE", f"/history/process-instance/{done}/variable-instances", None),
        "erase one variable's history": ("DELETE", f"/history/variable-instance/{variable['id']}", None),
        "shorten its history's life": (
            "POST",
            "/history/process-instance/set-removal-time",
            {"historicProcessInstanceIds": [done], "absoluteRemovalTime": "2026-01-01T00:00:00.000+0700"},
        ),
        "annotate who completed a task": (
            "PUT",
            f"/history/user-operation/{operation['operationId']}/set-annotation",
            {"annotation": "diubah"},
        ),
        "delete the process definition": ("DELETE", f"/process-definition/{definition}", None),
        "migrate the running report": (
            "POST",
            "/migration/execute",
            {"migrationPlan": plan, "processInstanceIds": [running.process_instance_id]},
        ),
        "migrate it as a batch": (
            "POST",
            "/migration/executeAsync",
            {"migrationPlan": plan, "processInstanceIds": [running.process_instance_id]},
        ),
        "cancel it as a batch": (
            "POST",
            "/process-instance/delete",
            {"processInstanceIds": [running.process_instance_id], "deleteReason": "dibatalkan"},
        ),
    }
    before, still_open = history_of(operaton, done), operaton.task(open_verification.id)
    for what, (method, path, body) in refused.items():
        answer = as_user(engine, supervisor, method, path, body)
        assert answer.status_code == 403, f"{supervisor} may {what}: {answer.status_code} {answer.text}"
        assert answer.json()["type"] == "AuthorizationException", (what, answer.text)
    # A finished report has nothing left to change: the engine refuses the supervisor as it refuses the administrator
    # (its own 404, or a 500 saying the instance, execution or task does not exist: Operaton maps no exception there).
    # Raw: the finished task's id, for the raw calls below.
    [finished_task] = operaton.request(
        "GET", "/history/task", params={"processInstanceId": done, "taskDefinitionKey": "OpdResponseTask"}
    )
    gone: dict[str, tuple[str, str, object]] = {
        "cancel it": ("DELETE", f"/process-instance/{done}", None),
        "modify it": ("POST", f"/process-instance/{done}/modification", {"instructions": restart["instructions"]}),
        "set its variable": ("PUT", f"/process-instance/{done}/variables/trackingId", {"value": "X", "type": "String"}),
        "claim its finished task": ("POST", f"/task/{finished_task['id']}/claim", {"userId": supervisor}),
        "complete its finished task": ("POST", f"/task/{finished_task['id']}/complete", {"variables": {}}),
    }
    for what, (method, path, body) in gone.items():
        answer, administrators = (as_user(engine, who, method, path, body) for who in (supervisor, "admin"))
        assert answer.status_code >= 400, f"{supervisor} may {what}: {answer.status_code} {answer.text}"
        seen = (answer.status_code, answer.json()["type"])
        assert seen == (administrators.status_code, administrators.json()["type"]), (what, answer.text)
    assert history_of(operaton, done) == before  # nothing erased, restarted or annotated
    assert operaton.task(open_verification.id) == still_open
    assert operaton.instance(running.process_instance_id).definition_id == definition
    operaton.cancel(running.process_instance_id)
