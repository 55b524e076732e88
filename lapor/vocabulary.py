"""The contract between bpmn/ and the code, named once: processes, topics, messages, errors, deadlines, actors.

BPMN variables are camelCase (`trackingId`), Python names snake_case (`tracking_id`); this module is where the two
meet. `tests/unit/bpmn/test_resources.py` checks the models against it.
"""

from dataclasses import dataclass
from enum import Enum, StrEnum

PROCESS_ID = "lapor-pengaduan"
RECAP_PROCESS_ID = "lapor-rekap-bulanan"
ROUTING_DECISION_ID = "RoutingOpd"

# The tracking id is the process instance's business key and the process variable `trackingId`.
TRACKING_ID_VARIABLE = "trackingId"
# Every service task maps the engine's clock into this input variable (`${now()}`); workers never read their own.
ENGINE_NOW_VARIABLE = "engineNow"
# The report's type (`ReportType`), chosen at submission and correctable at verification; gateways branch on it.
REPORT_TYPE_VARIABLE = "reportType"


class ReportType(StrEnum):
    """The three LAPOR! report types. A complaint ends with the OPD's completion and proof photo; for the other
    two the OPD's answer is the result the reporter accepts or rejects."""

    PENGADUAN = "pengaduan"
    ASPIRASI = "aspirasi"
    PERMINTAAN_INFORMASI = "permintaan_informasi"

    @property
    def label(self) -> str:
        return {"pengaduan": "Pengaduan", "aspirasi": "Aspirasi", "permintaan_informasi": "Permintaan informasi"}[
            self.value
        ]

    @property
    def answer_is_result(self) -> bool:
        return self is not ReportType.PENGADUAN


class Topic(StrEnum):
    """External-task topics: one handler each (workers/topics.py)."""

    DEADLINE = "lapor-deadline"
    STATUS = "lapor-status"
    NOTIFY = "lapor-notify"
    REMINDER = "lapor-reminder"
    RETURN_NATIONAL = "lapor-return-national"
    AUTO_COMPLETE = "lapor-auto-complete"
    RECAP = "lapor-recap"
    PROOF = "lapor-proof"
    MERGE_DUPLICATE = "lapor-merge-duplicate"


class Message(StrEnum):
    """Messages the API correlates to a running report by its business key (the tracking id)."""

    SUPPLEMENTED = "laporan-dilengkapi"
    CITIZEN_RESPONSE = "tanggapan-pelapor"


class ErrorCode(StrEnum):
    """BPMN error codes a worker throws for a business outcome; each is caught in the model."""

    NATIONAL_RETURN_REFUSED = "NATIONAL_RETURN_REFUSED"
    PROOF_PHOTO_UNREADABLE = "PROOF_PHOTO_UNREADABLE"
    DUPLICATE_REFUSED = "DUPLICATE_REFUSED"


# The OPD's proof photo of completion, attached in Tasklist (bpmn/penyelesaian-opd.html) as a File variable; the
# engine refuses the completion without it (ProofPhotoCheck), the lapor-proof worker stores it and deletes it.
PROOF_UPLOAD_VARIABLE = "proofPhotoUpload"


class Actor(StrEnum):
    """The SOP's actors, one list: who did a step in the timeline (the `actor` property of status tasks), who wrote
    a message on a report, and who receives a notice (the `recipient` property of notify tasks: `RECIPIENTS`)."""

    ADMIN_PENGADUAN = "admin-pengaduan"
    OPD = "opd"
    PELAPOR = "pelapor"
    SISTEM = "sistem"
    KOORDINATOR = "koordinator"

    @property
    def label(self) -> str:
        return _ACTOR_LABELS[self]


_ACTOR_LABELS = {
    Actor.ADMIN_PENGADUAN: "Admin Pengaduan Daerah",
    Actor.OPD: "OPD / Pejabat Penghubung",
    Actor.PELAPOR: "Pelapor",
    Actor.SISTEM: "Sistem",
    Actor.KOORDINATOR: "Koordinator Pengaduan Masyarakat",
}
# Who receives notices: the system sends them and receives none.
RECIPIENTS = (Actor.PELAPOR, Actor.OPD, Actor.ADMIN_PENGADUAN, Actor.KOORDINATOR)
# The recipient kind of a follower's notice (the ledger's recipient_kind): a citizen who supports or follows a
# report. Not an actor of the model: the workers add followers to the reporter's notices in FOLLOWED_NOTICES.
FOLLOWER = "pengikut"


@dataclass(frozen=True)
class _Sla:
    code: str  # the `sla` / `deadline` property in the BPMN
    prefix: str  # BPMN variables `<prefix>DueAt` and `<prefix>ReminderAt`
    column: str | None  # the reports column tracking shows, if any
    label: str  # Bahasa Indonesia, in notifications and tracking
    has_reminder: bool  # a reminder timer fires before the due date


