"""Instances without a report (the report came in after the application's dump): a stand-in report under the
tracking id, with every fact the engine holds about it and nothing it does not.

The engine holds codes, flags and the path taken, never personal data (lapor.reports.process_variables): the
report's text, address, place on the map, incident date, photos and reporter are not in it by design, so the
stand-in says so, and a person gets them back from where the channel keeps them (docs/operations.md, "Restore")."""

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lapor import audit
from lapor.db import session_scope
from lapor.models import Report, ReportStatus
from lapor.process import EngineClient, EngineError, HistoricInstance
from lapor.restore import deadline_rows
from lapor.restore.findings import Finding, Kind, Outcome
from lapor.restore.held import Held
from lapor.restore.repairs import RESTORER, due_dates, record_runs
from lapor.vocabulary import REPORT_TYPE_VARIABLE, STAFF_SOURCE_NAMES, FormField, channel_words

STAND_IN_TITLE = "Laporan dipulihkan dari mesin proses"
STAND_IN_TEXT = (
    "Isi laporan ini hilang saat pemulihan cadangan basis data: laporan diterima sesudah cadangan dibuat. "
    "Nomor pelacakan, jenis, kategori, kelurahan, saluran dan tahap prosesnya dipulihkan dari mesin proses; "
    "uraian, alamat, foto dan identitas pelapor tidak pernah disimpan di mesin proses. "
    "Jika Anda pelapornya, hubungi Diskominfo Kota Pontianak dengan nomor pelacakan ini."
)
# Where a person finds the lost text, photos and reporter of a report, by the channel it came in through.
RECOVER_FROM = {
    "web": "the mail server's log of the receipt notice names the reporter's address: ask them to send text and photos",
    "sms1708": "the SMS gateway's log holds the message and the sender's number",
    "national": "LAPOR! nasional (Admin Pusat) holds the original report",
    "staff": "the front desk's register or the original (letter, message, notes) holds it",
}


def _source(variables: Mapping[str, object], channel: str) -> str | None:
    """A front-desk report's source, read back from the channel in words the forms show (`channelName`)."""
    if channel != "staff":
        return None
    name = variables.get("channelName")
    return next((code for code in STAFF_SOURCE_NAMES if channel_words(channel, code) == name), None)


def _facts(variables: Mapping[str, object], instance: HistoricInstance, now: datetime) -> Report:
    def text(name: str, default: str = "") -> str:
        value = variables.get(name)
        return default if value is None else str(value)

    channel = text("channel", "staff")
    return Report(
        tracking_id=str(instance.business_key),
        reporter_id=None,
        channel=channel,
        source=_source(variables, channel),
        report_type=text(REPORT_TYPE_VARIABLE, "pengaduan"),
        title=STAND_IN_TITLE,
        description=STAND_IN_TEXT,
        category=text("category"),
        kecamatan_code=text("kecamatanCode"),
        kelurahan_code=text("kelurahanCode"),
        address="",
        anonymous=bool(variables.get("anonymous")),
        confidential=bool(variables.get("confidential")),
        status=ReportStatus.BELUM_TERVERIFIKASI.value,
        opd_code=variables.get(FormField.OPD_CODE) if isinstance(variables.get(FormField.OPD_CODE), str) else None,
        process_instance_id=instance.id,
        created_at=instance.start_time or now,  # the instance started moments after the report came in
    )


def _stand_in(session: Session, engine: EngineClient, instance: HistoricInstance, held: Held, now: datetime) -> int:
    """The stand-in report with the engine's facts, its timeline, due dates and deadline starts; the photo count the
    engine knows (their files cannot be told apart from other reports' without their rows)."""
    variables = engine.historic_variables(instance.id)
    report = _facts(variables, instance, now)
    session.add(report)
    session.flush()
    photos = variables.get("photoCount")
    audit.record(
        session,
        report,
        action=audit.AuditAction.ENGINE_ACTION,
        actor_kind=audit.AuditActor.LAYANAN,
        actor=RESTORER,
        at=now,
        detail={
            "instance": instance.id,
            "photos": photos if isinstance(photos, int) else None,
            "text": "Laporan dipulihkan dari mesin proses setelah pemulihan cadangan; uraian, alamat, foto dan "
            "pelapor tidak ada di mesin proses",
        },
    )
    record_runs(session, report, held.runs.get(instance.id, []), held, now)
    if report.status == ReportStatus.DIGABUNGKAN.value:  # the merge joined it to this original
        original = variables.get(FormField.ORIGINAL_TRACKING_ID)
        report.merged_into_id = session.scalar(select(Report.id).where(Report.tracking_id == str(original)))
    due_dates(report, instance.id, held, apply=True)
    deadline_rows.rebuild(session, report, instance.id, held, apply=True)
    return photos if isinstance(photos, int) else 0


def orphans(engine: EngineClient, db: Engine, held: Held, only: set[str] | None, outcome: Outcome) -> None:
    """Instances whose tracking id no report has."""
    with session_scope(db) as session:
        known = set(session.scalars(select(Report.tracking_id)))
    for key, instances in held.instances.items():
        if key in known or (only is not None and key not in only):
            continue
        instance = instances[0]
        if instance.business_key is None:
            reason = "an instance without a tracking id: look at it in Cockpit"
            outcome.findings.append(Finding("-", Kind.NO_REPORT, f"instance {instance.id}", reason))
            continue
        action = f"stand-in report created for instance {instance.id}"
        if not outcome.applied:
            reason = "received after the application's dump: its text, address, photos and reporter are lost"
            outcome.findings.append(Finding(key, Kind.NO_REPORT, action, reason))
            continue
        try:
            with session_scope(db) as session:
                photos = _stand_in(session, engine, instance, held, datetime.now(UTC))
                channel = session.scalar(select(Report.channel).where(Report.tracking_id == key))
        except EngineError as err:
            outcome.failed.append(f"{key}: {err}")
            continue
        lost = f"its text, address and reporter{f' and {photos} photos' if photos else ''} are lost"
        where = RECOVER_FROM.get(str(channel), "ask the reporter")
        reason = f"received after the application's dump: {lost}; {where}"
        outcome.findings.append(Finding(key, Kind.NO_REPORT, action, reason))
