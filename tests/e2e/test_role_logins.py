"""The local run's logins for every SOP role work on the real engine."""

import httpx
import pytest

from engine import LocalEngine
from engine.users import create_role_users, role_users

pytestmark = pytest.mark.engine


def test_every_role_can_log_in_to_operate_and_tasklist(engine: LocalEngine) -> None:
    created = create_role_users(engine.opensearch_url)
    assert {"admin-pengaduan", "analis", "kepala-bidang", "opd-pupr", "opd-dlh"} <= set(created)
    assert set(created) == set(role_users())
    for user_id in ("admin-pengaduan", "opd-pupr"):
        with httpx.Client(base_url=engine.rest_url, timeout=30) as client:
            login = client.post("/api/login", params={"username": user_id, "password": user_id})
            assert login.status_code == 204, f"{user_id} cannot log in: {login.text}"
            assert client.post("/v1/tasks/search", json={}).status_code == 200
        with httpx.Client(base_url=engine.rest_url, timeout=30) as client:
            wrong = client.post("/api/login", params={"username": user_id, "password": "salah"})
            assert wrong.status_code == 401
