"""Builds the engine application with Maven once, and again only when engine/pom.xml or engine/src change."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import structlog

from engine.errors import EngineError
from engine.java import JavaRuntime

log = structlog.get_logger(__name__)

ENGINE_DIR = Path(__file__).resolve().parent
JAR = ENGINE_DIR / "target" / "lapor-engine.jar"
STAMP = ENGINE_DIR / "target" / "lapor-engine.source-sha256"


def source_hash() -> str:
    """Over the pom and every source file: a change to either means a new jar."""
    digest = hashlib.sha256()
    files = [ENGINE_DIR / "pom.xml", *sorted(p for p in (ENGINE_DIR / "src").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(ENGINE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current() -> bool:
    return JAR.exists() and STAMP.exists() and STAMP.read_text().strip() == source_hash()


def build(java: JavaRuntime, *, force: bool = False) -> Path:
    """The engine jar, built with Maven unless the cached one matches the sources."""
    if not force and is_current():
        return JAR
    mvn = shutil.which("mvn")
    if mvn is None:
        raise EngineError("Building the engine needs Maven (`mvn` on PATH): install it, e.g. `apt-get install maven`.")
    wanted = source_hash()
    log.info("engine.building", maven=mvn, java=str(java.home), note="the first build downloads ~110 MB into ~/.m2")
    result = subprocess.run(
        [mvn, "-B", "-q", "-DskipTests", "clean", "package"],  # clean: an incremental compile once kept a stale class
        cwd=ENGINE_DIR,
        env={**os.environ, "JAVA_HOME": str(java.home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not JAR.exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise EngineError(f"The Maven build of engine/ failed (exit {result.returncode}):\n{tail}")
    STAMP.write_text(wanted + "\n")
    log.info("engine.built", jar=str(JAR), size_mb=round(JAR.stat().st_size / 2**20))
    return JAR
