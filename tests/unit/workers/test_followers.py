"""Followers of a report hear of its progress with the reporter's notices, without the reporter's identity or words,
and the reporter never learns who follows."""

import re

from sqlalchemy import select

from lapor import support
from lapor.models import Notification, Report, Reporter, ReportStatus
from lapor.vocabulary import Topic
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import (
    BASE_URL,
    ENGINE_NOW,
    REPORTER_EMAIL,
    REPORTER_NAME,
    REPORTER_PHONE,
    TRACKING_ID,
    Installed,
    TaskFactory,
    add_report,
    wib,
)
from workers.notifications import notify

FOLLOWERS = (("Budi Santoso", "budi@example.test", "+6281200000001"), ("Rina Wati", "rina@example.test", None))


def add_followers(session_factory: SessionFactory) -> list[int]:
    with session_factory() as session:
        report = session.scalars(select(Report).where(Report.tracking_id == TRACKING_ID)).one()
        people = [Reporter(name=n, email=e, phone=p, created_at=ENGINE_NOW) for n, e, p in FOLLOWERS]
        session.add_all(people)
        session.flush()
        for person in people:
            support.support(session, report=report, reporter=person, now=ENGINE_NOW)
        return [p.id for p in people]


def test_followers_get_the_completion_without_the_reporters_identity_once(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.SELESAI)
    budi, rina = add_followers(session_factory)
    ids = {"budi@example.test": budi, "rina@example.test": rina}
    done = task(Topic.NOTIFY, {"template": "laporan-selesai", "recipient": "pelapor"})
    notify(installed.deps, done)
    notify(installed.deps, done)  # retried: nobody hears twice

    by_address = {mail.to: mail for mail in installed.email.sent}
    assert sorted(by_address) == sorted([REPORTER_EMAIL, "budi@example.test", "rina@example.test"])
    for address in ("budi@example.test", "rina@example.test"):
        mail = by_address[address]
        assert mail.subject == f"Kabar laporan {TRACKING_ID} yang Anda ikuti"
        assert "kini berstatus: Selesai" in mail.body and f"{BASE_URL}/lacak/{TRACKING_ID}\n" in mail.body
        # Each follower's own signed link stops that follower's notices only.
        [link] = re.findall(rf"{BASE_URL}/berhenti-mengikuti/{TRACKING_ID}/(\d+)\?expires=\d+&signature=\S+", mail.body)
        assert int(link) == ids[address]
        for secret in (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, "Budi", "Rina", "budi@", "rina@"):
            assert secret not in mail.body, (address, secret)
    reporter_mail = by_address[REPORTER_EMAIL]
    assert "Budi" not in reporter_mail.body and "budi@" not in reporter_mail.body
    assert sorted(to for to, _ in installed.sms.sent) == sorted([REPORTER_PHONE, "+6281200000001"])
    with session_factory() as session:
        kinds = sorted(n.recipient_kind for n in session.scalars(select(Notification)))
    assert kinds == ["pelapor", "pelapor", "pengikut", "pengikut", "pengikut"]


def test_a_return_note_stays_the_reporters_and_a_follower_who_stopped_hears_nothing(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR", status=ReportStatus.PROSES)
    budi, _ = add_followers(session_factory)
    notify(
        installed.deps,
        task(
            Topic.NOTIFY,
            {"template": "laporan-dikembalikan", "recipient": "pelapor"},
            verificationNote="Foto kabur",
            supplementDueAt=wib(2026, 12, 6, 23, 59, 59),
        ),
    )
    assert [mail.to for mail in installed.email.sent] == [REPORTER_EMAIL]
    with session_factory() as session:
        report = session.scalars(select(Report).where(Report.tracking_id == TRACKING_ID)).one()
        support.unfollow(session, report=report, reporter=session.get_one(Reporter, budi))
    notify(installed.deps, task(Topic.NOTIFY, {"template": "laporan-ditutup", "recipient": "pelapor"}))
    assert [mail.to for mail in installed.email.sent][1:] == [REPORTER_EMAIL, "rina@example.test"]
