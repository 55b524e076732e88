"""lapor-notify and lapor-reminder: who gets which text, with the due date people read, once per task."""

from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from lapor.models import EventKind, Notification, Reporter, ReportEvent, ReportStatus
from lapor.notifications import channels
from lapor.process.tasks import ModelError
from lapor.vocabulary import Topic
from tests.conftest import PushChannel
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import (
    ADMIN_EMAIL,
    BASE_URL,
    KOORDINATOR_EMAIL,
    REPORTER_EMAIL,
    REPORTER_NAME,
    REPORTER_PHONE,
    TRACKING_ID,
    Installed,
    TaskFactory,
    add_report,
    wib,
)
from workers.deps import Deps
from workers.notifications import notify, remind
from workers.topics import bind

VERIFICATION_DUE = wib(2026, 12, 1, 23, 59, 59)
RESPONSE_DUE = wib(2026, 12, 10, 23, 59, 59)


def events(session_factory: SessionFactory) -> list[tuple[str, str, str | None]]:
    with session_factory() as session:
        return [(e.kind, e.actor, e.detail) for e in session.scalars(select(ReportEvent).order_by(ReportEvent.id))]


def test_the_reporter_learns_the_tracking_id_and_the_verification_deadline_once(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    received = task(
        Topic.NOTIFY, {"template": "laporan-diterima", "recipient": "pelapor"}, verificationDueAt=VERIFICATION_DUE
    )
    notify(installed.deps, received)
    notify(installed.deps, received)  # retried: nothing goes out twice

    [mail] = installed.email.sent
    assert mail.to == REPORTER_EMAIL
    assert mail.subject == f"Laporan {TRACKING_ID} telah diterima"
    assert "diverifikasi oleh Admin Pengaduan paling lambat Selasa, 1 Desember 2026 pukul 23.59 WIB" in mail.body
    assert f"{BASE_URL}/lacak/{TRACKING_ID}" in mail.body
    assert installed.sms.sent == [
        (
            REPORTER_PHONE,
            f"LAPOR! Pontianak: laporan {TRACKING_ID} diterima, diverifikasi paling lambat 1 Des 2026 23.59 WIB.",
        )
    ]


def test_the_opd_gets_the_dispatch_without_the_reporters_identity(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    notify(
        installed.deps,
        task(Topic.NOTIFY, {"template": "laporan-didisposisi", "recipient": "opd"}, responseDueAt=RESPONSE_DUE),
    )
    [mail] = installed.email.sent
    assert mail.to == "pupr@pontianak.go.id"
    assert mail.subject == f"Disposisi laporan {TRACKING_ID} untuk Dinas Pekerjaan Umum dan Penataan Ruang"
    assert "Mohon berikan tanggapan paling lambat Kamis, 10 Desember 2026 pukul 23.59 WIB." in mail.body
    for secret in (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE):
        assert secret not in mail.body
    assert installed.sms.sent == []  # OPDs are reached by e-mail


def test_the_opd_response_is_quoted_to_the_reporter(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.PROSES)
    notify(
        installed.deps,
        task(
            Topic.NOTIFY,
            {"template": "tanggapan-opd", "recipient": "pelapor"},
            completionDueAt=wib(2027, 2, 25, 23, 59, 59),
            responseText="Tim akan menambal jalan minggu ini.",
        ),
    )
    [mail] = installed.email.sent
    assert "Status: Proses" in mail.body
    assert "Tanggapan:\nTim akan menambal jalan minggu ini." in mail.body


def test_verification_reminder_goes_to_the_admin_and_into_the_timeline(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    reminder = task(
        Topic.REMINDER, {"deadline": "verification", "kind": "reminder"}, verificationDueAt=VERIFICATION_DUE
    )
    remind(installed.deps, reminder)
    remind(installed.deps, reminder)
    [mail] = installed.email.sent
    assert mail.to == ADMIN_EMAIL
    assert mail.subject == f"Pengingat: batas waktu verifikasi laporan laporan {TRACKING_ID}"
    assert "akan berakhir pada Selasa, 1 Desember 2026 pukul 23.59 WIB" in mail.body
    assert events(session_factory) == [(EventKind.REMINDER, "sistem", "Batas waktu verifikasi laporan")]


def test_a_missed_response_deadline_is_escalated_to_the_koordinator_and_the_admin(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    remind(
        installed.deps,
        task(Topic.REMINDER, {"deadline": "opd-response", "kind": "escalation"}, responseDueAt=RESPONSE_DUE),
    )
    assert [m.to for m in installed.email.sent] == [KOORDINATOR_EMAIL, ADMIN_EMAIL]
    mail = installed.email.sent[0]
    assert mail.subject == f"Eskalasi: batas waktu tanggapan OPD laporan {TRACKING_ID} terlewati"
    assert "telah terlewati (Kamis, 10 Desember 2026 pukul 23.59 WIB)" in mail.body
    assert "Perangkat Daerah: Dinas Pekerjaan Umum dan Penataan Ruang" in mail.body
    assert events(session_factory) == [(EventKind.ESCALATION, "sistem", "Batas waktu tanggapan OPD")]


def test_a_response_reminder_reaches_the_opd_and_the_admin(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    remind(
        installed.deps,
        task(Topic.REMINDER, {"deadline": "opd-response", "kind": "reminder"}, responseDueAt=RESPONSE_DUE),
    )
    assert [m.to for m in installed.email.sent] == ["pupr@pontianak.go.id", ADMIN_EMAIL]


@pytest.mark.parametrize(
    ("topic", "properties", "variables", "complaint"),
    [
        (Topic.NOTIFY, {"template": "laporan-diterima", "recipient": "pelapor"}, {}, "'verificationDueAt'"),
        (
            Topic.NOTIFY,
            {"template": "laporan-hilang", "recipient": "pelapor"},
            {},
            "property template=.laporan-hilang.; known: laporan-diterima",
        ),
        (Topic.NOTIFY, {"template": "laporan-selesai", "recipient": "walikota"}, {}, "recipient='walikota'"),
        (Topic.NOTIFY, {"recipient": "pelapor"}, {}, "no property 'template'"),
        (Topic.REMINDER, {"deadline": "supplement", "kind": "reminder"}, {}, "no reminders"),
        (Topic.REMINDER, {"deadline": "verification", "kind": "teguran"}, {}, "kind='teguran'"),
        (Topic.REMINDER, {"kind": "reminder"}, {}, "no property 'deadline'"),
        (
            Topic.REMINDER,
            {"deadline": "verification", "kind": "reminder"},
            {"verificationDueAt": "2026-12-01T23:59:59+07:00"},
            "verificationDueAt must be a Date variable",
        ),
    ],
)
def test_what_the_handlers_do_not_know_is_a_model_error_and_nothing_is_sent(
    installed: Installed,
    session_factory: SessionFactory,
    task: TaskFactory,
    topic: Topic,
    properties: dict[str, str],
    variables: dict[str, Any],
    complaint: str,
) -> None:
    add_report(session_factory, opd_code="PUPR")
    handler = notify if topic is Topic.NOTIFY else remind
    with pytest.raises(ModelError, match=complaint):
        handler(installed.deps, task(topic, properties, **variables))
    assert installed.email.sent == [] and installed.sms.sent == [] and events(session_factory) == []


def test_the_opd_learns_who_made_the_disposition_and_reads_the_staff_page(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    dispatch = {"template": "laporan-didisposisi", "recipient": "opd"}
    who = {"dispatchedByName": "Rina Kartika", "dispatchedByGroups": "camunda-admin,kepala-bidang"}
    notify(installed.deps, task(Topic.NOTIFY, dispatch, responseDueAt=RESPONSE_DUE, dispatchNote="Segera.", **who))
    [mail] = installed.email.sent
    assert "Disposisi oleh: Rina Kartika (Kepala Bidang Informasi dan Komunikasi Publik)" in mail.body
    assert "Catatan disposisi:\nSegera." in mail.body
    assert f"{BASE_URL}/files/reports/{TRACKING_ID}?expires=" in mail.body
    assert "/lacak/" not in mail.body  # a confidential report's citizen page answers 404


def test_a_local_login_named_after_its_role_is_not_named_twice(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    who = {"dispatchedByName": "Analis Pengaduan Publik (lokal)", "dispatchedByGroups": "analis"}
    dispatch = {"template": "laporan-didisposisi", "recipient": "opd"}
    notify(installed.deps, task(Topic.NOTIFY, dispatch, responseDueAt=RESPONSE_DUE, **who))
    assert "Disposisi oleh: Analis Pengaduan Publik (lokal)\n" in installed.email.sent[0].body


def test_a_disposition_nobody_is_named_for_names_the_admin(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.TERVERIFIKASI)
    notify(
        installed.deps,
        task(Topic.NOTIFY, {"template": "laporan-didisposisi", "recipient": "opd"}, responseDueAt=RESPONSE_DUE),
    )
    assert "Disposisi oleh: Admin Pengaduan Daerah" in installed.email.sent[0].body


@pytest.mark.parametrize("deadline", ["disposition", "documentation"])
def test_reminders_of_admin_pengaduans_own_steps_go_to_the_admin_only(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory, deadline: str
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.PROSES)
    due = {"dispositionDueAt": RESPONSE_DUE, "documentationDueAt": RESPONSE_DUE}
    remind(installed.deps, task(Topic.REMINDER, {"deadline": deadline, "kind": "reminder"}, **due))
    assert [m.to for m in installed.email.sent] == [ADMIN_EMAIL]
    remind(installed.deps, task(Topic.REMINDER, {"deadline": deadline, "kind": "escalation"}, **due))
    assert [m.to for m in installed.email.sent[1:]] == [KOORDINATOR_EMAIL, ADMIN_EMAIL]


def test_a_channel_added_in_one_line_gets_the_workers_notices(
    installed: Installed,
    db_engine: Engine,
    session_factory: SessionFactory,
    task: TaskFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    push = PushChannel()
    monkeypatch.setattr(channels, "FACTORIES", (*channels.FACTORIES, lambda settings: push))  # the one line
    report = add_report(session_factory)
    with session_factory() as session:  # a reporter reached by phone only: no e-mail to send, no SMS gateway set
        session.execute(update(Reporter).where(Reporter.id == report.reporter_id).values(email=None))
    deps = Deps.from_settings(installed.settings.model_copy(update={"sms_gateway_url": None}))  # as the process does
    deps.db.dispose()
    deps.db = db_engine
    handle = bind(deps)[str(Topic.NOTIFY)]
    received = task(
        Topic.NOTIFY, {"template": "laporan-diterima", "recipient": "pelapor"}, verificationDueAt=VERIFICATION_DUE
    )
    handle(received)
    handle(received)  # retried: the ledger knows the push channel too
    assert push.sent == [
        (
            REPORTER_PHONE,
            f"LAPOR! Pontianak: laporan {TRACKING_ID} diterima, diverifikasi paling lambat 1 Des 2026 23.59 WIB.",
        )
    ]
    with session_factory() as session:
        assert [(n.channel, n.state) for n in session.scalars(select(Notification))] == [("push", "sent")]
