"""Deploys bpmn/ and provisions the roles once the engine answers: `python -m lapor.deploy`.

The same command runs in the local run and as the compose stack's migrate job. Deploying is idempotent (the engine
keeps the version of an unchanged resource) and so is provisioning (lapor.roles, lapor.process.identity).
"""

import argparse
import sys
import time
from pathlib import Path

import structlog

from lapor.logging import configure_logging
from lapor.process import Deployment, EngineAuthError, EngineClient, EngineUnavailable
from lapor.process.identity import Provisioned, provision
from lapor.roles import identity_plan
from lapor.settings import ROOT, Settings, get_settings

log = structlog.get_logger(__name__)

BPMN_DIR = ROOT / "bpmn"
DEPLOYABLE_SUFFIXES = (".bpmn", ".dmn", ".form", ".html")
DEPLOYMENT_NAME = "lapor-pontianak"


class EngineNotReadyError(RuntimeError):
    """The engine did not answer within the attempts given."""


def deployable_resources(directory: Path = BPMN_DIR) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in DEPLOYABLE_SUFFIXES)


def deploy_directory(client: EngineClient, directory: Path = BPMN_DIR) -> Deployment:
    """Every BPMN, DMN and form of the directory in one deployment (tasks find forms and decisions in it)."""
    return client.deploy_files(DEPLOYMENT_NAME, deployable_resources(directory))


def admin_client(settings: Settings) -> EngineClient:
    return EngineClient(settings.engine_url, user=settings.engine_admin_user, password=settings.engine_admin_password)


def wait_until_ready(client: EngineClient, *, attempts: int, delay: float) -> None:
    for attempt in range(1, attempts + 1):
        try:
            client.version()
            return
        except EngineUnavailable as err:
            log.warning("engine.not_ready", attempt=attempt, attempts=attempts, error=str(err)[:200])
        if attempt < attempts:
            time.sleep(delay)
    raise EngineNotReadyError(f"The engine at {client.base_url} did not answer after {attempts} attempts")


def deploy_and_provision(
    settings: Settings, *, attempts: int = 60, delay: float = 5.0
) -> tuple[Deployment, Provisioned]:
    with admin_client(settings) as client:
        wait_until_ready(client, attempts=attempts, delay=delay)
        provisioned = provision(client, identity_plan(settings), admin_password=settings.engine_admin_password)
        deployment = deploy_directory(client)
    return deployment, provisioned


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.deploy", description=__doc__)
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds between attempts")
    args = parser.parse_args(argv)
    try:
        deployment, provisioned = deploy_and_provision(settings, attempts=args.attempts, delay=args.delay)
    except EngineNotReadyError as err:
        log.error("bpmn.not_deployed", error=str(err))
        return 1
    except EngineAuthError as err:
        log.error("bpmn.not_deployed", error=f"the engine refused the administrator login: {err}")
        return 1
    log.info(
        "bpmn.deployed",
        engine=settings.engine_url,
        deployment=deployment.id,
        changed=deployment.resources,
        groups=len(identity_plan(settings).groups),
        users_created=provisioned.users_created,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
