"""Duplicates merged at verification: Admin Pengaduan marks a report as a duplicate of another open public report;
the duplicate's process ends with DIGABUNGKAN, its reporter follows the original, and its photos stay with it.

The merge runs in the `lapor-merge-duplicate` worker (workers/duplicates.py); a wrong tracking id is refused there
with a reason the verification form shows (BPMN error DUPLICATE_REFUSED, back to the task). While the original is
still open, an operator undoes a merge with `python -m lapor.duplicates undo <tracking id>`: the report is
verified again in a fresh process instance started through the outbox.
"""

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lapor import nearby, outbox, reports, support
from lapor.db import make_engine, session_scope
from lapor.models import CLOSED_STATUSES, EventKind, Report, ReportStatus
from lapor.notifications.service import Notifier
from lapor.refusals import Refused
from lapor.settings import get_settings
from lapor.vocabulary import Actor, Notice

__all__ = [
    "CANDIDATE_LIMIT",
    "MergeRefused",
    "UndoRefused",
    "Undone",
    "candidates_text",
    "merge",
    "original_for",
    "undo",
    "undo_and_tell",
]

CANDIDATE_LIMIT = 5
NO_CANDIDATES = "Tidak ada laporan terbuka dengan kategori yang sama di sekitar lokasi ini."
UNDO_ACTOR = "lapor.duplicates"  # who recorded an undo in the audit trail: the operator's command


class MergeRefused(Refused):
    code = "duplicate_refused"
    message = "Laporan ini tidak dapat digabungkan."


class UndoRefused(Refused):
    code = "duplicate_undo_refused"
    message = "Penggabungan laporan ini tidak dapat dibatalkan."


def candidates_text(session: Session, report: Report, *, radius_m: float) -> str:
    """Open public reports of the same category near this one, one per line: tracking id, title, distance.

    Public words only (what the feed shows): the form in Tasklist reads it, so no reporter is named."""
    found = nearby.find(
        session,
        category=report.category,
        latitude=report.latitude,
        longitude=report.longitude,
        kelurahan_code=report.kelurahan_code,
        radius_m=radius_m,
        limit=CANDIDATE_LIMIT + 1,
    )
    lines = []
    for candidate in [n for n in found if n.report.id != report.id][:CANDIDATE_LIMIT]:
        where = f"{round(candidate.distance_m)} m" if candidate.distance_m is not None else "kelurahan yang sama"
        status = ReportStatus(candidate.report.status).label
        lines.append(f"- {candidate.report.tracking_id} — {candidate.report.title} ({where}; {status})")
    return "\n".join(lines) if lines else NO_CANDIDATES


def original_for(session: Session, duplicate: Report, typed: str | None) -> Report:
    """The open public report a duplicate may join (verified and still handled, not confidential: what the feed and
    the nearby list show), by the tracking id Admin Pengaduan typed; MergeRefused says why not (the form shows it)."""
    tracking_id = (typed or "").strip().upper()
    if not tracking_id:
        raise MergeRefused("Nomor laporan asal belum diisi: tulis nomor pelacakan laporan yang sama.")
    if tracking_id == duplicate.tracking_id:
        raise MergeRefused(f"{tracking_id} adalah laporan ini sendiri: tulis nomor laporan lain yang sama.")
    try:
        original = reports.get_by_tracking_id(session, tracking_id)
    except reports.ReportNotFound:
        raise MergeRefused(f"Laporan {tracking_id} tidak ditemukan: periksa kembali nomor pelacakannya.") from None
    if original.status == ReportStatus.DIGABUNGKAN.value and original.merged_into_id is not None:
        target = session.get(Report, original.merged_into_id)
        hint = f"; gabungkan ke laporan asalnya, {target.tracking_id}" if target is not None else ""
        raise MergeRefused(f"Laporan {tracking_id} sendiri sudah digabungkan ke laporan lain{hint}.")
    if original.status in CLOSED_STATUSES:
        label = ReportStatus(original.status).label
        raise MergeRefused(f"Laporan {tracking_id} sudah berstatus {label}: hanya laporan terbuka dapat menjadi asal.")
    # Open but not public: not verified yet, or back with its reporter (it may still be closed without a follow-up).
    if original.status not in nearby.SUGGESTED_STATUSES:
        label = ReportStatus(original.status).label
        raise MergeRefused(
            f"Laporan {tracking_id} berstatus {label}: gabungkan hanya ke laporan yang sudah diverifikasi dan masih "
            "ditangani."
        )
    if original.confidential:
        raise MergeRefused(
            f"Laporan {tracking_id} rahasia: pelapor lain tidak boleh mengikutinya, jadi tidak dapat menjadi asal."
        )
    return original


