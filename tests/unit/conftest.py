"""Database fixtures of the unit tests: the migrated test database, emptied before every test."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from lapor.db import Base, session_scope

SessionFactory = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def db_engine(db_engine: Engine) -> Iterator[Engine]:
    """The suite's database (tests/conftest.py: SQLite file, or LAPOR_TEST_DATABASE_URL), with no rows."""
    # Emptying beats drop/create per test: the schema stays the one the Alembic migrations built.
    with db_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    yield db_engine


@pytest.fixture
def session_factory(db_engine: Engine) -> SessionFactory:
    """Like lapor.db.session_scope: one committed transaction per `with` block, on the test database."""
    return partial(session_scope, db_engine)
