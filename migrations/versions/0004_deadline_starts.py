"""deadline starts: where each running SLA started and its length, so a calendar change can move its deadline

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reminder_days_before", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "deadline", name="uq_deadline_starts_report_deadline"),
    )
    with op.batch_alter_table("deadline_starts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadline_starts_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline_starts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_starts_report_id"))
    op.drop_table("deadline_starts")
