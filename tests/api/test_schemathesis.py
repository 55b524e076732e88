"""Property-based run over the OpenAPI schema, in process, with every schemathesis check on every operation.

Derandomized and bounded (the same examples on every run). Schema-valid input may still be refused for a
business rule JSON Schema cannot state; `accepts_valid_data` allows exactly those refusals, by their error code.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from sqlalchemy import create_engine

from api.main import create_app
from tests.api.conftest import NATIONAL_TOKEN, STAFF_TOKEN, ApiTestSettings, Person

# The schema is read at collection time; each test then points this app at its own database and channels.
# (schemathesis.pytest.from_fixture would say this more directly, but 4.32 does not run under pytest 9.)
schema_app = create_app(
    ApiTestSettings(environment="test", data_dir=Path("/nonexistent")),
    db=create_engine("sqlite://"),
    run_dispatcher=False,
)
config = SchemathesisConfig.from_dict(
    # GeoReport v2 answers a missing or wrong api_key with 403 (its spec); everything else with 401.
    {"checks": {"missing_required_header": {"expected-statuses": [401, 403]}}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", schema_app, config=config)

# Refusals of schema-valid input that no JSON Schema can express: a photo's bytes, a kecamatan-kelurahan pair,
# a date relative to today, a code that expired, an Open311 location given neither as address nor as point.
BUSINESS_RULES = {
    (415, "unsupported_file_type"),
    (413, "file_too_large"),
    (422, "unknown_location"),
    (422, "invalid_incident_date"),
    (422, "photos_required"),
    (400, "invalid_code"),
    (404, "registration_not_found"),
    (410, "code_expired"),
}
OPEN311_RULES = (
    "attribute[kelurahan] tidak dikenal",
    "Lokasi wajib",
    "Foto ke-",
    "start_date: tanggal di luar",
    "end_date: tanggal di luar",
)


def _business_refusal(status: int, body: Any) -> bool:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return (status, body["error"].get("code")) in BUSINESS_RULES
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return status in (400, 413, 415) and str(body[0].get("description", "")).startswith(OPEN311_RULES)
    return False


def accepts_valid_data(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """positive_data_acceptance, except for the business rules above."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if _business_refusal(response.status_code, body):
        return None
    return positive_data_acceptance(ctx, response, case)


@pytest.fixture(autouse=True)
def _wired(app: FastAPI) -> Iterator[None]:
    """The test's database, SMTP server, SMS gateway and upload directory (see tests/api/conftest.py)."""
    placeholder = schema_app.state.context
    schema_app.state.context = app.state.context
    yield
    schema_app.state.context = placeholder


def credentials_for(case: schemathesis.Case, citizen: Person) -> dict[str, str]:
    """Each endpoint with the credential it expects, so the run gets past authentication; a negative case
    that leaves the Authorization header out on purpose keeps it out."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative and "Authorization" not in (case.headers or {}):
        return {}
    if case.path.startswith("/intake/staff"):
        return {"Authorization": f"Bearer {STAFF_TOKEN}"}
    if case.path.startswith("/intake/national"):
        return {"Authorization": f"Bearer {NATIONAL_TOKEN}"}
    return citizen.auth


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,  # the same examples on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_check_on_every_operation(case: schemathesis.Case, citizen: Person) -> None:
    case.call_and_validate(
        headers=credentials_for(case, citizen),
        excluded_checks=[positive_data_acceptance],
        additional_checks=[accepts_valid_data],
    )
