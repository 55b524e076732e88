"""a reporter's erasure and the correction of their contact details (issue 23, item 2)

`reporters.erased_at`: when the reporter's identity was erased on request or by retention (the row stays, without
name or contact, so their reports, consent ledger and audit chain keep a pseudonymous owner).
`registration_codes.reporter_id`: a code that proves a reporter's new e-mail address or phone number (a correction)
names the reporter it belongs to; a registration or sign-in has none.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reporters") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("registration_codes") as batch:
        batch.add_column(sa.Column("reporter_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_registration_codes_reporter_id_reporters", "reporters", ["reporter_id"], ["id"])
        batch.create_index("ix_registration_codes_reporter_id", ["reporter_id"])


def downgrade() -> None:
    with op.batch_alter_table("registration_codes") as batch:
        batch.drop_index("ix_registration_codes_reporter_id")
        batch.drop_constraint("fk_registration_codes_reporter_id_reporters", type_="foreignkey")
        batch.drop_column("reporter_id")
    with op.batch_alter_table("reporters") as batch:
        batch.drop_column("erased_at")