class Deadline(Enum):
    """The SOP's deadlines; the length of each is set in the process model (lapor.deadlines.SlaRule)."""

    VERIFICATION = _Sla("verification", "verification", "verification_due_at", "verifikasi laporan", True)
    SUPPLEMENT = _Sla("supplement", "supplement", "supplement_due_at", "kelengkapan laporan oleh pelapor", False)
    DISPOSITION = _Sla("disposition", "disposition", "disposition_due_at", "disposisi ke OPD", True)
    OPD_RESPONSE = _Sla("opd-response", "response", "response_due_at", "tanggapan OPD", True)
    OPD_COMPLETION = _Sla("opd-completion", "completion", "completion_due_at", "penyelesaian tindak lanjut", True)
    DOCUMENTATION = _Sla("documentation", "documentation", "documentation_due_at", "dokumentasi penyelesaian", True)
    CITIZEN_CONFIRMATION = _Sla(
        "citizen-confirmation", "confirmation", "confirmation_due_at", "konfirmasi pelapor", False
    )

    @property
    def code(self) -> str:
        return self.value.code

    @property
    def due_variable(self) -> str:
        return f"{self.value.prefix}DueAt"

    @property
    def due_text_variable(self) -> str:
        """The due date in words for the Tasklist forms (`<prefix>DueText`), e.g. "Jumat, 18 Desember 2026 ..."."""
        return f"{self.value.prefix}DueText"

    @property
    def reminder_variable(self) -> str | None:
        return f"{self.value.prefix}ReminderAt" if self.value.has_reminder else None

    @property
    def column(self) -> str | None:
        return self.value.column

    @property
    def label(self) -> str:
        return self.value.label

    @classmethod
    def from_code(cls, code: str) -> "Deadline":
        for deadline in cls:
            if deadline.code == code:
                return deadline
        raise ValueError(f"unknown deadline {code!r}; known: {', '.join(d.code for d in cls)}")


DUE_VARIABLES = tuple(d.due_variable for d in Deadline)
# The properties of a `lapor-deadline` task: which deadline (`sla`), its length, how the length is counted
# (lapor.deadlines.Unit) and, for deadlines with a reminder, how many working days before the due date it fires.
SLA_PROPERTY = "sla"
SLA_LENGTH_PROPERTY = "length"
SLA_UNIT_PROPERTY = "unit"
SLA_REMINDER_PROPERTY = "reminderWorkingDaysBefore"


# Channel codes and the words staff read in Tasklist.
CHANNEL_NAMES = {
    "web": "Situs web / aplikasi",
    "sms1708": "SMS 1708",
    "staff": "Petugas (tatap muka, kotak pengaduan)",
    "national": "LAPOR! nasional (Admin Pusat)",
}
# Where a staff-intake report came in (api.intake's StaffSource), in words.
STAFF_SOURCE_NAMES = {
    "media_sosial": "media sosial",
    "kotak_pengaduan": "kotak pengaduan",
    "tatap_muka": "tatap muka",
    "email": "surel",
    "telepon": "telepon",
    "lainnya": "saluran lain",
}


# The same channels as the front desk's form offers them (capitalised, with the city's address where it has one).
STAFF_SOURCE_LABELS = {
    "kotak_pengaduan": "Kotak pengaduan di Diskominfo",
    "tatap_muka": "Tatap muka",
    "media_sosial": "Media sosial Pemerintah Kota",
    "email": "Surel (diskominfo@pontianak.go.id)",
    "telepon": "Telepon",
    "lainnya": "Lainnya",
}


def channel_words(channel: str, source: str | None = None) -> str:
    """A channel in words; a staff-intake report names where staff received it."""
    if channel == "staff" and source in STAFF_SOURCE_NAMES:
        return f"Petugas, diterima melalui {STAFF_SOURCE_NAMES[source]}"
    return CHANNEL_NAMES.get(channel, channel)


class FormField(StrEnum):
    """Fields of the Tasklist forms (bpmn/*.form, bpmn/*.html) that the workers or the models' conditions read, as
    the forms name them (tests/unit/bpmn/test_resources.py checks every one is on a form)."""

    VERIFICATION_RESULT = "verificationResult"
    VERIFICATION_NOTE = "verificationNote"  # Admin Pengaduan: what the reporter must add, or why it goes back
    OPD_CODE = "opdCode"  # the disposition's OPD
    DISPATCH_NOTE = "dispatchNote"
    OPD_DECISION = "opdDecision"
    RESPONSE_TEXT = "responseText"
    COMPLETION_TEXT = "completionText"
    DOCUMENTATION_NOTE = "documentationNote"
    # Admin Pengaduan's "duplikat": the tracking id of the open report this one joins (lapor.duplicates).
    ORIGINAL_TRACKING_ID = "originalTrackingId"
    # Not typed by a person: the reporter's rejection with contact details and name hidden (workers.status).
    REJECTION_REASON = "rejectionReason"


