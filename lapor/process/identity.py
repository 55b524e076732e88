"""Users, groups, memberships and authorizations in the engine, made to match a plan; idempotent.

Resource types and permissions are Operaton's (Camunda 7's) names; this module turns them into the REST shapes.
Only groups and authorizations this module created (marked by the `lapor` group type) are ever removed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import structlog

from lapor.process.client import EngineClient, NotFound

log = structlog.get_logger(__name__)

MANAGED_GROUP_TYPE = "lapor"  # groups this project manages; others (e.g. operaton-admin) are left alone
ADMIN_GROUP = "operaton-admin"  # the engine's administrators group: Admin and every permission


class Resource(IntEnum):
    APPLICATION = 0
    USER = 1
    GROUP = 2
    GROUP_MEMBERSHIP = 3
    AUTHORIZATION = 4
    FILTER = 5
    PROCESS_DEFINITION = 6
    TASK = 7
    PROCESS_INSTANCE = 8
    DEPLOYMENT = 9
    DECISION_DEFINITION = 10
    DECISION_REQUIREMENTS_DEFINITION = 14
    HISTORIC_TASK = 19
    HISTORIC_PROCESS_INSTANCE = 20


@dataclass(frozen=True)
class Grant:
    """Permissions of a group (or a user) on a resource type, for one resource id or `*`."""

    resource: Resource
    resource_id: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class User:
    id: str
    first_name: str
    last_name: str
    password: str
    groups: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()  # for service accounts, granted to the user itself
    email: str = ""


@dataclass
class IdentityPlan:
    groups: list[Group] = field(default_factory=list)
    users: list[User] = field(default_factory=list)


@dataclass
class Provisioned:
    groups_created: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    memberships_added: list[str] = field(default_factory=list)
    grants_written: int = 0


def provision(client: EngineClient, plan: IdentityPlan, *, admin_password: str | None = None) -> Provisioned:
    """Create what the plan has and the engine lacks; remove managed groups the plan no longer has.

    Existing users keep their passwords (an administrator may have changed them in Admin), except the service
    accounts' (`admin_password` given): their passwords come from settings, so they are set on every run.
    """
    done = Provisioned()
    existing_groups = {g["id"]: g for g in client.request("GET", "/group", params={"maxResults": 10000})}
    wanted = {g.id for g in plan.groups}
    for group in plan.groups:
        if group.id not in existing_groups:
            client.request(
                "POST", "/group/create", json={"id": group.id, "name": group.name, "type": MANAGED_GROUP_TYPE}
            )
            done.groups_created.append(group.id)
        for grant in group.grants:
            done.grants_written += _ensure_grant(client, grant, group_id=group.id)
    for group_id, group in existing_groups.items():
        if group.get("type") == MANAGED_GROUP_TYPE and group_id not in wanted:
            _remove_group(client, group_id)
            done.groups_removed.append(group_id)

    existing_users = {u["id"] for u in client.request("GET", "/user", params={"maxResults": 10000})}
    for user in plan.users:
        if user.id not in existing_users:
            client.request(
                "POST",
                "/user/create",
                json={
                    "profile": {
                        "id": user.id,
                        "firstName": user.first_name,
                        "lastName": user.last_name,
                        "email": user.email,
                    },
                    "credentials": {"password": user.password},
                },
            )
            done.users_created.append(user.id)
        elif admin_password is not None and user.id.startswith("svc-"):
            set_password(client, user.id, user.password, admin_password=admin_password)
        members_of = {g["id"] for g in client.request("GET", "/group", params={"member": user.id})}
        for group_id in user.groups:
            if group_id not in members_of:
                client.request("PUT", f"/group/{group_id}/members/{user.id}")
                done.memberships_added.append(f"{user.id}@{group_id}")
        for grant in user.grants:
            done.grants_written += _ensure_grant(client, grant, user_id=user.id)
    log.info(
        "identity.provisioned",
        groups_created=done.groups_created,
        groups_removed=done.groups_removed,
        users_created=done.users_created,
        memberships_added=len(done.memberships_added),
        grants_written=done.grants_written,
    )
    return done


def set_password(client: EngineClient, user_id: str, password: str, *, admin_password: str) -> None:
    """Administrators may set any password; the REST API asks for the administrator's own password too."""
    body = {"password": password, "authenticatedUserPassword": admin_password}
    client.request("PUT", f"/user/{user_id}/credentials", json=body)


def unlock(client: EngineClient, user_id: str) -> None:
    client.request("POST", f"/user/{user_id}/unlock")


def _ensure_grant(
    client: EngineClient, grant: Grant, *, group_id: str | None = None, user_id: str | None = None
) -> int:
    """One GRANT authorization with exactly these permissions (merged into an existing one); 1 when written."""
    query: dict[str, Any] = {"type": 1, "resourceType": int(grant.resource), "resourceId": grant.resource_id}
    if group_id:
        query["groupIdIn"] = group_id
    else:
        query["userIdIn"] = user_id
    found = client.request("GET", "/authorization", params=query)
    body = {
        "type": 1,
        "permissions": sorted(grant.permissions),
        "resourceType": int(grant.resource),
        "resourceId": grant.resource_id,
        "groupId": group_id,
        "userId": user_id,
    }
    if not found:
        client.request("POST", "/authorization/create", json=body)
        return 1
    current = found[0]
    if set(current.get("permissions") or []) >= set(grant.permissions):
        return 0
    body["permissions"] = sorted(set(current.get("permissions") or []) | set(grant.permissions))
    client.request("PUT", f"/authorization/{current['id']}", json=body)
    return 1


def _remove_group(client: EngineClient, group_id: str) -> None:
    for auth in client.request("GET", "/authorization", params={"groupIdIn": group_id}):
        client.request("DELETE", f"/authorization/{auth['id']}")
    try:
        client.request("DELETE", f"/group/{group_id}")
    except NotFound:
        pass


def members(client: EngineClient, group_id: str) -> Iterable[str]:
    return [u["id"] for u in client.request("GET", "/user", params={"memberOfGroup": group_id})]
