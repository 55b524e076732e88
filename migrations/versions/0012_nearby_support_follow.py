"""reports near a place, supports and followers (issue 22, items 2 and 3)

The nearby search filters a bounding box on (category, latitude, longitude) before it measures any distance, and
falls back on (category, kelurahan_code) when the citizen gave no coordinates. A citizen supports a public report
once (the unique constraint settles two requests at once) and follows it to receive its status notices.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reporter_link_table(name: str, unique: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("reporter_id", sa.Integer(), sa.ForeignKey("reporters.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("report_id", "reporter_id", name=unique),
    )
    op.create_index(f"ix_{name}_reporter_id", name, ["reporter_id"])


def upgrade() -> None:
    op.create_index("ix_reports_nearby_point", "reports", ["category", "latitude", "longitude"])
    op.create_index("ix_reports_nearby_kelurahan", "reports", ["category", "kelurahan_code"])
    _reporter_link_table("report_supports", "uq_report_supports_once")
    _reporter_link_table("report_followers", "uq_report_followers_once")


def downgrade() -> None:
    op.drop_table("report_followers")
    op.drop_table("report_supports")
    op.drop_index("ix_reports_nearby_kelurahan", table_name="reports")
    op.drop_index("ix_reports_nearby_point", table_name="reports")
