"""consent records and the reporter's audit chain (issue 23, items 1 and 4)

`consent_records`: each consent choice of a reporter with its time, append-only; the choices of reports filed before
this revision are written from the report's columns at the report's time (origin `migration-0011`).
`reporter_audit_entries`: actions on a reporter rather than a report (staff read their identity, their data was
exported; later correction and erasure), chained per reporter like `audit_entries`, the head on `reporters`; the
database refuses an UPDATE of an entry.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TRIGGER = """
CREATE TRIGGER reporter_audit_entries_append_only BEFORE UPDATE ON reporter_audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
"""
# audit_entries_append_only() of revision 0009 raises for any row: the new table's trigger reuses it.
_POSTGRES_TRIGGER = """
CREATE TRIGGER reporter_audit_entries_append_only BEFORE UPDATE ON reporter_audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
"""
# What a report's columns say the reporter chose at submission (anonymous wins over showing the name).
_CHOICES = {
    "show_name": "show_reporter_name",
    "anonymous": "anonymous",
    "confidential": "confidential",
}


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reporter_id", sa.Integer(), sa.ForeignKey("reporters.id"), nullable=False),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=True),
        sa.Column("choice", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=True),
        sa.Column("origin", sa.String(24), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_records_reporter_id", "consent_records", ["reporter_id"])
    op.create_index("ix_consent_records_report_id", "consent_records", ["report_id"])
    op.create_table(
        "reporter_audit_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reporter_id", sa.Integer(), sa.ForeignKey("reporters.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("reporter_id", "seq", name="uq_reporter_audit_entries_reporter_seq"),
    )
    op.create_index("ix_reporter_audit_entries_reporter_id", "reporter_audit_entries", ["reporter_id"])
    with op.batch_alter_table("reporters") as batch:
        batch.add_column(sa.Column("audit_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("audit_head", sa.String(64), nullable=True))
    op.execute(_POSTGRES_TRIGGER if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGER)
    reports = sa.table(
        "reports",
        *(sa.column(name) for name in ("id", "reporter_id", "channel", "created_at", *_CHOICES.values())),
    )
    records = sa.table(
        "consent_records",
        *(sa.column(name) for name in ("reporter_id", "report_id", "choice", "granted", "channel", "origin")),
        sa.column("recorded_at"),
    )
    for choice, column in _CHOICES.items():
        chosen = sa.select(
            reports.c.reporter_id,
            reports.c.id,
            sa.literal(choice),
            reports.c[column],
            reports.c.channel,
            sa.literal("migration-0011"),
            reports.c.created_at,
        ).where(reports.c.reporter_id.is_not(None))
        columns = ["reporter_id", "report_id", "choice", "granted", "channel", "origin", "recorded_at"]
        op.execute(records.insert().from_select(columns, chosen))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER reporter_audit_entries_append_only ON reporter_audit_entries")
    with op.batch_alter_table("reporters") as batch:
        batch.drop_column("audit_head")
        batch.drop_column("audit_seq")
    op.drop_index("ix_reporter_audit_entries_reporter_id", "reporter_audit_entries")
    op.drop_table("reporter_audit_entries")
    op.drop_index("ix_consent_records_report_id", "consent_records")
    op.drop_index("ix_consent_records_reporter_id", "consent_records")
    op.drop_table("consent_records")
