"""The test database's one way of starting clean, and of lifting the audit trail's guard for a tampering test."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from lapor.db import Base


def emptied(engine: Engine) -> Engine:
    """Every table of `engine` without rows, children first; the engine, for a fixture to yield.

    Emptying beats drop/create per test: the schema stays the one the Alembic migrations built."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return engine


@contextmanager
def audit_unguarded(engine: Engine) -> Iterator[Engine]:
    """The audit trail's append-only trigger lifted while the block runs, as an intruder with the owner's login could
    lift it; put back after (PostgreSQL disables and enables it, SQLite drops and recreates it)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_entries_append_only"))
    try:
        yield engine
    finally:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
            else:
                connection.execute(
                    text(
                        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries "
                        "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
                    )
                )
