"""Idempotency keys expire: the key column is no longer unique, only indexed.

A key reused after its idempotency period (ALMP_IDEMPOTENCY_TTL_HOURS, default 24 hours) makes a
new decision; the earlier row keeps its key (its hash covers it). Appends are serialised by the
chain head, so the latest row of a key is the one a retry within the period gets.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# SQLite keeps the unique constraint of 0001 unnamed: the convention names it so it can be dropped
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name() -> str:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return "uq_decisions_idempotency_key"
    for constraint in sa.inspect(bind).get_unique_constraints("decisions"):
        if constraint["column_names"] == ["idempotency_key"]:
            return constraint["name"]
    return "decisions_idempotency_key_key"


def upgrade() -> None:
    name = _unique_name()
    with op.batch_alter_table("decisions", naming_convention=_NAMES) as batch:
        batch.drop_constraint(name, type_="unique")
    op.create_index("ix_decisions_idempotency_key", "decisions", ["idempotency_key"])


def downgrade() -> None:
    op.drop_index("ix_decisions_idempotency_key", "decisions")
    with op.batch_alter_table("decisions", naming_convention=_NAMES) as batch:
        batch.create_unique_constraint("uq_decisions_idempotency_key", ["idempotency_key"])
