"""What Camunda 8.6.0 restricts, on the real engine (docs/operations.md, "Access control").

The last test pins today's gap: any logged-in user sees and completes another OPD's task. When the engine starts
enforcing candidate groups (Identity, or 8.8 authorizations), it fails, and the access test the issue asks for
takes its place.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyzeebe import ZeebeClient

from engine import LocalEngine
from lapor.camunda import CamundaRest
from tests.conftest import eventually
from tests.deploy.composefile import ROOT, load

pytestmark = pytest.mark.engine
OPD_TASK = Path(__file__).parent / "resources" / "opd-task.bpmn"


def _login(engine: LocalEngine, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=engine.rest_url, timeout=30)
    client.post("/api/login", params={"username": username, "password": password})
    return client


def _login_status(engine: LocalEngine, username: str, password: str) -> int:
    response = httpx.post(
        f"{engine.rest_url}/api/login", params={"username": username, "password": password}, timeout=30
    )
    return response.status_code


def _store_user(engine: LocalEngine, user_id: str, password: str, role: str) -> None:
    """What deploy/camunda-user.sh does on the server: its own Python, then a PUT into Operate's user store."""
    script = (ROOT / "deploy" / "camunda-user.sh").read_text()
    snippet = script.split("python -c '", 1)[1].split('\n\' "$1"', 1)[0]
    document = subprocess.run(
        [sys.executable, "-c", snippet, user_id, user_id, role], input=password, capture_output=True, text=True
    ).stdout
    response = httpx.put(
        f"{engine.opensearch_url}/operate-user-1.2.0_/_doc/{user_id}?refresh=true", json=json.loads(document)
    )
    response.raise_for_status()


def test_the_engine_refuses_requests_without_a_session_and_wrong_passwords(engine: LocalEngine) -> None:
    anonymous = httpx.Client(base_url=engine.rest_url, timeout=30)
    assert anonymous.post("/v1/tasks/search", json={}).status_code == 401
    assert anonymous.post("/v2/user-tasks/1/completion", json={}).status_code == 401
    assert anonymous.get("/v2/topology").status_code == 401
    assert _login_status(engine, "demo", "not-the-password") == 401


def test_the_compose_job_disables_the_users_operate_adds_on_its_own(engine: LocalEngine) -> None:
    assert _login_status(engine, "view", "view") == 204  # Operate 8.6 creates these on every start
    assert _login_status(engine, "act", "act") == 204
    job = load()["services"]["disable-demo-users"]["entrypoint"]
    url = job[job.index("POST") + 3].replace("http://opensearch:9200", engine.opensearch_url)
    httpx.post(url, json=json.loads(job[job.index("-d") + 1]), timeout=30).raise_for_status()
    assert _login_status(engine, "view", "view") == 401
    assert _login_status(engine, "act", "act") == 401
    assert _login_status(engine, "demo", "demo") == 204


def test_a_user_from_the_user_script_logs_in(engine: LocalEngine) -> None:
    _store_user(engine, "budi.kabid", "rahasia-kepala-bidang", "USER")
    assert _login_status(engine, "budi.kabid", "rahasia-kepala-bidang") == 204
    assert _login_status(engine, "budi.kabid", "wrong") == 401


async def test_86_does_not_keep_an_opd_from_another_opds_task(
    engine: LocalEngine, zeebe: ZeebeClient, camunda: CamundaRest
) -> None:
    await zeebe.deploy_resource(str(OPD_TASK))
    instance = await zeebe.run_process("deploy-opd-task", variables={"opdCode": "PUPR"})
    key = instance.process_instance_key

    def pupr_task() -> dict[str, Any] | None:
        tasks = camunda.user_tasks(state="CREATED", processInstanceKey=key)
        return tasks[0] if tasks else None

    task = await eventually(pupr_task)
    assert task["candidateGroups"] == ["opd-pupr"]

    _store_user(engine, "andi.dlh", "rahasia-pejabat-dlh", "USER")  # a Pejabat Penghubung of DLH, not PUPR
    dlh = _login(engine, "andi.dlh", "rahasia-pejabat-dlh")
    me = dlh.get("/v1/internal/users/current").json()
    assert me["groups"] == []  # basic login has no groups
    seen = dlh.post("/v1/tasks/search", json={"processInstanceKey": str(key)}).json()
    assert [t["id"] for t in seen] == [task["id"]]  # DLH sees PUPR's task
    completed = dlh.post(f"/v2/user-tasks/{task['id']}/completion", json={"variables": {}})
    assert completed.status_code == 204  # and completes it