def merge(session: Session, *, duplicate: Report, original: Report, at: datetime, task_id: str) -> bool:
    """DIGABUNGKAN with a timeline entry naming the original, and the duplicate's reporter follows the original;
    False when this task already did it (a retry)."""
    first_time = reports.record_event(
        session,
        report=duplicate,
        kind=EventKind.STATUS,
        status=ReportStatus.DIGABUNGKAN,
        actor=Actor.ADMIN_PENGADUAN,
        at=at,
        task_id=task_id,
        detail=f"Digabungkan dengan laporan {original.tracking_id}",
    )
    duplicate.merged_into_id = original.id
    if duplicate.reporter is not None:
        try:
            support.follow(session, report=original, reporter=duplicate.reporter, now=at)
        except support.OwnReport:
            pass  # the same person reported it twice: they hear of the original as its reporter already
    return first_time


@dataclass(frozen=True, slots=True)
class Undone:
    tracking_id: str
    original_tracking_id: str


def undo(session: Session, *, tracking_id: str, now: datetime) -> tuple[Report, Undone]:
    """Back to BELUM_TERVERIFIKASI in a fresh process instance (outbox), the follow the merge added removed; only
    while the original is open. The caller tells the reporter once the transaction has committed."""
    report = reports.get_by_tracking_id(session, tracking_id.strip().upper())
    if report.status != ReportStatus.DIGABUNGKAN.value or report.merged_into_id is None:
        raise UndoRefused(f"Laporan {report.tracking_id} tidak sedang digabungkan dengan laporan lain.")
    original = session.get(Report, report.merged_into_id)
    if original is None or original.status in CLOSED_STATUSES:
        raise UndoRefused(f"Laporan asal sudah ditutup: penggabungan {report.tracking_id} tidak dapat dibatalkan.")
    ended_instance = report.process_instance_id or "none"
    reports.record_event(
        session,
        report=report,
        kind=EventKind.STATUS,
        status=ReportStatus.BELUM_TERVERIFIKASI,
        actor=Actor.ADMIN_PENGADUAN,
        at=now,
        task_id=None,
        detail=f"Penggabungan dengan laporan {original.tracking_id} dibatalkan",
        recorded_by=UNDO_ACTOR,
    )
    report.merged_into_id = None
    report.closed_at = None
    report.process_instance_id = None  # the outbox starts and records the fresh instance
    # A supporter keeps following: "Saya juga mengalami" was the citizen's own choice, the merge's follow was not.
    if report.reporter is not None and not support.is_supporting(session, original, report.reporter):
        support.unfollow(session, report=original, reporter=report.reporter)
    variables = reports.process_variables(report, photo_count=reports.photo_count(session, report))
    outbox.enqueue_restart(session, report=report, variables=variables, ended_instance_id=ended_instance, now=now)
    return report, Undone(report.tracking_id, original.tracking_id)


def undo_and_tell(db: Engine, notifier: Notifier, *, tracking_id: str, now: datetime) -> Undone:
    """Undo a merge in one transaction, then tell the reporter (once per undo)."""
    with session_scope(db) as session:
        report, undone = undo(session, tracking_id=tracking_id, now=now)
        session.flush()
        session.expunge(report)
    notifier.send_once(
        session_factory=partial(session_scope, db),
        idempotency_key=f"undo-merge:{undone.tracking_id}:{now:%Y%m%dT%H%M%S%f}",
        report=report,
        template=Notice.PENGGABUNGAN_DIBATALKAN,
        recipient_kind=Actor.PELAPOR.value,
        context={"original_tracking_id": undone.original_tracking_id},
        now=now,
    )
    return undone


def main(argv: list[str] | None = None) -> int:
    """`python -m lapor.duplicates undo PTK-...`: undo a merge and tell the reporter."""
    parser = argparse.ArgumentParser(prog="python -m lapor.duplicates", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    undo_parser = commands.add_parser("undo", help="verify a merged duplicate again as a report of its own")
    undo_parser.add_argument("tracking_id")
    args = parser.parse_args(argv)
    settings = get_settings()
    now = datetime.now(UTC)  # an operator's command: the moment it is run
    try:
        undone = undo_and_tell(
            make_engine(settings.database_url), Notifier.from_settings(settings), tracking_id=args.tracking_id, now=now
        )
    except UndoRefused as err:
        print(f"Ditolak: {err}", file=sys.stderr)
        return 1
    except reports.ReportNotFound:
        print(f"Ditolak: laporan {args.tracking_id} tidak ditemukan.", file=sys.stderr)
        return 1
    print(f"{undone.tracking_id}: tidak lagi digabungkan dengan {undone.original_tracking_id}; diverifikasi ulang.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
