"""Who may do what on the engine's REST API: nobody without a login, each OPD only its own reports, and the
service accounts only what their service needs."""

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from engine import LocalEngine
from engine.build import build
from engine.java import find_java
from lapor.process import EngineAuthError, EngineClient
from lapor.roles import API_ACCOUNT, WORKERS_ACCOUNT
from lapor.settings import Settings
from lapor.vocabulary import PROCESS_ID
from tests.conftest import login
from tests.e2e.conftest import Submitted, open_task

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def opd_task_deployed(operaton: EngineClient, provisioned: Settings) -> None:
    operaton.deploy_files("opd-task", [Path(__file__).parent / "resources" / "opd-task.bpmn"])


OPD_TASK_VARIABLES = {"trackingId": "LPR-AKSES-1", "opdCode": "PUPR", "category": "JALAN", "kecamatanCode": "61.71.01"}


def test_the_rest_api_refuses_anonymous_calls_and_wrong_passwords(engine: LocalEngine, provisioned: Settings) -> None:
    assert httpx.get(f"{engine.rest_url}/task").status_code == 401
    assert httpx.get(f"{engine.rest_url}/user").status_code == 401
    assert httpx.get(f"{engine.rest_url}/task", auth=("opd-bapenda", "opd-bapenda")).status_code == 200
    assert httpx.get(f"{engine.rest_url}/task", auth=("opd-bapenda", "salah")).status_code == 401
    # A wrong password locks the login for a few seconds (guessing is slowed down), then it works again.
    assert httpx.get(f"{engine.rest_url}/task", auth=("opd-bapenda", "opd-bapenda")).status_code == 401
    deadline = time.monotonic() + 15
    while httpx.get(f"{engine.rest_url}/task", auth=("opd-bapenda", "opd-bapenda")).status_code != 200:
        assert time.monotonic() < deadline, "the login stayed locked"
        time.sleep(0.5)


@pytest.mark.usefixtures("opd_task_deployed")
async def test_an_opd_sees_and_acts_on_its_own_tasks_only(
    engine: LocalEngine, operaton: EngineClient, provisioned: Settings
) -> None:
    instance_id = operaton.start("deploy-opd-task", business_key="LPR-AKSES-1", variables=OPD_TASK_VARIABLES)
    task = await open_task(operaton, Submitted("LPR-AKSES-1", instance_id), "OpdTask")
    assert operaton.candidate_groups(task.id) == ["opd-pupr"]
    with login(engine, "opd-dlh") as dlh, login(engine, "opd-pupr") as pupr:
        assert [t.id for t in dlh.tasks(process_instance_id=instance_id)] == []
        assert [t.id for t in pupr.tasks(process_instance_id=instance_id)] == [task.id]
        for attempt in (lambda: dlh.claim(task.id, "opd-dlh"), lambda: dlh.complete_task(task.id, {})):
            with pytest.raises(EngineAuthError) as refused:
                attempt()
            assert refused.value.status_code == 403
        pupr.claim(task.id, "opd-pupr")
        pupr.complete_task(task.id, {"responseText": "Ditangani"})
    assert operaton.historic_instance(instance_id).state == "COMPLETED"


def test_service_accounts_have_least_privilege(engine: LocalEngine, provisioned: Settings) -> None:
    with login(engine, WORKERS_ACCOUNT, provisioned.worker_engine_password) as workers:
        with pytest.raises(EngineAuthError):  # workers run tasks; they never start reports
            workers.start(PROCESS_ID, business_key="LPR-AKSES-2", variables={"trackingId": "LPR-AKSES-2"})
        # Raw: what the account's password alone gets from the REST API, as whoever steals it would ask.
        assert [u["id"] for u in workers.request("GET", "/user")] == [WORKERS_ACCOUNT]  # no one else's account
    with login(engine, API_ACCOUNT, provisioned.api_engine_password) as api:
        with pytest.raises(EngineAuthError):  # the API starts reports but cannot deploy models
            api.deploy("lapor-pontianak", {"x.bpmn": b"<x/>"})
        assert [u["id"] for u in api.request("GET", "/user")] == [API_ACCOUNT]  # raw, as above
        assert api.tasks() == []  # nor see the staff's tasks


def test_a_supervisor_cannot_cancel_a_report(
    engine: LocalEngine, operaton: EngineClient, provisioned: Settings
) -> None:
    instance_id = operaton.start(PROCESS_ID, business_key="LPR-AKSES-3", variables={"trackingId": "LPR-AKSES-3"})
    try:
        with login(engine, "koordinator") as koordinator:
            assert [i.id for i in koordinator.running_instances(PROCESS_ID, business_key="LPR-AKSES-3")] == [
                instance_id
            ]
            with pytest.raises(EngineAuthError):
                koordinator.cancel(instance_id)
    finally:
        operaton.cancel(instance_id)


def test_production_refuses_the_default_administrator_password(engine: LocalEngine) -> None:
    """The engine jar (built for the session's engine) exits before Spring starts: no port, no database touched."""
    java = find_java(minimum=17, purpose="The Operaton engine")
    env = {**os.environ, "LAPOR_ENVIRONMENT": "production", "LAPOR_ENGINE_ADMIN_PASSWORD": "admin"}
    refused = subprocess.run(
        [str(java.java), "-jar", str(build(java))], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 2
    assert "refuses the default administrator password" in refused.stderr
