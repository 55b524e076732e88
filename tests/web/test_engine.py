"""A report submitted on the web page reaches Admin Pengaduan's verification task in the real engine, and its
tracking page then shows the verification deadline in WIB."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine import LocalEngine  # noqa: F401 - the session fixture's type
from lapor.outbox import OutboxDispatcher
from lapor.process import EngineClient
from tests.api.test_engine import _open_task, cancel_afterwards, instance_id, lapor_workers, svc_api
from tests.conftest import Mailbox, eventually
from tests.web.conftest import text_of, web_register, web_submit

pytestmark = pytest.mark.engine

# The API tests' engine fixtures, for this module.
cancel_afterwards = cancel_afterwards
lapor_workers = lapor_workers
svc_api = svc_api


@pytest.mark.usefixtures("cancel_afterwards", "lapor_workers")
async def test_a_report_from_the_web_page_reaches_verification(
    client: TestClient, mailbox: Mailbox, db_engine: Engine, operaton: EngineClient, svc_api: EngineClient
) -> None:
    web_register(client, mailbox, "Siti Rahmawati", "siti.mesin@example.id")
    tracking_id = web_submit(client)
    assert await OutboxDispatcher(svc_api, db_engine).run_once() == 1
    instance = instance_id(db_engine, tracking_id)
    assert instance is not None
    task = await eventually(lambda: _open_task(operaton, instance, "VerifyReportTask", set()))
    assert task.process_instance_id == instance

    def deadline_shown() -> str | None:
        page = text_of(client.get(f"/lacak/{tracking_id}").text)
        return page if "Batas waktu verifikasi" in page else None

    page = await eventually(deadline_shown)
    assert re.search(r"Batas waktu verifikasi[^:]*: \w+, \d{1,2} \w+ \d{4} pukul \d{2}\.\d{2} WIB", page), page
    # The confirmation e-mail links to this page.
    mails = mailbox.to("siti.mesin@example.id", tracking_id)
    assert mails and f"/lacak/{tracking_id}" in str(mails[-1].get_payload(decode=True))
