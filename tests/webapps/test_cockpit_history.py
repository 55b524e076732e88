"""A finished report in Cockpit (issue 20, 1): the koordinator finds it by its tracking id and reads who did each task
and when, in Bahasa Indonesia (app/cockpit/scripts/lapor-history.js). Screenshots: tests/webapps/screenshots/<test>/."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from engine import LocalEngine
from lapor.notifications.templates import format_due_date, parse_moment
from lapor.process import EngineClient
from tests.e2e.conftest import Submitted, complete_task, email_channel_to, open_task, submit, walk_to_the_end
from tests.e2e.test_process_operations import skip_backoff_until_incident
from tests.webapps.conftest import WebappBrowser
from workers.deps import Deps

pytestmark = pytest.mark.engine


def in_words(moment: datetime | None) -> str:
    """An engine date as the history view writes it: "Senin, 21 Desember 2026 pukul 23.59 WIB"."""
    assert moment is not None
    return format_due_date(moment)


async def a_report_with_an_incident_and_a_late_verification(
    lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> Submitted:
    """Its receipt notice fails for good (the mail server is down) until the administrator retries it, and its
    verification is done after its due date (moved to yesterday)."""
    healthy = worker_deps.notifier
    worker_deps.notifier = replace(healthy, channels=(email_channel_to(9),))  # nothing listens on port 9
    try:
        report = await submit(lapor_process, worker_deps)
        incident = await skip_backoff_until_incident(operaton, report)
    finally:
        worker_deps.notifier = healthy
    operaton.set_external_task_retries(incident.configuration, 1)
    verification = await open_task(operaton, report, "VerifyReportTask")
    operaton.set_task_due_date(verification.id, datetime.now(UTC) - timedelta(days=1))
    return report


def rows_by_task(browser: WebappBrowser) -> dict[str, str]:
    """The history view's task table: each row's text by the task's element id."""
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#lapor-history-tasks tbody tr")
    return {str(row.get_attribute("data-task")): " ".join(row.text.split()) for row in rows}


def history_shown(browser: WebappBrowser, tracking_id: str) -> None:
    WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: (
            f"Riwayat laporan {tracking_id}" in d.find_element(By.TAG_NAME, "body").text
            and d.find_elements(By.CSS_SELECTOR, "#lapor-history-tasks tbody tr")
        )
    )


def read_only(browser: WebappBrowser) -> bool:
    """The history page has no field, form or button of its own (the diagram's zoom buttons aside)."""
    controls = "#lapor-history form, #lapor-history input, #lapor-history textarea, #lapor-history select"
    buttons = "#lapor-history button:not(#lapor-history-diagram button)"
    return not browser.driver.find_elements(By.CSS_SELECTOR, f"{controls}, {buttons}")


def address(driver: WebDriver) -> str:
    """The page's address without its search (the diagram keeps its zoom there)."""
    return str(driver.current_url).split("?")[0]


def click_report(browser: WebappBrowser, tracking_id: str) -> None:
    def link(d: WebDriver) -> Any:
        found = [a for a in d.find_elements(By.CSS_SELECTOR, ".lapor-reports tbody a") if a.text == tracking_id]
        return found[0] if found else False

    WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(link).click()


