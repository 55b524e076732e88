"""Database fixtures of the unit tests: the migrated test database, emptied before every test."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lapor.db import session_scope
from tests.support.database import emptied

SessionFactory = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def db_engine(db_engine: Engine) -> Iterator[Engine]:
    """The suite's database (tests/conftest.py: SQLite file, or LAPOR_TEST_DATABASE_URL), with no rows."""
    yield emptied(db_engine)


@pytest.fixture
def session_factory(db_engine: Engine) -> SessionFactory:
    """Like lapor.db.session_scope: one committed transaction per `with` block, on the test database."""
    return partial(session_scope, db_engine)
