"""deadline_starts: how each running deadline's length was counted (the model's `unit` property, issue 21)

The SLA lengths moved from the settings into the process model, where a designer may also change a deadline from
working days to calendar days; recompute must keep counting a running deadline the way it started. Rows written
before this revision follow the SOP: the supplement and the citizen's confirmation count calendar days.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALENDAR_DAY_DEADLINES = ("supplement", "citizen-confirmation")


def upgrade() -> None:
    with op.batch_alter_table("deadline_starts") as batch:
        batch.add_column(sa.Column("working_days", sa.Boolean(), nullable=False, server_default=sa.true()))
    starts = sa.table("deadline_starts", sa.column("deadline", sa.String), sa.column("working_days", sa.Boolean))
    op.execute(starts.update().where(starts.c.deadline.in_(CALENDAR_DAY_DEADLINES)).values(working_days=False))


def downgrade() -> None:
    with op.batch_alter_table("deadline_starts") as batch:
        batch.drop_column("working_days")
