"""Tasklist and Cockpit in a real browser, in Bahasa Indonesia, on the real engine with the real workers: each role
sees and does exactly its own work. Screenshots: tests/webapps/screenshots/<test>/."""

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from engine import LocalEngine
from lapor import masterdata
from lapor.models import ReportStatus
from lapor.notifications.templates import DAY_NAMES, format_date
from lapor.process import EngineAuthError, EngineClient
from lapor.process.identity import provision
from lapor.roles import CARD_VARIABLES, STAFF_GROUPS, identity_plan, opd_groups
from lapor.settings import Settings
from lapor.vocabulary import PROCESS_ID, RECAP_PROCESS_ID
from lapor.workdays import PONTIANAK_TZ
from tests.conftest import eventually, login
from tests.e2e.conftest import complete_task, email_channel_to, open_task, status_becomes, submit
from tests.e2e.test_lapor_process import opd_messages
from tests.e2e.test_process_operations import skip_backoff_until_incident
from tests.webapps.conftest import WebappBrowser
from workers.deps import Deps

pytestmark = pytest.mark.engine


def claim_if_needed(browser: WebappBrowser) -> None:
    if "Ambil" in browser.text():  # a candidate claims the task before the form can be submitted
        form = browser.wait_for(".fjs-form")
        browser.click_text("Ambil")
        browser.wait_text("Selesaikan")
        # Tasklist renders the form again once the claim is saved; what is typed before that is lost.
        try:
            WebDriverWait(browser.driver, 10).until(staleness_of(form))
        except TimeoutException:
            pass  # this time the form stayed
        browser.wait_for(".fjs-form")


def form_text(browser: WebappBrowser, tracking_id: str) -> str:
    """The text of the open task's form, once it shows the report."""

    def shown(d: WebDriver) -> str | bool:
        forms = d.find_elements(By.CSS_SELECTOR, "[cam-tasklist-form] .fjs-form")
        return bool(forms) and tracking_id in forms[0].text and str(forms[0].text)

    text = WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(shown)
    assert isinstance(text, str)
    return text


async def complete_in_tasklist(browser: WebappBrowser, operaton: EngineClient, task_id: str) -> None:
    """Click "Selesaikan" until the engine has the task completed: Tasklist drops a click while the form reloads after
    a claim."""

    def completed() -> bool:
        return not operaton.tasks(task_id=task_id)

    for _ in range(5):
        browser.click_text("Selesaikan", css="button")
        try:
            await eventually(completed, within=8)
            return
        except AssertionError:
            browser.shot("selesaikan-not-taken")
    raise AssertionError(f"Tasklist did not complete task {task_id}")


def submit_until_refused(browser: WebappBrowser) -> None:
    """Complete an unfilled form until form-js shows its message (a click while the form still loads does nothing)."""
    for _ in range(5):
        browser.click_text("Selesaikan", css="button")
        try:
            browser.wait_text("Wajib diisi.", timeout=5)
            return
        except TimeoutException:
            continue
    raise AssertionError("form-js showed no 'Wajib diisi.' for the unfilled form")


async def test_the_pupr_liaison_completes_its_task_in_tasklist(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await submit(lapor_process, worker_deps, category="JALAN")
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": "Segera"})
    task = await open_task(operaton, report, "OpdResponseTask")

    await asyncio.to_thread(browser.login, "tasklist", "opd-pupr")
    browser.wait_text("Tugas OPD saya")
    browser.wait_text("Tanggapan OPD")
    browser.shot("tasklist-opd-pupr")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)  # the form shows the report
    claim_if_needed(browser)
    browser.click_text("Tanggapi dan tindak lanjuti", css="label")
    # Leaving the field (Tab) is what hands the text to form-js, which takes typing in with a delay.
    browser.driver.find_element(By.CSS_SELECTOR, "textarea[name=responseText], textarea").send_keys(
        "Tim PUPR menambal jalan minggu ini.", Keys.TAB
    )
    browser.shot("tanggapan-opd-filled")
    await complete_in_tasklist(browser, operaton, task.id)

    await status_becomes(worker_deps, report, ReportStatus.PROSES)
    assert ("tanggapan", "Tim PUPR menambal jalan minggu ini.") in [
        (kind, text) for kind, text in opd_messages(worker_deps, report)
    ] or any("Tim PUPR" in text for _, text in opd_messages(worker_deps, report))
    browser.shot("after-complete")


