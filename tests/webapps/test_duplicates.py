"""Admin Pengaduan marks a duplicate in Tasklist (issue 22, "Done when"): the verification form suggests the open
report nearby, a mistyped tracking id comes back in the form with the reason, the right one merges the report and
both reporters are told. Screenshots: tests/webapps/screenshots/<test>/."""

import asyncio
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from engine import LocalEngine
from lapor.models import ReportStatus
from lapor.process import EngineClient
from tests.conftest import Mailbox, body_of, eventually
from tests.e2e.conftest import REPORTER, open_task, status_becomes, submit
from tests.e2e.test_duplicates import second_reporter, verified_original
from tests.webapps.conftest import WebappBrowser
from tests.webapps.test_webapps import claim_if_needed, complete_in_tasklist, form_text
from workers.deps import Deps

pytestmark = pytest.mark.engine
ORIGINAL_FIELD = "input[id$='OriginalTrackingIdTextfield']"


def type_original(browser: WebappBrowser, tracking_id: str) -> None:
    """Choose Duplikat, then type the original's tracking id into the field that appears with it; again when
    Tasklist renders the form anew after the claim (what was typed before that is lost)."""
    for _ in range(5):
        browser.click_text("Duplikat — gabungkan ke laporan terbuka lain yang sama", css="label")
        field = browser.wait_for(ORIGINAL_FIELD)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        field.send_keys(tracking_id)
        time.sleep(1)  # a re-render after the claim replaces the form within this
        fields = browser.driver.find_elements(By.CSS_SELECTOR, ORIGINAL_FIELD)
        if fields and fields[0].get_attribute("value") == tracking_id:
            return
    raise AssertionError(f"the form did not keep {tracking_id!r} in Nomor laporan asal")


async def test_admin_pengaduan_marks_a_duplicate_in_tasklist_and_both_reporters_are_told(
    browser: WebappBrowser,
    lapor_process: EngineClient,
    operaton: EngineClient,
    engine: LocalEngine,
    worker_deps: Deps,
    mailbox: Mailbox,
) -> None:
    original = await verified_original(lapor_process, operaton, engine, worker_deps)
    duplicate = await submit(lapor_process, worker_deps)
    duplicate_email = second_reporter(worker_deps, duplicate)
    task = await open_task(operaton, duplicate, "VerifyReportTask")

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    browser.wait_text("Verifikasi")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    shown = await asyncio.to_thread(form_text, browser, duplicate.tracking_id)
    assert "Laporan serupa di sekitar" in shown and f"{original.tracking_id} — Jalan berlubang" in shown, shown
    assert "Penggabungan ditolak" not in shown and not browser.driver.find_elements(By.CSS_SELECTOR, ORIGINAL_FIELD)
    claim_if_needed(browser)
    type_original(browser, "PTK-0000-SALAH1")
    browser.shot("duplikat-salah-ketik")
    await complete_in_tasklist(browser, operaton, task.id)

    # Back at verification, the form says why; nothing merged, no incident.
    again = await open_task(operaton, duplicate, "VerifyReportTask")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={again.id}")
    reason = "Laporan PTK-0000-SALAH1 tidak ditemukan: periksa kembali nomor pelacakannya."

    def refusal_shown() -> bool:
        return reason in form_text(browser, duplicate.tracking_id)

    await eventually(refusal_shown)
    assert not operaton.incidents(process_instance_id=duplicate.process_instance_id)
    browser.shot("duplikat-ditolak")
    claim_if_needed(browser)
    type_original(browser, original.tracking_id)
    await complete_in_tasklist(browser, operaton, again.id)

    await status_becomes(worker_deps, duplicate, ReportStatus.DIGABUNGKAN)
    [joined] = await eventually(lambda: mailbox.to(duplicate_email, original.tracking_id))
    assert "digabungkan dengan laporan" in joined["Subject"] and REPORTER["name"] not in body_of(joined)
    await eventually(
        lambda: [
            m
            for m in mailbox.to(REPORTER["email"], original.tracking_id)
            if m["Subject"] == f"Laporan lain digabungkan dengan laporan {original.tracking_id}"
        ]
    )