async def test_the_koordinator_finds_a_finished_report_and_reads_who_did_each_task_and_when(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await a_report_with_an_incident_and_a_late_verification(lapor_process, operaton, worker_deps)
    ended = await walk_to_the_end(lapor_process, operaton, engine, report)
    instance = report.process_instance_id
    # Raw: the engine's own history rows (end and due times) that Cockpit's page must show; no typed record has both.
    tasks = operaton.request("GET", "/history/task", params={"processInstanceId": instance})
    assert {t["taskDefinitionKey"] for t in tasks} == {
        "VerifyReportTask",
        "DispatchReportTask",
        "OpdResponseTask",
        "OpdCompletionTask",
        "DocumentCompletionTask",
    }

    # The dashboard's search finds it by its tracking id.
    await asyncio.to_thread(browser.login, "cockpit", "koordinator")
    box = await asyncio.to_thread(browser.wait_for, ".lapor-reports-search input[name=trackingId]", timeout=30)
    box.send_keys(report.tracking_id, Keys.ENTER)
    await asyncio.to_thread(browser.wait_text, "1 laporan", timeout=30)
    browser.driver.execute_script("document.querySelector('.lapor-reports').scrollIntoView()")
    browser.shot("dasbor-cari-laporan")
    click_report(browser, report.tracking_id)
    await asyncio.to_thread(history_shown, browser, report.tracking_id)
    assert address(browser.driver).endswith(f"#/process-instance/{instance}/history")

    summary = " ".join(browser.wait_for("#lapor-history-summary").text.split())
    assert f"Nomor laporan {report.tracking_id}" in summary, summary
    assert f"versi {ended.definition_version}" in summary, summary
    assert "Status Selesai" in summary and f"Berakhir {in_words(ended.end_time)}" in summary, summary
    end_event = [
        a
        for a in operaton.activities(instance)
        if a.activity_type == "noneEndEvent" and a.parent_activity_instance_id == instance
    ][-1]
    assert f"Berakhir di {end_event.activity_name}" in summary, summary
    assert read_only(browser), "the history page offers something to change"
    browser.shot("riwayat-ringkasan")

    shown = rows_by_task(browser)
    assert set(shown) == {t["taskDefinitionKey"] for t in tasks}, shown
    for task in tasks:  # who completed each task, when, and by when it was due, in words
        row = shown[task["taskDefinitionKey"]]
        assert task["name"] in row and task["assignee"] in row, row
        assert in_words(parse_moment(task["endTime"])) in row and in_words(parse_moment(task["due"])) in row, row
    assert "Selesai terlambat" in shown["VerifyReportTask"], shown  # done after its due date (moved to yesterday)
    assert "Selesai tepat waktu" in shown["OpdResponseTask"], shown
    assert "opd-pupr" in shown["OpdCompletionTask"] and "admin-pengaduan" in shown["DocumentCompletionTask"]
    browser.driver.execute_script("document.getElementById('lapor-history-tasks').scrollIntoView()")
    browser.shot("riwayat-tugas")

    incidents = " ".join(browser.wait_for("#lapor-history-incidents").text.split())
    assert "Tugas sistem gagal" in incidents and "Teratasi" in incidents, incidents
    path = browser.driver.find_elements(By.CSS_SELECTOR, "#lapor-history-path tbody tr")
    steps = [str(row.get_attribute("data-activity")) for row in path]
    passed = {a.activity_id for a in operaton.activities(instance) if a.activity_name}
    assert passed <= set(steps), passed - set(steps)  # every named step, in the order taken
    order = ("ReportReceivedStartEvent", "VerifyReportTask", "OpdResponseTask", "DocumentCompletionTask")
    assert [steps.index(step) for step in (*order, end_event.activity_id)] == sorted(
        steps.index(step) for step in (*order, end_event.activity_id)
    ), steps
    assert "Verifikasi laporan" in path[steps.index("VerifyReportTask")].text  # the BPMN's own name
    browser.driver.execute_script("document.getElementById('lapor-history-incidents').scrollIntoView()")
    browser.shot("riwayat-insiden")
    # The diagram, drawn by Cockpit's viewer, marks where the report went: the OPD's response, not the closing path.
    WebDriverWait(browser.driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#lapor-history-diagram .djs-element.highlight")
    )
    marked = {
        e.get_attribute("data-element-id")
        for e in browser.driver.find_elements(By.CSS_SELECTOR, "#lapor-history-diagram .djs-element.highlight")
    }
    assert {"VerifyReportTask", "OpdResponseTask", end_event.activity_id} <= marked, marked
    assert not marked & {"ReportClosedEndEvent", "WaitForSupplementTask", "OpdFollowUpSubProcess"}, marked
    browser.driver.execute_script("document.getElementById('lapor-history-diagram').scrollIntoView()")
    browser.shot("riwayat-diagram-dan-jalur")

    # The definition's tab lists finished reports; its search narrows them to this one.
    tab = f"#/process-definition/{ended.definition_id}/runtime?detailsTab=lapor-finished-reports"
    await asyncio.to_thread(browser.open, "cockpit", tab)
    box = await asyncio.to_thread(browser.wait_for, ".lapor-reports-search input[name=trackingId]", timeout=30)
    await asyncio.to_thread(browser.wait_text, "laporan", timeout=30)
    browser.shot("tab-laporan-selesai")
    box.send_keys(report.tracking_id, Keys.ENTER)
    await asyncio.to_thread(browser.wait_text, "1 laporan", timeout=30)
    rows = browser.driver.find_elements(By.CSS_SELECTOR, ".lapor-reports tbody tr")
    assert [r.get_attribute("data-instance") for r in rows] == [instance]
    assert "Selesai" in rows[0].text and in_words(ended.end_time) in " ".join(rows[0].text.split())
    browser.shot("tab-laporan-selesai-dicari")
    click_report(browser, report.tracking_id)
    await asyncio.to_thread(history_shown, browser, report.tracking_id)

    # Cockpit's own address of the instance now lands on its history, not on the definition.
    await asyncio.to_thread(browser.open, "cockpit", f"#/process-instance/{instance}")
    WebDriverWait(browser.driver, 30).until(lambda d: address(d).endswith(f"/process-instance/{instance}/history"))
    await asyncio.to_thread(history_shown, browser, report.tracking_id)
    assert (
        "tampilan riwayat" in browser.text()
    )  # Cockpit's notice: "... telah selesai. Mengalihkan ke tampilan riwayat"
    browser.shot("alamat-instans-ke-riwayat")


async def test_an_open_report_has_its_history_beside_its_runtime_view_and_an_unknown_one_says_so(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """ "Riwayat" in the breadcrumb of a running report: the OPD's open task, who holds it and by when, still open."""
    report = await submit(lapor_process, worker_deps)
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    task = await open_task(operaton, report, "OpdResponseTask")
    operaton.claim(task.id, "opd-pupr")

    await asyncio.to_thread(browser.login, "cockpit", "koordinator")
    await asyncio.to_thread(browser.open, "cockpit", f"#/process-instance/{report.process_instance_id}/runtime")
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    browser.click_text("Riwayat", css=".breadcrumbs-panel a, [cam-breadcrumbs-panel] a")
    await asyncio.to_thread(history_shown, browser, report.tracking_id)
    summary = " ".join(browser.wait_for("#lapor-history-summary").text.split())
    assert "Status Berjalan" in summary and "Berakhir belum" in summary, summary
    row = rows_by_task(browser)["OpdResponseTask"]
    assert "opd-pupr" in row and in_words(task.due) in row and row.endswith("belum Terbuka"), row
    assert read_only(browser), "the history page offers something to change"
    browser.shot("riwayat-laporan-berjalan")
    browser.click_text("Buka tampilan berjalan")
    WebDriverWait(browser.driver, 30).until(lambda d: address(d).endswith("/runtime"))

    await asyncio.to_thread(browser.open, "cockpit", "#/process-instance/tidak-ada/history")
    await asyncio.to_thread(
        browser.wait_text, "Riwayat instans proses tidak-ada tidak dapat dibaca: tidak ditemukan.", timeout=30
    )
    browser.shot("riwayat-tidak-ada")
    operaton.cancel(report.process_instance_id)
