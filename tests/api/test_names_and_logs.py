"""Names private unless the reporter chose otherwise; private replies and secrets out of public view and logs."""

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lapor.models import ReportStatus
from tests.api.conftest import REPORT_FIELDS, STAFF_TOKEN, Clock, Person, photo_files, set_status, submit


def _public_names(client: TestClient, tracking_id: str) -> tuple[str | None, str | None]:
    feed = {i["tracking_id"]: i for i in client.get("/public/reports?page_size=100").json()["items"]}
    return feed[tracking_id]["reporter_name"], client.get(f"/reports/{tracking_id}").json()["reporter_name"]


def test_a_name_is_public_only_when_the_reporter_chose_so(
    client: TestClient, citizen: Person, db_engine: Engine
) -> None:
    private = submit(client, citizen)
    shown = submit(client, citizen, show_name=True)
    shown_but_anonymous = submit(client, citizen, show_name=True, anonymous=True)
    for tracking_id in (private, shown, shown_but_anonymous):
        set_status(db_engine, tracking_id, ReportStatus.PROSES)
    assert _public_names(client, private) == (None, None)
    assert _public_names(client, shown) == (citizen.name, citizen.name)
    assert _public_names(client, shown_but_anonymous) == (None, None)
    owner = client.get(f"/reports/{private}", headers=citizen.auth).json()
    assert owner["reporter_name"] == citizen.name and owner["show_name"] is False


@pytest.mark.parametrize(("choice", "public"), [({}, None), ({"show_name": "true"}, "Rina Wulandari")])
def test_staff_intake_records_the_reporters_choice(
    client: TestClient, db_engine: Engine, choice: dict[str, str], public: str | None
) -> None:
    answer = client.post(
        "/intake/staff",
        data={**REPORT_FIELDS, "source": "tatap_muka", "reporter_name": "Rina Wulandari", **choice},
        files=photo_files(1),
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert answer.status_code == 201, answer.text
    tracking_id = answer.json()["tracking_id"]
    set_status(db_engine, tracking_id, ReportStatus.PROSES)
    assert _public_names(client, tracking_id) == (public, public)


def test_a_comment_does_not_move_the_public_timestamp(
    client: TestClient, citizen: Person, db_engine: Engine, api_clock: Clock
) -> None:
    tracking_id = submit(client, citizen)
    set_status(db_engine, tracking_id, ReportStatus.PROSES, at=api_clock.now)
    before = client.get(f"/reports/{tracking_id}").json()["updated_at"]
    api_clock.advance(timedelta(hours=5))
    assert client.post(
        f"/reports/{tracking_id}/comments", json={"text": "Sudah lama."}, headers=citizen.auth
    ).is_success
    assert client.get(f"/reports/{tracking_id}").json()["updated_at"] == before
    feed = client.get("/public/reports").json()["items"]
    assert [i["updated_at"] for i in feed if i["tracking_id"] == tracking_id] == [before]
    assert client.get(f"/reports/{tracking_id}", headers=citizen.auth).json()["updated_at"] != before  # the owner's


def test_query_strings_are_scrubbed_from_the_access_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    # What uvicorn's access logger writes for every request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:50000",
        "POST",
        "/open311/v2/requests.json?api_key=lpr_rahasia&status=open",
        "1.1",
        201,
    )
    assert "lpr_rahasia" not in caplog.text
    assert "/open311/v2/requests.json?api_key=***&status=***" in caplog.text
