"""What the restore command finds and does, as the operator reads it."""

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """The mismatches the command looks for, as the operator reads them."""

    NO_INSTANCE = "report without instance"
    NO_REPORT = "instance without report"
    INSTANCE_AHEAD = "instance ahead of report"
    REPORT_AHEAD = "report ahead of instance"
    APPLIED = "outbox row already applied"
    DUPLICATE = "more than one instance"
    DUE_DATES = "due dates differ"
    LOST_MESSAGE = "message the engine lost"
    DEADLINE_STARTS = "deadline starts differ"
    PHOTO_MISSING = "photo file missing"
    STRAY_FILE = "file without photo row"


CHECKED_ONLY = frozenset({Kind.PHOTO_MISSING, Kind.STRAY_FILE})  # listed on every run, never changed


@dataclass(frozen=True)
class Finding:
    """One mismatch: what was (or would be, in a dry run) done, and why a person must act when one must."""

    tracking_id: str
    kind: Kind
    action: str
    for_person: str | None = None


@dataclass
class Outcome:
    """What a run looked at, what it repaired and what it leaves for a person."""

    applied: bool
    reports: int = 0
    instances: int = 0
    closed_without_instance: int = 0  # closed reports the engine has no record of: nothing to track
    findings: list[Finding] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<trackingId>: <error>": left as they were, run again

    @property
    def repairs(self) -> list[Finding]:
        """The findings the run acted on: all but the photo files, which are checked and left to a person."""
        return [f for f in self.findings if f.kind not in CHECKED_ONLY]

    @property
    def for_person(self) -> list[Finding]:
        return [f for f in self.findings if f.for_person]

    @property
    def needs_person(self) -> bool:
        return bool(self.for_person or self.failed)
