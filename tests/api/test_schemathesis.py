"""Property-based run over the OpenAPI schema, in process: no input may make the API answer 5xx."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
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
schema = schemathesis.openapi.from_asgi("/openapi.json", schema_app)


@pytest.fixture(autouse=True)
def _wired(app: FastAPI) -> Iterator[None]:
    """The test's database, SMTP server, SMS gateway and upload directory (see tests/api/conftest.py)."""
    placeholder = schema_app.state.context
    schema_app.state.context = app.state.context
    yield
    schema_app.state.context = placeholder


def credentials_for(path: str, citizen: Person) -> dict[str, str]:
    """Each endpoint with the credential it expects, so the run gets past authentication."""
    if path.startswith("/intake/staff"):
        return {"Authorization": f"Bearer {STAFF_TOKEN}"}
    if path.startswith("/intake/national"):
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
def test_no_server_error(case: schemathesis.Case, citizen: Person) -> None:
    case.call_and_validate(headers=credentials_for(case.path, citizen), checks=[not_a_server_error])
