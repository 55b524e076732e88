"""Indonesian message templates (e-mail subject and body, short SMS text) and Indonesian date formatting."""

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lapor.vocabulary import Deadline, Notice
from lapor.workdays import PONTIANAK_TZ

__all__ = [
    "DAY_NAMES",
    "MONTH_NAMES",
    "TEMPLATES",
    "RenderedMessage",
    "Template",
    "TemplateContextError",
    "UnknownTemplate",
    "deadline_label",
    "format_date",
    "format_due_date",
    "format_due_date_short",
    "parse_moment",
    "render",
]

DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")  # date.weekday() order
MONTH_NAMES = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

_FOOTER = (
    "\n\n-- \nLAPOR! Pemerintah Kota Pontianak\nPesan ini dikirim secara otomatis. Mohon tidak membalas pesan ini."
)
# Keys render() fills in itself, with the caller's key each one is derived from (None: optional input).
_DERIVED_FROM: dict[str, str | None] = {
    "due_date_short": "due_date",
    "opd_short_name": "opd_name",
    "deadline_part": None,
    "note_block": None,
    "opd_block": None,
    "dispatcher_line": None,
    "note_sms": None,
}
# How much of a note an SMS quotes (the rest is on the tracking page): one SMS is 160 characters.
SMS_NOTE_CHARS = 60
_ZONE_SUFFIX = re.compile(r"\[([^\]]+)\]$")


class UnknownTemplate(KeyError):
    """No template has this name."""


class TemplateContextError(ValueError):
    """The context lacks a value the template needs."""


@dataclass(frozen=True, slots=True)
class Template:
    """One message: e-mail subject and plain-text body, and a short variant for SMS."""

    subject: str
    body: str
    sms: str
    # Heading of the optional `note` paragraph; None means the template ignores `note`.
    note_label: str | None = None

    def required_keys(self) -> frozenset[str]:
        """Context keys that must be present and non-empty to render this template."""
        fields: set[str] = set()
        for text in (self.subject, self.body, self.sms):
            fields.update(field for _, field, _, _ in string.Formatter().parse(text) if field)
        for derived, source in _DERIVED_FROM.items():
            if derived in fields:
                fields.discard(derived)
                if source is not None:
                    fields.add(source)
        return frozenset(fields)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A template filled in for one report."""

    subject: str
    body: str
    sms: str


def format_date(day: date) -> str:
    """A date in Indonesian, e.g. "30 November 2026"."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: due dates must be timezone-aware")
    return moment.astimezone(PONTIANAK_TZ)


def format_due_date(moment: datetime) -> str:
    """A moment in Pontianak time in Indonesian, e.g. "Senin, 30 November 2026 pukul 23.59 WIB"."""
    local = _local(moment)
    return f"{DAY_NAMES[local.weekday()]}, {format_date(local.date())} pukul {local:%H.%M} WIB"


def format_due_date_short(moment: datetime) -> str:
    """A compact form for SMS, e.g. "30 Nov 2026 23.59 WIB"."""
    local = _local(moment)
    return f"{local.day} {MONTH_NAMES[local.month - 1][:3]} {local.year} {local:%H.%M} WIB"


def parse_moment(text: str) -> datetime | None:
    """An aware datetime from ISO 8601, also with Java's "[Asia/Pontianak]" or FEEL's "@Zone"; else None."""
    value = text.strip()
    zone: ZoneInfo | None = None
    try:
        if match := _ZONE_SUFFIX.search(value):
            value = value[: match.start()]
        elif "@" in value:
            value, zone_name = value.split("@", 1)
            zone = ZoneInfo(zone_name)
        moment = datetime.fromisoformat(value)
    except (ValueError, ZoneInfoNotFoundError):
        return None
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment.tzinfo is None:
        # A local time without zone is ambiguous; refuse it rather than guess the reader's clock.
        raise ValueError(f"due date {text!r} has no time zone")
    return moment


