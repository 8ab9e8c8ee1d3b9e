"""Read log: the channel (api, cli, console) and the outcome (ok, erased) of each recorded read.

``read_log`` (made in 0002, unused until now) gets every read and replay of a decision from now
on (api.access); both new columns are covered by the entry's hash.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("read_log") as batch:
        batch.add_column(sa.Column("via", sa.String(16), nullable=False, server_default="api"))
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default="ok"))
    op.create_index("ix_read_log_caller", "read_log", ["caller"])


def downgrade() -> None:
    op.drop_index("ix_read_log_caller", "read_log")
    with op.batch_alter_table("read_log") as batch:
        batch.drop_column("outcome")
        batch.drop_column("via")
