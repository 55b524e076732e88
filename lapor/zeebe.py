"""gRPC access to Zeebe through pyzeebe: channels and deployment of everything in bpmn/."""

from pathlib import Path

from pyzeebe import ZeebeClient, create_insecure_channel

from lapor.settings import ROOT

BPMN_DIR = ROOT / "bpmn"
DEPLOYABLE_SUFFIXES = (".bpmn", ".dmn", ".form")


def deployable_resources(directory: Path = BPMN_DIR) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in DEPLOYABLE_SUFFIXES)


async def deploy_directory(grpc_address: str, directory: Path = BPMN_DIR) -> list[str]:
    """Deploy every BPMN, DMN and form in one deployment (forms and decisions resolve by id); return names."""
    resources = deployable_resources(directory)
    if not resources:
        return []
    # The channel must be created inside the running event loop (grpc.aio).
    client = ZeebeClient(create_insecure_channel(grpc_address=grpc_address))
    await client.deploy_resource(*[str(p) for p in resources])
    return [p.name for p in resources]
