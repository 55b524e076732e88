"""lapor-deadline: Date variables for timers and task due dates, the due date on the report, signed links."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lapor import reports, signed_links
from lapor.models import Photo
from lapor.process.tasks import ModelError
from lapor.vocabulary import Topic
from lapor.workdays import PONTIANAK_TZ
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import (
    BASE_URL,
    TRACKING_ID,
    Installed,
    TaskFactory,
    add_report,
    deadline_properties,
    wib,
)
from workers.due_dates import compute_deadline


def assert_link_opens(url: str, installed: Installed, *, path: str, valid_until: datetime) -> None:
    """The signed link works for its path until its expiry, as the API checks it."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL and parts.path == path
    query = parse_qs(parts.query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    assert expires == int(valid_until.timestamp())
    key = signed_links.signing_key(installed.settings)
    signed_links.check(path, expires, signature, key=key, now=valid_until - timedelta(seconds=1))
    with pytest.raises(signed_links.LinkExpired):
        signed_links.check(path, expires, signature, key=key, now=valid_until)


def test_verification_deadline_is_returned_as_dates_and_shown_in_tracking(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    result = compute_deadline(installed.deps, task(Topic.DEADLINE, deadline_properties("verification")))

    due = wib(2026, 12, 1, 23, 59, 59)  # Tuesday: the third working day after Thursday 26 November
    assert result["verificationDueAt"] == due and isinstance(result["verificationDueAt"], datetime)
    assert result["verificationReminderAt"] == wib(2026, 11, 30, 8)
    assert set(result) == {
        "verificationDueAt",
        "verificationReminderAt",
        "verificationDueText",
        "reportSummaryUrl",
        "photoCount",
        "duplicateCandidates",
        "duplicateRefusal",
    }
    # Nothing nearby to suggest; a new round starts without an old refusal.
    assert result["duplicateCandidates"].startswith("Tidak ada laporan terbuka") and result["duplicateRefusal"] == ""
    assert result["verificationDueText"] == "Selasa, 1 Desember 2026 pukul 23.59 WIB"  # the forms show words
    assert_link_opens(
        result["reportSummaryUrl"],
        installed,
        path=f"/files/reports/{TRACKING_ID}",
        valid_until=due + timedelta(days=1),
    )
    with session_factory() as session:
        assert reports.get_by_tracking_id(session, TRACKING_ID).verification_due_at == due


def test_completion_deadline_names_the_opd_for_the_forms(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR")
    result = compute_deadline(
        installed.deps,
        task(Topic.DEADLINE, deadline_properties("opd-completion"), opdCode="PUPR", proposedOpdCode="DLH"),
    )

    due = result["completionDueAt"]
    assert due.astimezone(PONTIANAK_TZ).time().isoformat() == "23:59:59"
    assert result["opdName"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert result["proposedOpdName"] == "Dinas Lingkungan Hidup"
    assert "proofUploadUrl" not in result  # the proof photo is attached in Tasklist
    with session_factory() as session:
        report = reports.get_by_tracking_id(session, TRACKING_ID)
        assert report.completion_due_at == due and report.verification_due_at is None


def test_supplement_deadline_is_kept_on_the_report_for_the_reporter(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory)
    result = compute_deadline(installed.deps, task(Topic.DEADLINE, deadline_properties("supplement")))
    assert result["supplementDueAt"] == wib(2026, 12, 6, 23, 59, 59)  # ten calendar days, a Sunday included
    assert "supplementReminderAt" not in result and "proofUploadUrl" not in result
    with session_factory() as session:
        report = reports.get_by_tracking_id(session, TRACKING_ID)
        assert (report.verification_due_at, report.response_due_at, report.completion_due_at) == (None, None, None)
        assert report.supplement_due_at == wib(2026, 12, 6, 23, 59, 59)  # tracking tells the reporter


@pytest.mark.parametrize(
    ("properties", "variables", "complaint"),
    [
        ({}, {}, "no property 'sla'"),
        ({"sla": "opd-responce"}, {}, "unknown deadline 'opd-responce'"),
        (
            {"sla": "verification", "length": "3"},
            {},
            "properti 'unit' bernilai None; isi dengan 'working-days' atau 'days'",
        ),
        ({**deadline_properties("verification"), "length": "3,5"}, {}, "properti 'length' bernilai '3,5'"),
        (
            deadline_properties("verification"),
            {"engineNow": "2026-11-26T10:00:00+07:00"},
            "engineNow must be a Date variable",
        ),
        (deadline_properties("verification"), {"trackingId": None}, "no variable 'trackingId'"),
    ],
)
def test_a_model_that_asks_for_something_unknown_is_a_model_error(
    installed: Installed,
    session_factory: SessionFactory,
    task: TaskFactory,
    properties: dict[str, str],
    variables: dict[str, Any],
    complaint: str,
) -> None:
    add_report(session_factory)
    with pytest.raises(ModelError, match=complaint):
        compute_deadline(
            installed.deps, task(Topic.DEADLINE, properties, activity_id="ComputeVerificationDeadlineTask", **variables)
        )
    with session_factory() as session:
        assert reports.get_by_tracking_id(session, TRACKING_ID).verification_due_at is None


def test_each_verification_round_counts_the_photos_a_supplement_brought(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    report = add_report(session_factory)
    with session_factory() as session:
        for index, kind in enumerate(("report", "report", "proof")):  # the OPD's proof is not the reporter's
            session.add(Photo(report_id=report.id, sha256=f"{index:064x}", content_type="image/jpeg", size_bytes=1,
                              kind=kind, created_at=wib(2026, 11, 26)))  # fmt: skip
    assert (
        compute_deadline(installed.deps, task(Topic.DEADLINE, deadline_properties("verification")))["photoCount"] == 2
    )
    assert "photoCount" not in compute_deadline(
        installed.deps, task(Topic.DEADLINE, deadline_properties("opd-response"))
    )
