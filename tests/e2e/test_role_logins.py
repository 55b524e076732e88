"""The local run's logins for every SOP role work on the real engine, each in the webapp its role uses."""

import httpx
import pytest

from engine import LocalEngine
from lapor.roles import local_logins
from lapor.settings import Settings

pytestmark = pytest.mark.engine


def webapp_login(engine: LocalEngine, app: str, user: str, password: str) -> int:
    """What the login page of Tasklist, Cockpit or Admin does; the HTTP status it gets."""
    with httpx.Client(base_url=engine.base_url, timeout=30) as client:
        client.get(f"/operaton/app/{app}/default/")  # the page sets the session and CSRF cookies first
        token = client.cookies.get("XSRF-TOKEN")
        response = client.post(
            f"/operaton/api/admin/auth/user/default/login/{app}",
            data={"username": user, "password": password},
            headers={"X-XSRF-TOKEN": token} if token else {},
        )
        return response.status_code


@pytest.mark.usefixtures("provisioned")
def test_every_role_logs_in_to_the_rest_api(engine: LocalEngine) -> None:
    users = [user.id for user in local_logins()]
    assert {"admin-pengaduan", "analis", "kepala-bidang", "koordinator", "opd-pupr", "opd-dlh"} <= set(users)
    for user in users:
        answer = httpx.get(f"{engine.rest_url}/task", auth=(user, user), timeout=30)
        assert answer.status_code == 200, f"{user} cannot log in: {answer.text}"


@pytest.mark.usefixtures("provisioned")
def test_each_role_reaches_its_webapp_and_not_the_others(engine: LocalEngine, provisioned: Settings) -> None:
    assert webapp_login(engine, "tasklist", "admin-pengaduan", "admin-pengaduan") == 200
    assert webapp_login(engine, "tasklist", "opd-pupr", "opd-pupr") == 200
    assert webapp_login(engine, "cockpit", "koordinator", "koordinator") == 200
    assert webapp_login(engine, "cockpit", "opd-pupr", "opd-pupr") == 403  # OPDs have no Cockpit
    assert webapp_login(engine, "admin", "koordinator", "koordinator") == 403  # only administrators manage users
    assert webapp_login(engine, "tasklist", "opd-pupr", "salah") == 401
