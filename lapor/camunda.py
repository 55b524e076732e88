"""Small client for the Camunda 8.6 REST API (v2): user tasks, process instances, incidents and the clock."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx


class CamundaRestError(RuntimeError):
    """The REST API answered with an error status."""

    def __init__(self, response: httpx.Response) -> None:
        request = response.request
        super().__init__(f"{request.method} {request.url.path} -> {response.status_code}: {response.text[:500]}")
        self.status_code = response.status_code


class CamundaRest:
    """Logs in like Operate's login page does (8.6 guards the REST API with the web apps' session)."""

    def __init__(self, base_url: str, *, username: str, password: str, timeout: float = 30.0) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout)
        self._username = username
        self._password = password
        self._logged_in = False

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "CamundaRest":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _login(self) -> None:
        response = self._client.post("/api/login", params={"username": self._username, "password": self._password})
        if response.status_code != 204:
            raise CamundaRestError(response)
        self._logged_in = True

    def _request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        if not self._logged_in:
            self._login()
        response = self._client.request(method, path, json=json)
        if response.status_code == 401:  # session expired: log in once more
            self._login()
            response = self._client.request(method, path, json=json)
        if response.status_code >= 400:
            raise CamundaRestError(response)
        return response

    # -- queries --------------------------------------------------------------------------------------------
    # 8.6's v2 search endpoints are alpha and miss records (user tasks created under a pinned clock, every
    # process instance on OpenSearch), so queries go to the Tasklist and Operate v1 APIs the web apps use.
    def user_tasks(self, **filter: Any) -> list[dict[str, Any]]:
        """Tasklist v1 task search, e.g. user_tasks(state="CREATED", processInstanceKey="...")."""
        body = {"pageSize": 200, **{k: str(v) if k.endswith("Key") else v for k, v in filter.items()}}
        tasks: list[dict[str, Any]] = self._request("POST", "/v1/tasks/search", body).json()
        return tasks

    def operate_search(self, resource: str, **filter: Any) -> list[dict[str, Any]]:
        """Operate v1 search: resource is process-instances, variables, incidents or flownode-instances."""
        body = {"filter": filter, "size": 1000}
        items: list[dict[str, Any]] = self._request("POST", f"/v1/{resource}/search", body).json()["items"]
        return items

    def process_instance(self, key: int) -> dict[str, Any] | None:
        found = self.operate_search("process-instances", key=key)
        return found[0] if found else None

    def variables(self, process_instance_key: int) -> dict[str, Any]:
        """Variables of an instance (all scopes), JSON-decoded."""
        items = self.operate_search("variables", processInstanceKey=process_instance_key)
        return {v["name"]: json.loads(v["value"]) for v in items}

    def topology(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v2/topology").json()
        return result

    # -- commands -------------------------------------------------------------------------------------------
    def complete_user_task(self, user_task_key: int | str, variables: Mapping[str, Any] | None = None) -> None:
        self._request("POST", f"/v2/user-tasks/{user_task_key}/completion", {"variables": dict(variables or {})})

    def assign_user_task(self, user_task_key: int | str, assignee: str) -> None:
        self._request("POST", f"/v2/user-tasks/{user_task_key}/assignment", {"assignee": assignee})

    def pin_clock(self, at: datetime) -> None:
        """Pin the engine clock (only when the engine runs with zeebe.clock.controlled=true)."""
        if at.tzinfo is None:
            raise ValueError("pin_clock needs a timezone-aware datetime")
        millis = int(at.timestamp() * 1000)
        # Tasklist 8.6.0 on OpenSearch cannot import a record stamped at a whole second (Java prints it without
        # a fraction, which its date mapping rejects, and its import then stalls), so never pin to .000.
        if millis % 1000 == 0:
            millis += 1
        self._request("PUT", "/v2/clock", {"timestamp": millis})

    def reset_clock(self) -> None:
        self._request("POST", "/v2/clock/reset")
