"""A staff member's own login checked by the engine: the same user id and password as in Tasklist.

The engine's identity service is the only password list; a page of the API signs staff in by asking the engine,
with the person's own credentials, which groups they belong to. The engine's login throttling (`loginMaxAttempts`,
`loginDelay*` in engine/src/main/resources/application.yaml) counts these attempts as it counts Tasklist's.
"""

import re
from dataclasses import dataclass

import httpx

from lapor.process.client import EngineAuthError, EngineClient

# The engine's own id rule (generalResourceWhitelistPattern in application.yaml); anything else is no user.
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class LoginRefused(Exception):
    """Wrong password, no such user, or a login the engine holds locked: the engine does not say which."""


@dataclass(frozen=True, slots=True)
class StaffLogin:
    user_id: str
    name: str
    groups: tuple[str, ...]


def check_login(
    base_url: str, user_id: str, password: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
) -> StaffLogin:
    """The engine's user behind this user id and password, with their name and groups; LoginRefused otherwise.

    `GET /identity/groups?userId=` as the user: the engine checks the password (401 when wrong, unknown or locked)
    and lists the groups the user may read, which are their own (the engine grants members READ on their group).
    `GET /user/{id}/profile` then gives the name (every user may read their own).
    """
    if not USER_ID.fullmatch(user_id) or not password:
        raise LoginRefused()
    with EngineClient(base_url, user=user_id, password=password, timeout=timeout, transport=transport) as engine:
        try:
            info = engine.request("GET", "/identity/groups", params={"userId": user_id})
            name = _name(engine, user_id)
        except EngineAuthError as refused:
            if refused.status_code == 401:
                raise LoginRefused() from None
            raise
    groups = tuple(sorted(str(g["id"]) for g in info.get("groups", []) if g.get("id")))
    return StaffLogin(user_id=user_id, name=name or user_id, groups=groups)


def _name(engine: EngineClient, user_id: str) -> str:
    """First and last name; empty when the user may not read their own profile (a grant taken away in Admin)."""
    try:
        profile = engine.request("GET", f"/user/{user_id}/profile")
    except EngineAuthError as refused:
        if refused.status_code == 403:
            return ""
        raise
    return " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p).strip()


__all__ = ["USER_ID", "LoginRefused", "StaffLogin", "check_login"]
