"""Users, groups, memberships and authorizations in the engine, made to match a plan; idempotent.

Resource types and permissions are Operaton's (Camunda 7's) names; this module turns them into the REST shapes.
Only groups and authorizations this module created (marked by the `lapor` group type) are ever removed: a managed
group's grants on the resource types of `SYNCED_RESOURCES` are exactly the plan's, so a narrowed role loses what it
no longer needs; the engine's own authorizations (a group reading itself, candidate groups on tasks) stay.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

import structlog

from lapor.process.client import EngineClient, NotFound

log = structlog.get_logger(__name__)

TASK_FILTER_RESOURCE = "Task"
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


# Resource types whose grants to a managed group the plan owns entirely. FILTER only for `*`: the grants on single
# filters belong to lapor.process.filters.
SYNCED_RESOURCES = {
    Resource.APPLICATION,
    Resource.PROCESS_DEFINITION,
    Resource.PROCESS_INSTANCE,
    Resource.DEPLOYMENT,
    Resource.DECISION_DEFINITION,
    Resource.DECISION_REQUIREMENTS_DEFINITION,
    Resource.HISTORIC_TASK,
    Resource.HISTORIC_PROCESS_INSTANCE,
}


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


@dataclass(frozen=True)
class FilterVariable:
    """A process variable Tasklist shows on each task card of a filter, under its label."""

    name: str
    label: str


@dataclass(frozen=True)
class TaskFilter:
    """A named task query shown in Tasklist's left column; `query` is a REST task query (expressions allowed)."""

    name: str
    query: dict[str, object]
    groups: tuple[str, ...]
    description: str = ""
    priority: int = 0
    variables: tuple[FilterVariable, ...] = ()


@dataclass
class IdentityPlan:
    groups: list[Group] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    filters: list[TaskFilter] = field(default_factory=list)


@dataclass
class Provisioned:
    groups_created: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    grants_revoked: int = 0
    users_created: list[str] = field(default_factory=list)
    memberships_added: list[str] = field(default_factory=list)
    grants_written: int = 0
    filters_created: list[str] = field(default_factory=list)
    filters_updated: list[str] = field(default_factory=list)


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
        done.grants_revoked += _revoke_unplanned(client, group)
        for grant in _merged(group.grants):
            done.grants_written += ensure_grant(client, grant, group_id=group.id, exact=True)
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
            done.grants_written += ensure_grant(client, grant, user_id=user.id)
    _provision_filters(client, plan.filters, done)
    log.info(
        "identity.provisioned",
        groups_created=done.groups_created,
        groups_removed=done.groups_removed,
        users_created=done.users_created,
        memberships_added=len(done.memberships_added),
        grants_written=done.grants_written,
        grants_revoked=done.grants_revoked,
        filters_created=done.filters_created,
        filters_updated=done.filters_updated,
    )
    return done


def _provision_filters(client: EngineClient, filters: list[TaskFilter], done: Provisioned) -> None:
    """Create missing filters, bring changed ones back to the plan, and grant READ on each to its groups."""
    existing = {f["name"]: f for f in client.request("GET", "/filter", params={"resourceType": TASK_FILTER_RESOURCE})}
    for wanted in filters:
        body = {
            "resourceType": TASK_FILTER_RESOURCE,
            "name": wanted.name,
            "owner": None,
            "query": wanted.query,
            "properties": {
                "description": wanted.description,
                "priority": wanted.priority,
                "refresh": True,
                # The engine sends these variables with each task of the filter, and Tasklist shows them on its card;
                # one a task lacks is left out.
                "variables": [{"name": v.name, "label": v.label} for v in wanted.variables],
                "showUndefinedVariable": False,
            },
        }
        current = existing.get(wanted.name)
        if current is None:
            filter_id = client.request("POST", "/filter/create", json=body)["id"]
            done.filters_created.append(wanted.name)
        else:
            filter_id = current["id"]
            stored_query = {key: (current.get("query") or {}).get(key) for key in wanted.query}
            if stored_query != wanted.query or current.get("properties") != body["properties"]:
                client.request("PUT", f"/filter/{filter_id}", json=body)
                done.filters_updated.append(wanted.name)
        for group_id in wanted.groups:
            done.grants_written += ensure_grant(client, Grant(Resource.FILTER, filter_id, ("READ",)), group_id=group_id)


def set_password(client: EngineClient, user_id: str, password: str, *, admin_password: str) -> None:
    """Administrators may set any password; the REST API asks for the administrator's own password too."""
    body = {"password": password, "authenticatedUserPassword": admin_password}
    client.request("PUT", f"/user/{user_id}/credentials", json=body)


def unlock(client: EngineClient, user_id: str) -> None:
    client.request("POST", f"/user/{user_id}/unlock")


def ensure_grant(
    client: EngineClient,
    grant: Grant,
    *,
    group_id: str | None = None,
    user_id: str | None = None,
    exact: bool = False,
) -> int:
    """One GRANT authorization with these permissions (merged into an existing one, or replacing its permissions
    when `exact`); 1 when written."""
    query: dict[str, object] = {"type": 1, "resourceType": int(grant.resource), "resourceId": grant.resource_id}
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
    have = set(current.get("permissions") or [])
    if have == set(grant.permissions) or (not exact and have >= set(grant.permissions)):
        return 0
    body["permissions"] = sorted(set(grant.permissions) if exact else have | set(grant.permissions))
    client.request("PUT", f"/authorization/{current['id']}", json=body)
    return 1


def _merged(grants: Iterable[Grant]) -> list[Grant]:
    """One grant per resource: roles built from several parts (Tasklist + Cockpit) may name a resource twice."""
    permissions: dict[tuple[Resource, str], set[str]] = {}
    for grant in grants:
        permissions.setdefault((grant.resource, grant.resource_id), set()).update(grant.permissions)
    return [Grant(resource, resource_id, tuple(sorted(p))) for (resource, resource_id), p in permissions.items()]


def _revoke_unplanned(client: EngineClient, group: Group) -> int:
    """Delete the group's GRANTs on synced resource types (and FILTER `*`) that the plan no longer has."""
    planned = {(int(g.resource), g.resource_id) for g in group.grants}
    revoked = 0
    for auth in client.request("GET", "/authorization", params={"type": 1, "groupIdIn": group.id}):
        key = (auth["resourceType"], auth["resourceId"])
        synced = auth["resourceType"] in SYNCED_RESOURCES or key == (int(Resource.FILTER), "*")
        if synced and key not in planned:
            client.request("DELETE", f"/authorization/{auth['id']}")
            revoked += 1
    return revoked


def _remove_group(client: EngineClient, group_id: str) -> None:
    for auth in client.request("GET", "/authorization", params={"groupIdIn": group_id}):
        client.request("DELETE", f"/authorization/{auth['id']}")
    try:
        client.request("DELETE", f"/group/{group_id}")
    except NotFound:
        pass


def members(client: EngineClient, group_id: str) -> Iterable[str]:
    return [u["id"] for u in client.request("GET", "/user", params={"memberOfGroup": group_id})]
