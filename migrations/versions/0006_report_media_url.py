"""report media_url: the https link an Open311 client sent with a request, stored as given

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("media_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("reports", "media_url")
