"""The retention schedule (UU No. 27/2022: personal data kept no longer than needed; issue 23 item 3), applied daily
by the workers (workers/main.py) and by hand with `python -m lapor.retention [--dry-run]`.

What goes, and when (settings `retention_identity_years`, `retention_photo_years`, at most the engine history's
5 years):
- a reporter's identity (lapor.erasure, as if they had asked), once none of their reports is open and their last
  report closed, their last sign-in and their registration are all older than the identity period;
- a report's photos (rows and files), once the report closed longer ago than the photo period; a file another
  report still keeps (the same bytes) stays;
- a registration or correction code nobody proved, 30 days after it expired (a name and a contact typed by someone
  who never showed they own it).

What stays: the report's facts, timeline, messages (without the erased identity), ratings, deadlines and audit
trails, so the recap and the SLA figures of past months do not move. `plan` says what a run would remove; `apply`
removes exactly that; a second run finds nothing. A dry run prints the plan's counts, a real run the same counts.
An identity whose reports reached the engine is erased only when the engine answers what their variables hold
(lapor.erasure reads it with the workers' login, svc-workers): a reporter it cannot read is left for the next run
and counted as `deferred`.
"""

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import Engine, delete, exists, select
from sqlalchemy.orm import Session

from lapor import audit, erasure
from lapor.audit import AuditActor
from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.models import Photo, RegistrationCode, Report, Reporter, ReporterToken
from lapor.process import EngineClient
from lapor.settings import get_settings
from lapor.uploads import path_of, upload_dir

_log = structlog.stdlib.get_logger(__name__)

ACTOR = "jadwal-retensi"  # the reporter's audit chain names the schedule as who erased
UNPROVED_CODE_DAYS = 30

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True, slots=True)
class Schedule:
    identity_years: int
    photo_years: int

    def __post_init__(self) -> None:
        if not (1 <= self.identity_years <= 5 and 1 <= self.photo_years <= 5):
            raise ValueError("retention periods are 1 to 5 years (the engine keeps its history 5 years)")


@dataclass(frozen=True, slots=True)
class Plan:
    identity_before: datetime
    photos_before: datetime
    photo_years: int
    reporters: tuple[int, ...]
    photos: tuple[int, ...]
    files: tuple[Path, ...]  # photo files no other photo row keeps
    codes: tuple[int, ...]

    def counts(self) -> dict[str, int]:
        return {
            "reporters": len(self.reporters),
            "photos": len(self.photos),
            "files": len(self.files),
            "codes": len(self.codes),
        }


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def plan(session: Session, schedule: Schedule, *, now: datetime, uploads: Path) -> Plan:
    """What a run at `now` removes; reads only."""
    identity_before = years_before(now, schedule.identity_years)
    photos_before = years_before(now, schedule.photo_years)
    theirs = Report.reporter_id == Reporter.id
    reporters = session.scalars(
        select(Reporter.id)
        .where(
            Reporter.erased_at.is_(None),
            Reporter.created_at <= identity_before,
            ~exists().where(theirs, Report.closed_at.is_(None)),
            ~exists().where(theirs, Report.closed_at > identity_before),
            ~exists().where(ReporterToken.reporter_id == Reporter.id, ReporterToken.created_at > identity_before),
        )
        .order_by(Reporter.id)
    ).all()
    expired = list(
        session.execute(
            select(Photo.id, Photo.sha256, Photo.content_type)
            .join(Report, Report.id == Photo.report_id)
            .where(Report.closed_at.is_not(None), Report.closed_at <= photos_before)
            .order_by(Photo.id)
        )
    )
    going = {row.id for row in expired}
    kept = set(session.scalars(select(Photo.sha256).where(Photo.id.not_in(going)))) if going else set()
    files = sorted({path_of(uploads, row.sha256, row.content_type) for row in expired if row.sha256 not in kept})
    codes = session.scalars(
        select(RegistrationCode.id)
        .where(
            RegistrationCode.verified_at.is_(None),
            RegistrationCode.expires_at <= now - timedelta(days=UNPROVED_CODE_DAYS),
        )
        .order_by(RegistrationCode.id)
    ).all()
    return Plan(
        identity_before,
        photos_before,
        schedule.photo_years,
        tuple(reporters),
        tuple(row.id for row in expired),
        tuple(files),
        tuple(codes),
    )