async def test_another_opd_sees_no_task_and_cannot_open_puprs(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await submit(lapor_process, worker_deps, category="JALAN")
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    task = await open_task(operaton, report, "OpdResponseTask")
    for leftover in operaton.tasks(candidate_group="opd-dlh"):  # DLH's own reports of earlier tests: a clean slate
        operaton.cancel(leftover.process_instance_id)

    await asyncio.to_thread(browser.login, "tasklist", "opd-dlh")
    browser.wait_text("Tugas OPD saya")
    browser.wait_text("Tidak ada tugas yang sesuai dengan filter.")
    browser.shot("tasklist-opd-dlh-empty")
    with login(engine, "opd-dlh") as dlh:
        assert dlh.tasks() == []
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    await asyncio.to_thread(browser.wait_text, "Tugas tidak ada atau Anda tidak berhak membukanya", timeout=30)
    assert report.tracking_id not in browser.text()
    browser.shot("tasklist-opd-dlh-pupr-task")


async def test_admin_pengaduan_verifies_a_report_in_tasklist(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await submit(lapor_process, worker_deps, category="SAMPAH")
    task = await open_task(operaton, report, "VerifyReportTask")

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    browser.wait_text("Verifikasi")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    # The form's summary in words staff know, not master-data codes (the task's name and card name the report too).
    shown = await asyncio.to_thread(form_text, browser, report.tracking_id)
    for words in ("Kategori: " + masterdata.get_category("SAMPAH").name, "Kecamatan: Pontianak Selatan"):
        assert words in shown, shown
    assert "Kelurahan: " + masterdata.get_kelurahan("61.71.01.1002").name in shown
    assert "61.71.01" not in shown and "SAMPAH" not in shown
    claim_if_needed(browser)
    await asyncio.to_thread(submit_until_refused, browser)  # nothing chosen yet: refused, in Bahasa Indonesia
    assert "Field is required" not in browser.text()
    browser.shot("verifikasi-wajib-diisi")
    browser.click_text("Lengkap dan kewenangan Pemkot", css="label")
    # The report's type, as submitted, and staff correct it: the reporter asked for something, not complained.
    assert "Jenis laporan" in browser.text()
    chosen = browser.wait_for(".fjs-select-display")
    assert chosen.text == "Pengaduan"
    # form-js opens its list and takes an item on a real mouse press, not on a script click.
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", chosen)
    ActionChains(browser.driver).move_to_element(chosen).click().perform()
    browser.wait_for(".fjs-dropdownlist-item")
    [aspirasi] = [
        i for i in browser.driver.find_elements(By.CSS_SELECTOR, ".fjs-dropdownlist-item") if i.text == "Aspirasi"
    ]
    ActionChains(browser.driver).move_to_element(aspirasi).click().perform()
    WebDriverWait(browser.driver, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".fjs-select-display").text == "Aspirasi"
    )
    browser.shot("verifikasi-filled")
    await complete_in_tasklist(browser, operaton, task.id)

    dispatch = await open_task(operaton, report, "DispatchReportTask")  # verified: on to disposition
    variables = operaton.variables(report.process_instance_id)
    assert (variables["verificationResult"], variables["reportType"]) == ("lengkap", "aspirasi")
    assert operaton.candidate_groups(dispatch.id) == ["admin-pengaduan", "analis", "kepala-bidang"]


async def test_koordinator_sees_reports_and_retries_an_incident_in_cockpit(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    healthy = worker_deps.notifier
    # Nothing listens on port 9: the notification fails
    worker_deps.notifier = replace(healthy, channels=(email_channel_to(9),))
    try:
        report = await submit(lapor_process, worker_deps)
        incident = await skip_backoff_until_incident(operaton, report)
    finally:
        worker_deps.notifier = healthy

    await asyncio.to_thread(browser.login, "cockpit", "koordinator")
    browser.wait_text("Insiden terbuka")  # the dashboard, in Bahasa Indonesia
    browser.shot("cockpit-dashboard")
    await asyncio.to_thread(
        browser.open, "cockpit", f"#/process-instance/{report.process_instance_id}/runtime?tab=incidents-tab"
    )
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    browser.wait_text("NotificationDeliveryError", timeout=30)
    browser.shot("cockpit-incident")
    retry = browser.wait_for("a[ng-click^='openExternalTaskRetryDialog']")
    retry.click()
    browser.click_text("Coba lagi", css="button")
    browser.wait_text("Jumlah percobaan ulang berhasil ditambah", timeout=30)
    browser.shot("cockpit-retried")
    await open_task(operaton, report, "VerifyReportTask")  # the notification went out on the retry
    assert not operaton.incidents(process_instance_id=report.process_instance_id)
    assert incident.incident_type == "failedExternalTask"

    # Read-only otherwise: suspending and adding a variable in Cockpit are refused, and nothing changes.
    suspend = browser.wait_for("a.btn-suspend-action")
    browser.driver.execute_script("arguments[0].click();", suspend)
    browser.wait_text("Tangguhkan instans proses")
    browser.click_text("Tangguhkan", css=".modal-footer button[type=submit]")
    await asyncio.to_thread(browser.wait_text, 'tidak dapat diubah menjadi "ditangguhkan"', timeout=30)
    browser.shot("cockpit-suspend-refused")
    browser.click_text("OK", css=".modal-footer button")
    add_variable = browser.wait_for(".btn-toolbar .glyphicon-plus")
    browser.driver.execute_script("arguments[0].closest('a').click();", add_variable)
    browser.wait_for("#variableNameId").send_keys("catatanKoordinator")
    browser.wait_for(".add-variable-dialog textarea").send_keys("diubah")  # a String value
    browser.click_text("Tambah", css=".modal-footer button")
    await asyncio.to_thread(browser.wait_text, "tidak dapat ditambahkan ke instans proses", timeout=30)
    browser.shot("cockpit-add-variable-refused")
    assert not operaton.instance(report.process_instance_id).suspended
    assert "catatanKoordinator" not in operaton.variables(report.process_instance_id)

    with login(engine, "koordinator") as koordinator:
        with pytest.raises(EngineAuthError) as refused:
            koordinator.cancel(report.process_instance_id)
        assert refused.value.status_code == 403
    await eventually(lambda: operaton.running_instances("lapor-pengaduan", business_key=report.tracking_id))


async def test_the_administrator_adds_a_dlh_liaison_and_resets_her_password_in_admin_then_she_works_in_tasklist(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """docs/operations.md, "Adding a user" and "Resetting a password", done as written in Admin; the new liaison logs
    in to Tasklist and sees DLH's report, and only that."""
    report = await submit(lapor_process, worker_deps, category="SAMPAH")
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "DLH", "dispatchNote": ""})
    task = await open_task(operaton, report, "OpdResponseTask")
    for leftover in operaton.tasks(candidate_group="opd-dlh"):  # DLH's reports of earlier tests: a clean slate
        if leftover.id != task.id:
            operaton.cancel(leftover.process_instance_id)
    user, password = "dlh-rina", "Rahasia-DLH-2026"
    try:
        await asyncio.to_thread(browser.login, "admin", "admin")
        browser.wait_text("Pengguna")
        await asyncio.to_thread(browser.open, "admin", "#/user-create")
        browser.wait_text("Buat pengguna baru")
        browser.wait_for("#inputUserId").send_keys(user)
        browser.wait_for("#inputPassword").send_keys(password)
        browser.wait_for("#inputPasswordRepeat").send_keys(password)
        browser.wait_for("#inputFirstname").send_keys("Rina")
        browser.wait_for("#inputLastname").send_keys("Pejabat Penghubung DLH")
        browser.wait_for("#inputEmail").send_keys("rina.dlh@pontianak.go.id")
        browser.shot("admin-tambah-pengguna")
        browser.click_text("Buat pengguna baru", css="button")
        # Raw: the user Admin's page made by hand, which no lapor.process call looks up (the run provisions its own).
        await eventually(lambda: operaton.request("GET", "/user", params={"id": user}), within=20)

        await asyncio.to_thread(browser.open, "admin", f"#/users/{user}?tab=groups")
        browser.click_text("Tambahkan ke kelompok")
        browser.wait_text("Pilih kelompok")
        row = _group_row(browser, "opd-dlh")
        row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
        browser.shot("admin-pilih-kelompok")
        browser.click_text("Tambah kelompok", css=".modal-footer button")
        browser.wait_text("Pengguna telah ditambahkan ke kelompok terpilih.")
        browser.shot("admin-kelompok-ditambahkan")
        groups = operaton.request("GET", "/group", params={"member": user})  # raw, as above
        assert [g["id"] for g in groups] == ["opd-dlh"]

        # "Resetting a password": the administrator sets a new one, confirming with their own.
        renewed = "Baru-DLH-2026"
        await asyncio.to_thread(browser.open, "admin", f"#/users/{user}?tab=account")
        browser.wait_text("Ganti kata sandi")
        browser.wait_for("#inputAuthenticationUserPassword").send_keys("admin")
        browser.wait_for("#inputPassword").send_keys(renewed)
        browser.wait_for("#inputPasswordRepeat").send_keys(renewed)
        browser.click_text("Ganti kata sandi", css="button")
        browser.wait_text("Kata sandi telah diganti.")
        browser.shot("admin-kata-sandi-diganti")

        browser.driver.delete_all_cookies()  # a new person at the same browser
        await asyncio.to_thread(browser.login, "tasklist", user, renewed)
        browser.wait_text("Tugas OPD saya")
        await asyncio.to_thread(browser.wait_text, "Tanggapan OPD", timeout=30)
        browser.shot("tasklist-dlh-rina")
        with login(engine, user, renewed) as rina:
            assert [t.id for t in rina.tasks()] == [task.id]
        with login(engine, user, password) as old, pytest.raises(EngineAuthError) as refused:
            old.tasks()  # the old password is gone
        assert refused.value.status_code == 401
    finally:
        operaton.request("DELETE", f"/user/{user}")  # raw: LAPOR never deletes a person's login itself


def _group_row(browser: WebappBrowser, group: str) -> WebElement:
    """The group's row in Admin's "add to a group" dialog, paging on when it is not on the first page."""
    for _ in range(5):
        for row in browser.driver.find_elements(By.CSS_SELECTOR, ".modal-body tr"):
            cells = row.find_elements(By.CSS_SELECTOR, "td.group-id")
            if cells and cells[0].text.strip() == group:
                return row
        browser.click_text("›", css=".modal-body .pagination a")
    raise AssertionError(f"{group} is not offered in the dialog")


# -- Tasklist that staff can work in (issue 18, item 3) ----------------------------------------------------------
CITY = "LAPOR! Kota Pontianak"


def due_in_words(moment: datetime | None) -> str:
    """A task's due date as Tasklist now writes it, e.g. "Jumat, 18 Desember 2026" (Pontianak time)."""
    assert moment is not None
    local = moment.astimezone(PONTIANAK_TZ)
    return f"{DAY_NAMES[local.weekday()]}, {format_date(local.date())}"


def filter_fragment(operaton: EngineClient, name: str, tracking_id: str | None = None) -> str:
    """Tasklist's address of a filter, narrowed to one report by Tasklist's own URL search parameter."""
    # Raw: the filter's engine id, which only Tasklist's address needs (lapor.process provisions filters by name).
    [found] = operaton.request("GET", "/filter", params={"resourceType": "Task", "name": name})
    fragment = f"#/?filter={found['id']}"
    if tracking_id:
        search = [{"type": "processInstanceBusinessKey", "operator": "eq", "value": tracking_id, "name": ""}]
        fragment += "&searchQuery=" + quote(json.dumps(search))
    return fragment


def card_of(browser: WebappBrowser, tracking_id: str, *, showing: str = "Kelurahan:") -> WebElement:
    """The task card of a report in the list, once it shows `showing` (the variables arrive after the card)."""

    def find(d: WebDriver) -> WebElement | bool:
        for card in d.find_elements(By.CSS_SELECTOR, ".tasks-list li.task"):
            if tracking_id in card.text and showing in card.text:
                return card
        return False

    card = WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(find)
    assert isinstance(card, WebElement)
    return card


def displayed_texts(browser: WebappBrowser, css: str) -> list[str]:
    return [" ".join(e.text.split()) for e in browser.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


async def test_task_cards_and_the_task_header_show_the_report_and_its_due_date_in_words(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """The card says which report it is (lapor/roles.py CARD_VARIABLES, read through the task for a role that may not
    read the whole instance) and when it is due, in words; so does the task's header."""
    report = await submit(lapor_process, worker_deps, category="SAMPAH")
    task = await open_task(operaton, report, "VerifyReportTask")
    due = due_in_words(task.due)

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    browser.wait_text("Verifikasi")
    await asyncio.to_thread(browser.open, "tasklist", filter_fragment(operaton, "Verifikasi", report.tracking_id))
    card = await asyncio.to_thread(card_of, browser, report.tracking_id)
    shown = " ".join(card.text.split())
    assert f"Nomor laporan: {report.tracking_id}" in shown, shown
    assert f"Kategori: {masterdata.get_category('SAMPAH').name}" in shown, shown
    assert f"Kelurahan: {masterdata.get_kelurahan('61.71.01.1002').name}" in shown, shown
    assert f"Tenggat {due}" in shown, shown
    browser.shot("kartu-tugas")

    card.find_element(By.CSS_SELECTOR, "h4 a").click()
    header_due = browser.wait_for("[cam-tasklist-task-meta] .due-date [am-time-ago]")
    WebDriverWait(browser.driver, 20).until(lambda d: header_due.text == due)
    browser.shot("kepala-tugas-tenggat")


async def test_the_deploy_gives_filters_of_an_earlier_release_the_card_variables_once(
    operaton: EngineClient, provisioned: Settings
) -> None:
    """`python -m lapor.deploy` on an engine whose filters predate the card variables updates them, then leaves them."""
    # Raw: the filter written back as an earlier release stored it, which no current call would write.
    [verifikasi] = operaton.request("GET", "/filter", params={"resourceType": "Task", "name": "Verifikasi"})
    earlier = {key: value for key, value in verifikasi["properties"].items() if key != "variables"}
    body = {"resourceType": "Task", "name": "Verifikasi", "owner": None, "query": verifikasi["query"]}
    operaton.request("PUT", f"/filter/{verifikasi['id']}", json={**body, "properties": earlier})

    assert provision(operaton, identity_plan(provisioned), admin_password="admin").filters_updated == ["Verifikasi"]
    stored = operaton.request("GET", f"/filter/{verifikasi['id']}")["properties"]
    assert stored["variables"] == [{"name": v.name, "label": v.label} for v in CARD_VARIABLES]
    assert stored["showUndefinedVariable"] is False
    assert provision(operaton, identity_plan(provisioned), admin_password="admin").filters_updated == []


async def test_a_tracking_number_typed_in_the_search_box_finds_its_task(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """ "Nomor laporan" is the search's first and default type: typing a tracking number and Enter is enough."""
    other = await submit(lapor_process, worker_deps)
    report = await submit(lapor_process, worker_deps)
    await open_task(operaton, other, "VerifyReportTask")
    await open_task(operaton, report, "VerifyReportTask")

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    await asyncio.to_thread(browser.open, "tasklist", filter_fragment(operaton, "Verifikasi"))
    # The list has loaded (sorted by due date: with the session's other tests' open tasks, these two may sit on a
    # later page, which is what the search is for).
    browser.wait_for(".tasks-list li.task")
    box = browser.wait_for(".search-field input.main-field")
    assert box.get_attribute("placeholder") == "Cari nomor laporan"
    box.click()
    WebDriverWait(browser.driver, 10).until(lambda d: displayed_texts(browser, ".search-field .dropdown-menu li"))
    assert displayed_texts(browser, ".search-field .dropdown-menu li")[0] == "Nomor laporan"
    browser.shot("jenis-pencarian")
    box.send_keys(report.tracking_id, Keys.ENTER)

    def only_the_report(d: WebDriver) -> bool:
        cards = displayed_texts(browser, ".tasks-list li.task")
        return len(cards) == 1 and report.tracking_id in cards[0]

    wait = WebDriverWait(browser.driver, 30, ignored_exceptions=[StaleElementReferenceException])
    await asyncio.to_thread(wait.until, only_the_report)
    assert displayed_texts(browser, "[cam-widget-search-pill]")[0].startswith("Nomor laporan")
    search = parse_qs(urlsplit(urlsplit(browser.driver.current_url).fragment).query)["searchQuery"][0]
    assert json.loads(search)[0]["type"] == "processInstanceBusinessKey"
    fits = browser.driver.execute_script(
        """const button = document.querySelector('.match-any button');
           const label = document.querySelector('.match-any span');
           return [button.scrollWidth <= button.clientWidth,
                   button.getBoundingClientRect().right <= label.getBoundingClientRect().left];"""
    )
    assert fits == [True, True], fits  # "SEMUA" fits its button and does not run under "kriteria terpenuhi."
    browser.shot("ditemukan")


async def test_an_unclaimed_task_can_be_read_and_is_filled_in_once_claimed(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """No overlay over an unclaimed task's report: its text and links take the mouse; its fields wait for the claim."""
    report = await submit(lapor_process, worker_deps)
    task = await open_task(operaton, report, "VerifyReportTask")

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    browser.wait_text("tekan “Ambil tugas”")  # what to do, above the form
    link = browser.wait_for("[cam-tasklist-form] a[href*='/files/reports/']")
    on_top = """
        arguments[0].scrollIntoView({block: 'center'});
        const box = arguments[0].getBoundingClientRect();
        return arguments[0].contains(document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2));
    """
    assert browser.driver.execute_script(on_top, link), "something lies over the report's link"
    inputs = "[...document.querySelectorAll('[cam-tasklist-form] .fjs-form input')]"
    assert browser.driver.execute_script(f"return {inputs}.length > 0 && {inputs}.every(i => i.closest('[inert]'))")
    complete = browser.wait_for("[cam-tasklist-form] .form-actions .btn-primary")
    assert not complete.is_enabled()
    claim = browser.wait_for("[cam-tasklist-task-meta] button.claim")
    assert claim.is_displayed() and claim.text == "Ambil tugas"
    browser.shot("belum-diambil-terbaca")

    claim.click()
    await eventually(lambda: operaton.tasks(task_id=task.id, assignee="admin-pengaduan"))
    free = "return !document.querySelector('[cam-tasklist-form] [inert], .lapor-claim-hint')"
    WebDriverWait(browser.driver, 20).until(lambda d: d.execute_script(free))
    browser.shot("sudah-diambil")


async def test_links_in_a_task_form_open_in_a_new_tab(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """ "Buka detail laporan" opens the report's page beside Tasklist, which stays in its own tab."""
    report = await submit(lapor_process, worker_deps)
    task = await open_task(operaton, report, "VerifyReportTask")

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    link = browser.wait_for("[cam-tasklist-form] a[href*='/files/reports/']")
    WebDriverWait(browser.driver, 10).until(lambda d: link.get_attribute("target") == "_blank")
    assert "noopener" in (link.get_attribute("rel") or "")
    assert link.get_attribute("href") == operaton.variables(report.process_instance_id)["reportSummaryUrl"]
    tasklist, tabs = browser.driver.current_url, browser.driver.window_handles
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    WebDriverWait(browser.driver, 10).until(lambda d: len(d.window_handles) == len(tabs) + 1)
    assert browser.driver.current_url == tasklist
    browser.shot("tasklist-tetap")


def text_at(css: str) -> Callable[[WebDriver], str]:
    """For WebDriverWait: the text of the first element the selector finds, read anew each time."""
    return lambda d: str(d.find_element(By.CSS_SELECTOR, css).text)


async def test_the_city_name_is_on_the_login_page_and_in_the_header_of_every_webapp(browser: WebappBrowser) -> None:
    apps = ("tasklist", "cockpit", "admin", "welcome")
    login_brand, header_brand = text_at(".form-signin .lapor-brand"), text_at(".navbar-brand .brand-name")
    for app in apps:
        await asyncio.to_thread(browser.open, app)
        WebDriverWait(browser.driver, 20, ignored_exceptions=[NoSuchElementException]).until(
            lambda d: login_brand(d) == CITY
        )
        assert not browser.driver.find_element(By.CSS_SELECTOR, ".form-signin .login-logo").is_displayed()
        browser.shot(f"{app}-masuk")
    await asyncio.to_thread(browser.login, "tasklist", "admin")
    for app in apps:  # one session for all four
        await asyncio.to_thread(browser.open, app)
        WebDriverWait(browser.driver, 20, ignored_exceptions=[NoSuchElementException]).until(
            lambda d: header_brand(d).startswith(CITY + " ")
        )
        browser.shot(f"{app}-kepala")


async def test_only_the_administrator_may_create_a_task_or_start_a_process(
    browser: WebappBrowser, engine: LocalEngine, provisioned: Settings, operaton: EngineClient
) -> None:
    """Every role is refused by the engine (403) and sees neither button; the administrator sees both."""
    for user in (*STAFF_GROUPS, *opd_groups()):
        # Raw: what each role's login may try by hand; the engine itself must refuse it.
        with login(engine, user) as someone:
            with pytest.raises(EngineAuthError) as refused:
                someone.request("POST", "/task/create", json={"name": f"Tugas buatan {user}"})
            assert refused.value.status_code == 403, user
            for process in (PROCESS_ID, RECAP_PROCESS_ID):
                with pytest.raises(EngineAuthError) as refused:
                    someone.request("POST", f"/process-definition/key/{process}/start", json={})
                assert refused.value.status_code == 403, (user, process)
    assert operaton.request("GET", "/task", params={"nameLike": "Tugas buatan%"}) == []  # raw: by name, as tried

    buttons = "li.create-task-action, li.start-process-action"
    for user in ("opd-pupr", "admin-pengaduan"):
        browser.driver.delete_all_cookies()
        await asyncio.to_thread(browser.login, "tasklist", user)
        await asyncio.to_thread(browser.wait_idle)  # the engine has answered Tasklist's authorization checks
        browser.wait_for("[cam-widget-header] li.account")
        assert displayed_texts(browser, buttons) == [], user
        assert "Buat tugas" not in browser.text() and "Mulai proses" not in browser.text()
        browser.shot(f"tanpa-tombol-{user}")
    browser.driver.delete_all_cookies()
    await asyncio.to_thread(browser.login, "tasklist", "admin")
    WebDriverWait(browser.driver, 20).until(lambda d: len(displayed_texts(browser, buttons)) == 2)
    assert displayed_texts(browser, buttons) == ["Buat tugas", "Mulai proses"]
    browser.shot("administrator-dengan-tombol")


async def test_the_footer_covers_no_field_and_no_button_at_1366x768(
    browser: WebappBrowser, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    report = await submit(lapor_process, worker_deps)
    task = await open_task(operaton, report, "VerifyReportTask")
    browser.viewport(1366, 768)

    await asyncio.to_thread(browser.login, "tasklist", "admin-pengaduan")
    await asyncio.to_thread(browser.open, "tasklist", f"#/?task={task.id}")
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    claim_if_needed(browser)
    browser.wait_for("[cam-tasklist-form] .fjs-form-field")
    assert browser.driver.execute_script("return [innerWidth, innerHeight]") == [1366, 768]
    bottom_of_everything = """
        document.querySelectorAll('.three-cols-layout-cell.content').forEach(c => { c.scrollTop = c.scrollHeight; });
        const fields = document.querySelectorAll('[cam-tasklist-form] .fjs-form-field');
        const box = e => e.getBoundingClientRect().toJSON();
        return {
          footer: box(document.querySelector('footer[cam-widget-footer]')),
          complete: box(document.querySelector('[cam-tasklist-form] .form-actions .btn-primary')),
          lastField: box(fields[fields.length - 1]),
        };
    """
    boxes = browser.driver.execute_script(bottom_of_everything)
    browser.shot("formulir-paling-bawah")
    footer_top = boxes["footer"]["top"]
    assert boxes["complete"]["bottom"] <= footer_top, boxes
    assert boxes["lastField"]["bottom"] <= footer_top, boxes


async def test_the_koordinator_sees_who_holds_a_report_in_cockpit(
    browser: WebappBrowser, engine: LocalEngine, lapor_process: EngineClient, operaton: EngineClient, worker_deps: Deps
) -> None:
    """Issue 20, 1 (supervisors read every task): the OPD's open task, who holds it and by when, in the instance's
    user-task tab and on the human-task page, in Bahasa Indonesia; changing it stays refused (tests/e2e)."""
    report = await submit(lapor_process, worker_deps)
    await complete_task(operaton, engine, report, "VerifyReportTask", {"verificationResult": "lengkap"})
    await complete_task(operaton, engine, report, "DispatchReportTask", {"opdCode": "PUPR", "dispatchNote": ""})
    task = await open_task(operaton, report, "OpdResponseTask")
    operaton.claim(task.id, "opd-pupr")

    await asyncio.to_thread(browser.login, "cockpit", "koordinator")
    browser.wait_text("Insiden terbuka")
    tab = f"#/process-instance/{report.process_instance_id}/runtime?tab=user-tasks-tab"
    await asyncio.to_thread(browser.open, "cockpit", tab)
    await asyncio.to_thread(browser.wait_text, report.tracking_id, timeout=30)
    row = await asyncio.to_thread(browser.wait_for, "[process-instance-user-tasks] tbody tr, .user-tasks tbody tr")
    WebDriverWait(browser.driver, 30).until(lambda d: "opd-pupr" in row.text)  # the liaison who holds it
    assert "Tanggapan OPD" in row.text and task.id in row.text, row.text
    assert due_in_words(task.due) + " pukul 23.59" in row.text, row.text  # in words, not 2026-12-21T23:59:59
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", row.text), row.text
    assert "READ" not in browser.text() and "permission" not in browser.text()
    browser.shot("cockpit-tugas-pengguna")

    await asyncio.to_thread(browser.open, "cockpit", "#/tasks")
    await asyncio.to_thread(browser.wait_text, "ditugaskan ke pengguna", timeout=30)  # counted, not refused
    page = browser.text()
    assert "does not have" not in page and "tidak dapat diambil tidak dapat diambil" not in page, page
    browser.shot("cockpit-tugas-manusia")
    operaton.cancel(report.process_instance_id)
