"""lapor.process.logins at the edges the real engine rarely shows (tests/api/test_front_desk.py signs in on it):
ids the engine would refuse anyway, a profile the user may not read, an engine that fails."""

# REST paths here are expectations, not calls: these tests check what lapor.process itself sends.
import base64

import httpx
import pytest

from lapor.process import EngineError
from lapor.process.logins import LoginRefused, check_login

GROUPS = {"groups": [{"id": "admin-pengaduan", "name": "Admin Pengaduan Daerah"}], "groupUsers": []}


def engine(profile: httpx.Response, seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/identity/groups"):
            return httpx.Response(200, json=GROUPS)
        return profile

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("user_id", ["", "../user", "admin pengaduan", "a" * 65, "admin/../../group"])
def test_an_id_the_engine_cannot_hold_is_refused_without_asking_it(user_id: str) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(LoginRefused):
        check_login("http://engine/engine-rest", user_id, "sandi", transport=engine(httpx.Response(200), seen))
    assert seen == []


def test_the_login_is_the_users_own_and_the_name_comes_from_the_profile() -> None:
    seen: list[httpx.Request] = []
    profile = httpx.Response(200, json={"id": "rina", "firstName": "Rina", "lastName": "Wulandari"})
    login = check_login("http://engine/engine-rest", "rina", "rahasia", transport=engine(profile, seen))
    assert (login.user_id, login.name, login.groups) == ("rina", "Rina Wulandari", ("admin-pengaduan",))
    own = "Basic " + base64.b64encode(b"rina:rahasia").decode()
    assert [r.headers["authorization"] for r in seen] == [own, own]
    assert seen[0].url.params["userId"] == "rina"


def test_a_profile_the_user_may_not_read_leaves_the_user_id_as_name() -> None:
    login = check_login("http://engine/engine-rest", "rina", "rahasia", transport=engine(httpx.Response(403), []))
    assert login.name == "rina" and login.groups == ("admin-pengaduan",)


def test_an_engine_error_is_not_taken_for_a_wrong_password() -> None:
    with pytest.raises(EngineError):  # the page says the engine does not answer, and counts no failed sign-in
        check_login("http://engine/engine-rest", "rina", "rahasia", transport=engine(httpx.Response(500), []))