class Notice(StrEnum):
    """The notices the models send: the `template` property of notify tasks, worded in lapor.notifications.templates.

    `deadline` is the deadline a notice names (its due date must be in scope: a deadline task runs before it), and
    `note` the field whose text it quotes, so the next person reads what they need to act.
    """

    LAPORAN_DITERIMA = "laporan-diterima"
    LAPORAN_DIKEMBALIKAN = "laporan-dikembalikan"
    LAPORAN_DIKEMBALIKAN_PUSAT = "laporan-dikembalikan-pusat"
    LAPORAN_DITUTUP = "laporan-ditutup"
    LAPORAN_DIDISPOSISI = "laporan-didisposisi"
    LAPORAN_DIDISPOSISI_PELAPOR = "laporan-didisposisi-pelapor"
    HASIL_DITOLAK = "hasil-ditolak"
    TANGGAPAN_OPD = "tanggapan-opd"
    HASIL_TINDAK_LANJUT = "hasil-tindak-lanjut"
    JAWABAN_OPD = "jawaban-opd"
    LAPORAN_SELESAI = "laporan-selesai"
    PENGINGAT = "pengingat"  # a reminder before a deadline (lapor-reminder)
    ESKALASI = "eskalasi"  # an escalation after it
    KODE_VERIFIKASI = "kode-verifikasi"  # a registration code (the API, not a model)
    # What a follower of someone else's report hears when its reporter is told of progress (workers.notifications).
    LAPORAN_DIIKUTI = "laporan-diikuti"
    KONTAK_DIUBAH = "kontak-diubah"  # to the old contact after a correction (lapor.correction)
    # A duplicate merged at verification (lapor-merge-duplicate sends both, naming the other report by tracking id
    # only) and the merge undone (`python -m lapor.duplicates undo`).
    LAPORAN_DIGABUNGKAN = "laporan-digabungkan"
    DUPLIKAT_DIGABUNGKAN = "duplikat-digabungkan"
    PENGGABUNGAN_DIBATALKAN = "penggabungan-dibatalkan"

    @property
    def deadline(self) -> Deadline | None:
        return _NOTICE_DEADLINES.get(self)

    @property
    def note(self) -> FormField | None:
        return _NOTICE_NOTES.get(self)


_NOTICE_DEADLINES = {
    Notice.LAPORAN_DITERIMA: Deadline.VERIFICATION,
    Notice.LAPORAN_DIKEMBALIKAN: Deadline.SUPPLEMENT,
    Notice.LAPORAN_DIDISPOSISI: Deadline.OPD_RESPONSE,
    Notice.LAPORAN_DIDISPOSISI_PELAPOR: Deadline.OPD_RESPONSE,
    Notice.TANGGAPAN_OPD: Deadline.OPD_COMPLETION,
    Notice.HASIL_TINDAK_LANJUT: Deadline.CITIZEN_CONFIRMATION,
    Notice.JAWABAN_OPD: Deadline.CITIZEN_CONFIRMATION,
}
_NOTICE_NOTES = {
    Notice.TANGGAPAN_OPD: FormField.RESPONSE_TEXT,
    Notice.JAWABAN_OPD: FormField.RESPONSE_TEXT,
    Notice.LAPORAN_DIKEMBALIKAN: FormField.VERIFICATION_NOTE,  # what the reporter must add
    Notice.LAPORAN_DIKEMBALIKAN_PUSAT: FormField.VERIFICATION_NOTE,
    Notice.LAPORAN_DIDISPOSISI: FormField.DISPATCH_NOTE,
    Notice.HASIL_DITOLAK: FormField.REJECTION_REASON,  # the reporter's reason, contact details and name hidden
}
# The reporter's notices of a public report's progress that its followers hear of too (as LAPORAN_DIIKUTI, which
# quotes no note: a return note or a rejection reason is the reporter's and Admin Pengaduan's business).
FOLLOWED_NOTICES = frozenset(
    {
        Notice.LAPORAN_DIDISPOSISI_PELAPOR,
        Notice.TANGGAPAN_OPD,
        Notice.HASIL_TINDAK_LANJUT,
        Notice.JAWABAN_OPD,
        Notice.LAPORAN_SELESAI,
        Notice.LAPORAN_DITUTUP,
    }
)
# Variables of a verification round for the form: the open reports nearby that this one may duplicate, in words
# (tracking id, title, distance; no personal data), and why the last "duplikat" was refused ("" when it was not).
DUPLICATE_CANDIDATES_VARIABLE = "duplicateCandidates"
DUPLICATE_REFUSAL_VARIABLE = "duplicateRefusal"
