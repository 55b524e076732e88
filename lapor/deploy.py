"""Deploys bpmn/ once the engine answers: `python -m lapor.deploy` (the migrate job of docker-compose.yml).

Zeebe keeps the version of a resource whose content did not change, so running this on every start is safe.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import structlog
from pyzeebe.errors import (
    ZeebeBackPressureError,
    ZeebeDeadlineExceeded,
    ZeebeGatewayUnavailableError,
    ZeebeInternalError,
)

from lapor.logging import configure_logging
from lapor.settings import get_settings
from lapor.zeebe import deploy_directory

log = structlog.get_logger(__name__)

# The engine is starting or briefly gone; anything else (an invalid model, a refused login) fails at once.
NOT_READY = (ZeebeGatewayUnavailableError, ZeebeInternalError, ZeebeDeadlineExceeded, ZeebeBackPressureError)
Deploy = Callable[[str], Awaitable[list[str]]]


class EngineNotReadyError(RuntimeError):
    """The engine did not accept the deployment within the attempts given."""


async def deploy_when_ready(
    grpc_address: str, *, attempts: int, delay: float, deploy: Deploy = deploy_directory
) -> list[str]:
    """Deploy every resource of bpmn/, retrying while the engine is not ready; return the deployed names."""
    for attempt in range(1, attempts + 1):
        try:
            return await deploy(grpc_address)
        except NOT_READY as err:
            log.warning("bpmn.engine_not_ready", attempt=attempt, attempts=attempts, error=type(err).__name__)
            if attempt < attempts:
                await asyncio.sleep(delay)
    raise EngineNotReadyError(f"The engine at {grpc_address} did not accept the deployment after {attempts} attempts")


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.deploy", description=__doc__)
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds between attempts")
    args = parser.parse_args(argv)
    try:
        deployed = asyncio.run(deploy_when_ready(settings.zeebe_address, attempts=args.attempts, delay=args.delay))
    except EngineNotReadyError as err:
        log.error("bpmn.not_deployed", error=str(err))
        return 1
    log.info("bpmn.deployed", zeebe=settings.zeebe_address, resources=deployed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
