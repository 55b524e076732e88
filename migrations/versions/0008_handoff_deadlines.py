"""reports: the supplement, confirmation, disposition and documentation due dates people are told about

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("supplement_due_at", "confirmation_due_at", "disposition_due_at", "documentation_due_at")


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