# One wording per notice the models and the API send (lapor.vocabulary.Notice names them).
TEMPLATES: dict[Notice, Template] = {
    Notice.LAPORAN_DITERIMA: Template(
        subject="Laporan {tracking_id} telah diterima",
        body=(
            "Yth. Pelapor,\n\n"
            "Terima kasih, laporan Anda telah kami terima dengan nomor pelacakan {tracking_id}.\n\n"
            "Status: {status_label}\n"
            "Laporan akan diverifikasi oleh Admin Pengaduan paling lambat {due_date}.\n\n"
            "Pantau perkembangan laporan Anda di:\n{report_url}"
        ),
        sms="LAPOR! Pontianak: laporan {tracking_id} diterima, diverifikasi paling lambat {due_date_short}.",
    ),
    Notice.LAPORAN_DIKEMBALIKAN: Template(
        subject="Laporan {tracking_id} perlu dilengkapi",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} dikembalikan oleh Admin Pengaduan "
            "karena informasinya belum lengkap.\n"
            "{note_block}\n"
            "Mohon lengkapi laporan Anda paling lambat {due_date} melalui:\n{report_url}\n\n"
            "Apabila sampai batas waktu tersebut laporan belum dilengkapi, laporan akan ditutup."
        ),
        # An SMS-only reporter reads the admin's note here too, shortened to fit one SMS.
        sms="LAPOR! Pontianak: lengkapi laporan {tracking_id} paling lambat {due_date_short}{note_sms}",
        note_label="Yang perlu dilengkapi:",
    ),
    Notice.LAPORAN_DIKEMBALIKAN_PUSAT: Template(
        subject="Laporan {tracking_id} dikembalikan ke Admin Pusat SP4N-LAPOR!",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} bukan merupakan kewenangan Pemerintah "
            "Kota Pontianak. Laporan telah dikembalikan kepada Admin Pusat SP4N-LAPOR! untuk diteruskan "
            "kepada instansi yang berwenang.\n"
            "{note_block}\n"
            "Status: {status_label}\n"
            "Rincian laporan:\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: laporan {tracking_id} bukan kewenangan Pemkot Pontianak; "
            "dikembalikan ke Admin Pusat SP4N-LAPOR!"
        ),
        note_label="Alasan:",
    ),
    Notice.LAPORAN_DITUTUP: Template(
        subject="Laporan {tracking_id} ditutup",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} telah ditutup.\n"
            "{note_block}\n"
            "Status: {status_label}\n"
            "Rincian laporan:\n{report_url}\n\n"
            "Anda dapat menyampaikan laporan baru kapan saja melalui LAPOR! Kota Pontianak."
        ),
        sms="LAPOR! Pontianak: laporan {tracking_id} ditutup. Rincian: {report_url}",
        note_label="Alasan:",
    ),
    # Goes to the OPD's Pejabat Penghubung: it must never carry the reporter's identity.
    Notice.LAPORAN_DIDISPOSISI: Template(
        subject="Disposisi laporan {tracking_id} untuk {opd_name}",
        body=(
            "Yth. Pejabat Penghubung {opd_name},\n\n"
            "Laporan masyarakat dengan nomor {tracking_id} didisposisikan kepada {opd_name} untuk "
            "ditindaklanjuti.\n"
            "{dispatcher_line}"
            "{note_block}\n"
            "Mohon berikan tanggapan paling lambat {due_date}.\n\n"
            "Rincian laporan untuk petugas (uraian, lokasi, foto):\n{report_url}\n\n"
            'Tanggapi melalui Tasklist, tugas "Tanggapan OPD {tracking_id}".\n'
            "Identitas pelapor dilindungi dan tidak dicantumkan dalam pesan ini."
        ),
        sms=(
            "LAPOR! Pontianak: laporan baru {tracking_id} didisposisikan ke {opd_short_name}. "
            "Tanggapi paling lambat {due_date_short}."
        ),
        note_label="Catatan disposisi:",
    ),
    Notice.LAPORAN_DIDISPOSISI_PELAPOR: Template(
        subject="Laporan {tracking_id} diteruskan kepada {opd_name}",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} telah diverifikasi dan diteruskan kepada "
            "{opd_name} untuk ditindaklanjuti.\n\n"
            "Status: {status_label}\n"
            "{opd_name} wajib menanggapi laporan Anda paling lambat {due_date}.\n\n"
            "Pantau perkembangan laporan Anda di:\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: laporan {tracking_id} diteruskan ke {opd_short_name}, ditanggapi paling lambat "
            "{due_date_short}."
        ),
    ),
    # Goes to the OPD's Pejabat Penghubung: the reporter's reason, with contact details and name hidden.
    Notice.HASIL_DITOLAK: Template(
        subject="Hasil tindak lanjut laporan {tracking_id} ditolak pelapor",
        body=(
            "Yth. Pejabat Penghubung {opd_name},\n\n"
            "Pelapor menolak hasil tindak lanjut laporan {tracking_id}. Laporan dibuka kembali untuk "
            "{opd_name}.\n"
            "{note_block}\n"
            "Mohon tindak lanjuti kembali melalui Tasklist; alasan pelapor juga tampil di formulir tugas.\n\n"
            "Rincian laporan untuk petugas:\n{report_url}\n\n"
            "Identitas pelapor dilindungi dan tidak dicantumkan dalam pesan ini."
        ),
        sms="LAPOR! Pontianak: hasil laporan {tracking_id} ditolak pelapor. Mohon tindak lanjuti kembali.",
        note_label="Alasan pelapor:",
    ),
    Notice.TANGGAPAN_OPD: Template(
        subject="Laporan {tracking_id} sedang ditindaklanjuti",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} telah ditanggapi oleh {opd_name} "
            "dan sedang ditindaklanjuti.\n\n"
            "Status: {status_label}\n"
            "{note_block}\n"
            "Baca tanggapan lengkap dan pantau perkembangannya di:\n{report_url}"
        ),
        sms="LAPOR! Pontianak: laporan {tracking_id} ditanggapi {opd_short_name}, status {status_label}.",
        note_label="Tanggapan:",
    ),
    Notice.HASIL_TINDAK_LANJUT: Template(
        subject="Mohon konfirmasi hasil tindak lanjut laporan {tracking_id}",
        body=(
            "Yth. Pelapor,\n\n"
            "{opd_name} melaporkan bahwa tindak lanjut atas laporan Anda dengan nomor pelacakan "
            "{tracking_id} telah selesai.\n"
            "{note_block}\n"
            "Mohon periksa hasilnya, lalu terima atau tolak hasil tindak lanjut tersebut paling lambat "
            "{due_date} melalui:\n{report_url}\n\n"
            "Apabila sampai batas waktu tersebut tidak ada konfirmasi dari Anda, laporan dinyatakan "
            "selesai secara otomatis."
        ),
        sms=(
            "LAPOR! Pontianak: tindak lanjut laporan {tracking_id} selesai. Terima/tolak paling lambat "
            "{due_date_short}; jika tidak, otomatis selesai."
        ),
        note_label="Hasil tindak lanjut:",
    ),
    Notice.JAWABAN_OPD: Template(
        subject="Mohon konfirmasi jawaban atas laporan {tracking_id}",
        body=(
            "Yth. Pelapor,\n\n"
            "{opd_name} telah menjawab laporan Anda dengan nomor pelacakan {tracking_id}.\n"
            "{note_block}\n"
            "Mohon baca jawabannya, lalu terima atau tolak jawaban tersebut paling lambat {due_date} melalui:\n"
            "{report_url}\n\n"
            "Apabila sampai batas waktu tersebut tidak ada konfirmasi dari Anda, laporan dinyatakan "
            "selesai secara otomatis."
        ),
        sms=(
            "LAPOR! Pontianak: laporan {tracking_id} dijawab {opd_short_name}. Terima/tolak paling lambat "
            "{due_date_short}; jika tidak, otomatis selesai."
        ),
        note_label="Jawaban:",
    ),
    Notice.LAPORAN_SELESAI: Template(
        subject="Laporan {tracking_id} selesai",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} telah selesai ditindaklanjuti.\n\n"
            "Status: {status_label}\n"
            "{note_block}\n"
            "Rincian laporan:\n{report_url}\n\n"
            "Terima kasih atas partisipasi Anda dalam pengawasan pelayanan publik di Kota Pontianak."
        ),
        sms="LAPOR! Pontianak: laporan {tracking_id} selesai. Terima kasih atas partisipasi Anda.",
        note_label="Catatan:",
    ),
    Notice.PENGINGAT: Template(
        subject="Pengingat: batas waktu{deadline_part} laporan {tracking_id}",
        body=(
            "Yth. Petugas,\n\n"
            "Batas waktu{deadline_part} untuk laporan {tracking_id} akan berakhir pada {due_date}.\n\n"
            "{opd_block}"
            "Status saat ini: {status_label}\n"
            "{note_block}\n"
            "Mohon segera ditindaklanjuti melalui:\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: batas waktu{deadline_part} laporan {tracking_id} berakhir {due_date_short}. "
            "Mohon segera ditindaklanjuti."
        ),
        note_label="Catatan:",
    ),
    Notice.ESKALASI: Template(
        subject="Eskalasi: batas waktu{deadline_part} laporan {tracking_id} terlewati",
        body=(
            "Yth. Koordinator Pengaduan,\n\n"
            "Batas waktu{deadline_part} untuk laporan {tracking_id} telah terlewati ({due_date}).\n\n"
            "{opd_block}"
            "Status saat ini: {status_label}\n"
            "{note_block}\n"
            "Laporan ini tetap terbuka dan masih harus ditindaklanjuti. Mohon lakukan koordinasi "
            "dengan pihak terkait.\n\n"
            "Rincian laporan:\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: batas waktu{deadline_part} laporan {tracking_id} terlewati "
            "({due_date_short}). Laporan tetap terbuka."
        ),
        note_label="Catatan:",
    ),
    # To a citizen who follows someone else's report: its progress, never who reported it nor their words.
    Notice.LAPORAN_DIIKUTI: Template(
        subject="Kabar laporan {tracking_id} yang Anda ikuti",
        body=(
            "Yth. Warga,\n\n"
            "Laporan {tracking_id} yang Anda dukung atau ikuti ({title}) kini berstatus: {status_label}.\n"
            "{opd_block}\n"
            "Lihat perkembangannya di:\n{report_url}\n\n"
            "Tidak ingin menerima kabar laporan ini lagi? Berhenti mengikuti di:\n{unfollow_url}"
        ),
        sms="LAPOR! Pontianak: laporan {tracking_id} yang Anda ikuti kini berstatus {status_label}.",
    ),
    # The duplicate's reporter: which report it joined; never who reported that one.
    Notice.LAPORAN_DIGABUNGKAN: Template(
        subject="Laporan {tracking_id} digabungkan dengan laporan {original_tracking_id}",
        body=(
            "Yth. Pelapor,\n\n"
            "Laporan Anda dengan nomor pelacakan {tracking_id} menyampaikan masalah yang sama dengan laporan "
            "{original_tracking_id} yang sedang ditangani. Admin Pengaduan menggabungkan laporan Anda ke laporan "
            "tersebut, supaya masalah ini ditangani satu kali.\n\n"
            "Status laporan Anda: {status_label}\n"
            "Anda kini mengikuti laporan {original_tracking_id} dan akan menerima kabar perkembangannya sampai "
            "selesai. Pantau di:\n{original_url}\n\n"
            "Rincian laporan Anda (foto Anda tetap tersimpan bersamanya):\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: laporan {tracking_id} digabungkan dengan laporan {original_tracking_id}; "
            "Anda akan menerima kabar laporan itu."
        ),
    ),
    # The original's reporter: someone else reported the same; never who.
    Notice.DUPLIKAT_DIGABUNGKAN: Template(
        subject="Laporan lain digabungkan dengan laporan {tracking_id}",
        body=(
            "Yth. Pelapor,\n\n"
            "Warga lain melaporkan masalah yang sama dengan laporan Anda {tracking_id}. Admin Pengaduan "
            "menggabungkan laporan tersebut ke laporan Anda; penanganannya tetap berjalan melalui laporan Anda.\n\n"
            "Status: {status_label}\n"
            "Pantau perkembangan laporan Anda di:\n{report_url}"
        ),
        sms="LAPOR! Pontianak: laporan warga lain tentang masalah yang sama digabungkan ke laporan {tracking_id}.",
    ),
    Notice.PENGGABUNGAN_DIBATALKAN: Template(
        subject="Laporan {tracking_id} tidak lagi digabungkan",
        body=(
            "Yth. Pelapor,\n\n"
            "Penggabungan laporan Anda {tracking_id} dengan laporan {original_tracking_id} dibatalkan. "
            "Laporan Anda kembali diverifikasi oleh Admin Pengaduan sebagai laporan tersendiri.\n\n"
            "Status: {status_label}\n"
            "Pantau perkembangan laporan Anda di:\n{report_url}"
        ),
        sms=(
            "LAPOR! Pontianak: laporan {tracking_id} tidak lagi digabungkan dengan {original_tracking_id} dan "
            "diverifikasi kembali."
        ),
    ),
    Notice.KODE_VERIFIKASI: Template(
        subject="Kode verifikasi LAPOR! Pontianak",
        body=(
            "Kode verifikasi Anda: {code}\n\n"
            "Masukkan kode ini untuk menyelesaikan pendaftaran sebagai pelapor LAPOR! Kota Pontianak. "
            "Jangan berikan kode ini kepada siapa pun, termasuk petugas.\n\n"
            "Abaikan pesan ini jika Anda tidak merasa mendaftar."
        ),
        sms="Kode verifikasi LAPOR! Pontianak: {code}. Jangan berikan kode ini kepada siapa pun.",
    ),
    Notice.KONTAK_DIUBAH: Template(
        subject="Kontak pelapor Anda di LAPOR! Pontianak telah diganti",
        body=(
            "Yth. Pelapor,\n\n"
            "{changed} akun pelapor Anda di LAPOR! Kota Pontianak telah diganti dan dibuktikan dengan kode yang "
            "dikirim ke kontak yang baru. Pemberitahuan laporan Anda selanjutnya dikirim ke kontak yang baru.\n\n"
            "Jika bukan Anda yang menggantinya, segera hubungi Diskominfo Kota Pontianak "
            "(diskominfo@pontianak.go.id)."
        ),
        sms=(
            "LAPOR! Pontianak: {changed} akun pelapor Anda telah diganti. Bukan Anda? Hubungi "
            "diskominfo@pontianak.go.id."
        ),
    ),
}


