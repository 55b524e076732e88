"""`python -m lapor.deploy`: waits for the engine, deploys bpmn/ and provisions the roles idempotently, gives up
with exit code 1, and never retries a model the engine refuses."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import LocalEngine
from lapor import deploy
from lapor.process import EngineClient, EngineError, migration
from lapor.process.identity import IdentityPlan, members, provision
from lapor.roles import identity_plan
from lapor.settings import Settings, get_settings

BROKEN_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Broken" targetNamespace="t">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="Flow" sourceRef="Start" targetRef="Missing" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def unreachable_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LAPOR_ENGINE_URL", f"http://127.0.0.1:{port}/engine-rest")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("unreachable_engine")
def test_the_cli_exits_1_when_the_engine_never_answers() -> None:
    assert deploy.main(["--attempts", "2", "--delay", "0"]) == 1


@pytest.mark.engine
def test_deploying_twice_changes_nothing_the_second_time(engine: LocalEngine, operaton: EngineClient) -> None:
    settings = Settings(engine_url=engine.rest_url)
    first, _ = deploy.deploy_and_provision(settings, attempts=1, delay=0)
    second, again = deploy.deploy_and_provision(settings, attempts=1, delay=0)
    assert first.id  # the first run of the session may find bpmn/ deployed by another test: then it is unchanged
    assert second.resources == []  # unchanged resources are not deployed again
    assert (again.groups_created, again.users_created, again.grants_written) == ([], [], 0)
    assert migration.latest(operaton, "lapor-pengaduan") and migration.latest(operaton, "lapor-rekap-bulanan")


@pytest.mark.engine
def test_a_model_the_engine_refuses_fails_at_once_with_its_reason(operaton: EngineClient, tmp_path: Path) -> None:
    (tmp_path / "broken.bpmn").write_bytes(BROKEN_BPMN)
    with pytest.raises(EngineError) as refused:
        deploy.deploy_directory(operaton, tmp_path)
    assert refused.value.status_code == 400
    assert "Missing" in str(refused.value)  # the engine's parse error names the element


@pytest.mark.engine
def test_a_removed_opd_loses_its_group_and_nothing_else(operaton: EngineClient, provisioned: Settings) -> None:
    plan = identity_plan(provisioned)
    # Raw: a group made outside LAPOR (by hand in Admin), which no lapor.process call ever creates.
    operaton.request("POST", "/group/create", json={"id": "tim-lain", "name": "Bukan dari LAPOR", "type": "WORKFLOW"})
    without_pdam = IdentityPlan(groups=[g for g in plan.groups if g.id != "opd-pdam"], users=[])
    done = provision(operaton, without_pdam)
    # Raw: the engine's whole group list as Admin shows it, the foreign group included.
    groups = {g["id"] for g in operaton.request("GET", "/group", params={"maxResults": 1000})}
    assert done.groups_removed == ["opd-pdam"]
    assert "opd-pdam" not in groups and {"tim-lain", "opd-pupr", "admin-pengaduan"} <= groups
    restored = provision(operaton, plan)  # the OPD comes back on the next deploy with the full list
    assert restored.groups_created == ["opd-pdam"]
    assert list(members(operaton, "opd-pdam")) == ["opd-pdam"]
