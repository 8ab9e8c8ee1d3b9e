"""Statement basis: the statement template version and the authority text each decision is stated under.

A decision's statement of reasons must read the same whenever it is produced, so the template
version and the exact authority configuration (appeal clause, art. 10-bis notice) in force when
it was decided are recorded with it, outside the engine's result (replay compares results).
Decisions stored before this migration keep NULL: their statement uses template 1 and says the
basis was not recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("statement_basis", sa.Text, nullable=True))
    op.create_table(
        "authority_texts",
        sa.Column("hash", sa.String(80), primary_key=True),
        sa.Column("folder", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("authority_texts")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("statement_basis")
