"""The report's timeline in words: what each status change means for the reader ("Hasil ditolak pelapor"), where
the status itself keeps the SOP's name ("Proses")."""

from collections.abc import Sequence

from api.schemas import TimelineEntry
from lapor.models import ReportStatus
from lapor.vocabulary import Actor

_TO_NATIONAL = "Dikembalikan ke Admin Pusat SP4N-LAPOR! (bukan kewenangan Pemkot Pontianak)"
# (status, actor) first, then (status, None) for any actor.
_EVENTS: dict[tuple[ReportStatus, Actor | None], str] = {
    (ReportStatus.BELUM_TERVERIFIKASI, None): "Laporan diterima, menunggu verifikasi",
    (ReportStatus.DIKEMBALIKAN, None): "Dikembalikan untuk dilengkapi",
    (ReportStatus.DIKEMBALIKAN_KE_PUSAT, None): _TO_NATIONAL,
    (ReportStatus.PROSES, Actor.PELAPOR): "Hasil ditolak pelapor",
    (ReportStatus.PROSES, None): "Ditanggapi OPD, sedang ditindaklanjuti",
    (ReportStatus.MENUNGGU_KONFIRMASI, None): "Hasil tindak lanjut disampaikan, menunggu konfirmasi pelapor",
    (ReportStatus.SELESAI, Actor.PELAPOR): "Hasil diterima pelapor",
    (ReportStatus.SELESAI, Actor.SISTEM): "Selesai otomatis (pelapor tidak menanggapi)",
    (ReportStatus.SELESAI, None): "Selesai",
    (ReportStatus.DITUTUP, None): "Ditutup",
    # The note names the report it joined (lapor.duplicates).
    (ReportStatus.DIGABUNGKAN, None): "Digabungkan dengan laporan lain tentang masalah yang sama",
}
# The same status after a return to the reporter means something else.
_AFTER_RETURN = {
    ReportStatus.BELUM_TERVERIFIKASI: "Dilengkapi pelapor, menunggu verifikasi ulang",
    ReportStatus.DITUTUP: "Ditutup karena tidak dilengkapi sampai batas waktu",
}


def event_lines(timeline: Sequence[TimelineEntry], *, opd_name: str | None) -> list[tuple[str, TimelineEntry]]:
    """Each status change with what it means, in the timeline's order; `opd_name` is the OPD the report went to,
    when the view shows it."""
    lines: list[tuple[str, TimelineEntry]] = []
    previous: str | None = None
    for entry in timeline:
        lines.append((_label(entry, previous=previous, opd_name=opd_name), entry))
        previous = entry.status.code
    return lines


def _label(entry: TimelineEntry, *, previous: str | None, opd_name: str | None) -> str:
    try:
        status = ReportStatus(entry.status.code)
    except ValueError:
        return f"{entry.status.label} ({entry.actor_label})"  # a status this version does not know
    if status is ReportStatus.TERVERIFIKASI:
        return f"Diverifikasi dan didisposisikan ke {opd_name}" if opd_name else "Diverifikasi"
    if previous == ReportStatus.DIKEMBALIKAN and status in _AFTER_RETURN:
        return _AFTER_RETURN[status]
    if previous == ReportStatus.DIGABUNGKAN and status is ReportStatus.BELUM_TERVERIFIKASI:
        return "Penggabungan dibatalkan, menunggu verifikasi ulang"
    by_actor = _EVENTS.get((status, _actor(entry.actor)))
    return by_actor or _EVENTS.get((status, None)) or f"{status.label} ({entry.actor_label})"


def _actor(code: str) -> Actor | None:
    try:
        return Actor(code)
    except ValueError:
        return None