def _values(template: Template, context: Mapping[str, str]) -> dict[str, str]:
    """The caller's context plus the derived keys: formatted due dates, deadline label, optional blocks."""
    values = {key: value.strip() for key, value in context.items()}
    due = values.get("due_date", "")
    moment = parse_moment(due) if due else None
    if moment is not None:
        values["due_date"] = format_due_date(moment)
        values["due_date_short"] = format_due_date_short(moment)
    else:
        # Already formatted by the caller: use it as it is in both variants.
        values["due_date_short"] = due
    deadline = values.get("deadline", "")
    values["deadline_part"] = f" {deadline_label(deadline)}" if deadline else ""
    note = values.get("note", "")
    values["note_block"] = f"\n{template.note_label}\n{note}\n" if note and template.note_label else ""
    opd_name = values.get("opd_name", "")
    values["opd_block"] = f"Perangkat Daerah: {opd_name}\n" if opd_name else ""
    values["note_sms"] = f". Catatan: {_shortened(note, SMS_NOTE_CHARS)}" if note else ""
    dispatcher = values.get("dispatched_by", "")
    values["dispatcher_line"] = f"Disposisi oleh: {dispatcher}\n" if dispatcher else ""
    # SMS texts name the OPD by its short name when the caller knows it (report_context does).
    values["opd_short_name"] = values.get("opd_short_name") or opd_name
    return values


def _shortened(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def deadline_label(text: str) -> str:
    """The deadline named in reminders and escalations: a Deadline code (what workers pass) as people read it.

    Any other text is used as it is.
    """
    try:
        return Deadline.from_code(text).label
    except ValueError:
        return text


def render(name: str, context: Mapping[str, str]) -> RenderedMessage:
    """Fill in a template; UnknownTemplate for an unknown name, TemplateContextError for missing values."""
    try:
        template = TEMPLATES[Notice(name)]
    except ValueError:
        raise UnknownTemplate(name) from None
    values = _values(template, context)
    missing = sorted(key for key in template.required_keys() if not values.get(key))
    if missing:
        raise TemplateContextError(f"template {name!r} needs context values for {missing}")
    body = template.body.format_map(values)
    # An absent optional block leaves a gap of blank lines; one blank line is enough.
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + _FOOTER
    return RenderedMessage(
        subject=template.subject.format_map(values),
        body=body,
        sms=template.sms.format_map(values),
    )
