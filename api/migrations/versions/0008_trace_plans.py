"""Trace plans: the static text of an edition's decision traces, stored once by its hash.

From now on a decision's sealed trace is a small record (the plan's hash, the fact values, the rules
that fired) and the rule texts every decision of the edition shares are stored once here
(``api.store.trace_plans``). Decisions stored before keep their full trace in their sealed text and
read as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_plans",
        sa.Column("hash", sa.String(80), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trace_plans")
