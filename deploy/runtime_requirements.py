"""Prints the runtime part of requirements.lock: the pins and hashes the image installs.

The lock holds the dev group too (pytest, mypy, ruff, schemathesis...). A package is kept when the lock's own
`# via` notes lead from it to the project's main dependencies, so the image gets exactly the locked versions and
hashes, without a second lock file to keep in step. Run: python deploy/runtime_requirements.py requirements.lock
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_MAIN = "lapor-pontianak (pyproject.toml)"  # how uv names the main group in `# via`; dev is `...:dev)`
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==")


@dataclass
class Entry:
    name: str
    lines: list[str] = field(default_factory=list)
    via: set[str] = field(default_factory=set)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(lock_text: str) -> list[Entry]:
    entries: list[Entry] = []
    in_via = False
    for line in lock_text.splitlines():
        pin = _PIN.match(line)
        if pin:
            entries.append(Entry(name=normalize(pin.group(1)), lines=[line]))
            in_via = False
        elif entries and line.startswith("    --hash="):
            entries[-1].lines.append(line)
        elif entries and line.strip().startswith("# via"):
            parent = line.strip().removeprefix("# via").strip()
            in_via = not parent  # "# via" alone: the parents follow, one per line
            if parent:
                entries[-1].via.add(parent)
        elif entries and in_via and line.startswith("    #   "):
            entries[-1].via.add(line.removeprefix("    #   ").strip())
    return entries


def runtime_entries(entries: list[Entry]) -> list[Entry]:
    """Entries reachable from the main dependencies through `# via`, in lock order."""
    runtime: set[str] = set()
    changed = True
    while changed:
        changed = False
        for entry in entries:
            if entry.name in runtime:
                continue
            if PROJECT_MAIN in entry.via or any(normalize(parent) in runtime for parent in entry.via):
                runtime.add(entry.name)
                changed = True
    return [entry for entry in entries if entry.name in runtime]


def render(entries: list[Entry]) -> str:
    header = "# Generated from requirements.lock by deploy/runtime_requirements.py: runtime packages only.\n"
    return header + "".join("\n".join(entry.lines).rstrip(" \\") + "\n" for entry in entries)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(render(runtime_entries(parse(Path(argv[1]).read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
