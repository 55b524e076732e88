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


FOREIGN_KEY = "fk_reports_merged_into_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES in place; a batch copy of `reports` would have to drop the table
        # that every other table references, which its foreign keys refuse once there are rows.
        op.execute("ALTER TABLE reports ADD COLUMN merged_into_id INTEGER REFERENCES reports (id)")
    else:
        op.add_column("reports", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "reports", "reports", ["merged_into_id"], ["id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("reports") as batch:
        if not sqlite:  # on SQLite the reference is the column's own and goes with it
            batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("merged_into_id")
