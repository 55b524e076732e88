"""duplicates merged at verification (issue 22, item 4)

A report Admin Pengaduan marks as a duplicate keeps the open report it joined, so the merge can be undone while
that report is still open (`python -m lapor.duplicates undo`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reports_merged_into_id", "reports", ["merged_into_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("fk_reports_merged_into_id", type_="foreignkey")
        batch.drop_column("merged_into_id")
