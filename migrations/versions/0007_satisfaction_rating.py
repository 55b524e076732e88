"""report_messages.rating: the reporter's satisfaction (1-5) given with the acceptance or rejection of a result

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_messages") as batch:
        batch.add_column(sa.Column("rating", sa.SmallInteger(), nullable=True))
        batch.create_check_constraint("ck_report_messages_rating", "rating IS NULL OR (rating BETWEEN 1 AND 5)")


def downgrade() -> None:
    with op.batch_alter_table("report_messages") as batch:
        batch.drop_constraint("ck_report_messages_rating", type_="check")
        batch.drop_column("rating")