def apply(
    session_factory: SessionFactory, planned: Plan, *, now: datetime, data_dir: Path, engine: EngineClient | None
) -> dict[str, int]:
    """Remove what the plan names: the codes and photo rows, each reporter in its own transaction, then the photo
    files; the counts of what was removed."""
    with session_factory() as session:  # the codes first: an erasure below would otherwise take some of them
        codes = (
            erasure.deleted(session, delete(RegistrationCode).where(RegistrationCode.id.in_(planned.codes)))
            if planned.codes
            else 0
        )
    photos = _remove_photos(session_factory, planned, now=now)
    erased = deferred = 0
    for reporter_id in planned.reporters:
        try:
            with session_factory() as session:
                reporter = session.get(Reporter, reporter_id)
                if reporter is None or reporter.erased_at is not None:
                    continue  # erased meanwhile (on request, or by another run)
                erasure.erase(
                    session,
                    reporter,
                    via=erasure.ErasureVia.RETENTION,
                    actor_kind=AuditActor.LAYANAN,
                    actor=ACTOR,
                    at=now,
                    engine=engine,
                    data_dir=data_dir,
                )
                erased += 1
        except erasure.EngineUnreadable as err:  # rolled back whole: the next run tries again
            _log.warning("retention.erasure_deferred", reporter_id=reporter_id, error=err.reason)
            deferred += 1
    files = 0
    for path in planned.files:  # after the rows are gone: a page never links a missing file it still lists
        if path.is_file():
            path.unlink()
            files += 1
    done = {"reporters": erased, "photos": photos, "files": files, "codes": codes}
    return done | ({"deferred": deferred} if deferred else {})


def _remove_photos(session_factory: SessionFactory, planned: Plan, *, now: datetime) -> int:
    """The planned photo rows, each report's in its own transaction with the entry on its audit trail that says so."""
    with session_factory() as session:
        by_report: dict[int, list[int]] = defaultdict(list)
        for photo_id, report_id in session.execute(
            select(Photo.id, Photo.report_id).where(Photo.id.in_(planned.photos)).order_by(Photo.id)
        ):
            by_report[report_id].append(photo_id)
    removed = 0
    for report_id, photo_ids in by_report.items():
        with session_factory() as session:
            report = session.get_one(Report, report_id)
            count = erasure.deleted(session, delete(Photo).where(Photo.id.in_(photo_ids)))
            if count == 0:
                continue  # removed meanwhile (by another run)
            closed = f"{report.closed_at:%Y-%m-%d}" if report.closed_at else "-"
            audit.record(
                session,
                report,
                action=audit.AuditAction.PHOTOS_REMOVED,
                actor_kind=AuditActor.LAYANAN,
                actor=ACTOR,
                at=now,
                detail={
                    "photos": count,
                    "text": f"{count} foto dihapus sesuai jadwal retensi: laporan selesai {closed}, "
                    f"lebih dari {planned.photo_years} tahun lalu",
                },
            )
            removed += count
    return removed


def run(
    session_factory: SessionFactory,
    schedule: Schedule,
    *,
    now: datetime,
    data_dir: Path,
    dry_run: bool,
    engine: EngineClient | None,
) -> tuple[Plan, dict[str, int]]:
    """Plan, and apply unless a dry run: the plan and the counts removed (the plan's counts for a dry run)."""
    with session_factory() as session:
        planned = plan(session, schedule, now=now, uploads=upload_dir(data_dir))
    done = planned.counts() if dry_run else apply(session_factory, planned, now=now, data_dir=data_dir, engine=engine)
    _log.info("retention.applied", dry_run=dry_run, **done)
    return planned, done


def describe(planned: Plan, done: dict[str, int], *, dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    return (
        f"retention{' (dry run)' if dry_run else ''}: identity of reporters inactive since before "
        f"{planned.identity_before:%Y-%m-%d}, photos of reports closed before {planned.photos_before:%Y-%m-%d}\n"
        f"  {verb}: {done['reporters']} reporter identities, {done['photos']} photos ({done['files']} files), "
        f"{done['codes']} unproved registration codes"
        + (
            f"\n  deferred: {done['deferred']} reporter identities (the engine did not answer)"
            if "deferred" in done
            else ""
        )
    )


def main(argv: list[str] | None = None, *, db: Engine | None = None, now: datetime | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.retention", description="Jadwal retensi data pribadi")
    parser.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")
    args = parser.parse_args(argv)
    schedule = Schedule(settings.retention_identity_years, settings.retention_photo_years)
    database = db or default_engine()
    with EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password) as client:
        planned, done = run(
            lambda: session_scope(database),
            schedule,
            now=now or datetime.now(UTC),
            data_dir=Path(settings.data_dir),
            dry_run=args.dry_run,
            engine=client,
        )
    print(describe(planned, done, dry_run=args.dry_run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
