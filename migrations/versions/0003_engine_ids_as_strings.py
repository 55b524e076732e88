"""engine ids as strings: Operaton's process instance and external task ids are text, not numeric keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)


def _foreign_keys_off_on_sqlite() -> None:
    """SQLite's batch mode drops and recreates `reports`, which every other table points at.

    Foreign keys are switched off for this (throwaway) migration connection, as Alembic's batch docs advise: a
    deferred check does not help, since SQLite counts the rows the drop orphans and never uncounts them. SQLite
    ignores the pragma inside a transaction; Alembic runs each SQLite migration in its own, begun lazily.
    """
    if op.get_context().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys = OFF")


def upgrade() -> None:
    # Batch mode: SQLite copies the tables (CAST to text), PostgreSQL alters them in place (USING ...::text).
    _foreign_keys_off_on_sqlite()
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column(
            "process_instance_key",
            new_column_name="process_instance_id",
            existing_type=sa.BigInteger(),
            type_=ID,
            existing_nullable=True,
            postgresql_using="process_instance_key::text",
        )
    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.alter_column(
            "job_key",
            new_column_name="task_id",
            existing_type=sa.BigInteger(),
            type_=ID,
            existing_nullable=True,
            postgresql_using="job_key::text",
        )
    if op.get_context().dialect.name == "postgresql":
        # The unique constraint follows the column; its name should too (what a fresh `task_id UNIQUE` gets).
        op.execute("ALTER TABLE report_events RENAME CONSTRAINT report_events_job_key_key TO report_events_task_id_key")


def downgrade() -> None:
    _foreign_keys_off_on_sqlite()  # first: the updates below begin the transaction
    # Operaton's ids are not numbers: they cannot go back into the old numeric key column, so they are dropped.
    postgresql = op.get_context().dialect.name == "postgresql"
    not_a_number = "!~ '^[0-9]+$'" if postgresql else "GLOB '*[^0-9]*'"
    op.execute(f"UPDATE reports SET process_instance_id = NULL WHERE process_instance_id {not_a_number}")  # noqa: S608
    op.execute(f"UPDATE report_events SET task_id = NULL WHERE task_id {not_a_number}")  # noqa: S608
    if postgresql:
        op.execute("ALTER TABLE report_events RENAME CONSTRAINT report_events_task_id_key TO report_events_job_key_key")
    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.alter_column(
            "task_id",
            new_column_name="job_key",
            existing_type=ID,
            type_=sa.BigInteger(),
            existing_nullable=True,
            postgresql_using="task_id::bigint",
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column(
            "process_instance_id",
            new_column_name="process_instance_key",
            existing_type=ID,
            type_=sa.BigInteger(),
            existing_nullable=True,
            postgresql_using="process_instance_id::bigint",
        )
