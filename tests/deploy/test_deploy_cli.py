"""`python -m lapor.deploy`: waits for the engine, gives up with exit code 1, never retries a bad model."""

import socket
from collections.abc import Iterator

import grpc
import pytest
from pyzeebe.errors import ProcessInvalidError, ZeebeGatewayUnavailableError

from lapor import deploy
from lapor.settings import get_settings


def _unavailable() -> ZeebeGatewayUnavailableError:
    return ZeebeGatewayUnavailableError(
        grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata())
    )


async def test_deployment_is_retried_until_the_engine_answers() -> None:
    calls: list[str] = []

    async def engine_starting(address: str) -> list[str]:
        calls.append(address)
        if len(calls) < 3:
            raise _unavailable()
        return ["lapor-pengaduan.bpmn"]

    deployed = await deploy.deploy_when_ready("camunda:26500", attempts=5, delay=0, deploy=engine_starting)
    assert deployed == ["lapor-pengaduan.bpmn"]
    assert calls == ["camunda:26500"] * 3


async def test_an_invalid_model_fails_at_once() -> None:
    calls = 0

    async def invalid(address: str) -> list[str]:
        nonlocal calls
        calls += 1
        raise ProcessInvalidError()

    with pytest.raises(ProcessInvalidError):
        await deploy.deploy_when_ready("camunda:26500", attempts=5, delay=0, deploy=invalid)
    assert calls == 1


@pytest.fixture
def unreachable_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LAPOR_ZEEBE_ADDRESS", f"127.0.0.1:{port}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("unreachable_engine")
def test_the_cli_exits_1_when_the_engine_never_answers() -> None:
    assert deploy.main(["--attempts", "2", "--delay", "0"]) == 1
