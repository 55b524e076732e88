"""The test database's one way of starting clean."""

from sqlalchemy import Engine

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from lapor.db import Base


def emptied(engine: Engine) -> Engine:
    """Every table of `engine` without rows, children first; the engine, for a fixture to yield.

    Emptying beats drop/create per test: the schema stays the one the Alembic migrations built."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return engine
