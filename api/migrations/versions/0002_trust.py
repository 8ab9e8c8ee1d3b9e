"""Trust: row hash scheme, subject pseudonym, sealed personal facts, data keys, read log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Existing rows keep hash scheme 1 (their hash is unchanged and still verifies); new rows use
scheme 2, which also covers the subject pseudonym and the sealed (encrypted) personal facts.
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("hash_scheme", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("subject", sa.String(80), nullable=True))
        batch.add_column(sa.Column("sealed", sa.Text, nullable=True))
    op.create_index("ix_decisions_subject", "decisions", ["subject"])
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(80), nullable=True, index=True),
        sa.Column("wrapped", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_by", sa.String(128), nullable=True),
        sa.Column("erased_why", sa.String(200), nullable=True),
    )
    op.create_table(
        "read_log",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("caller", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=True, index=True),
        sa.Column("subject", sa.String(80), nullable=True, index=True),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("prev_hash", sa.String(80), nullable=False),
        sa.Column("row_hash", sa.String(80), nullable=False),
    )
    op.create_table(
        "read_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("row_hash", sa.String(80), nullable=False),
    )
    op.execute(sa.text("INSERT INTO read_head (id, seq, row_hash) VALUES (1, 0, 'sha256:" + "0" * 64 + "')"))


def downgrade() -> None:
    op.drop_table("read_head")
    op.drop_table("read_log")
    op.drop_table("data_keys")
    op.drop_index("ix_decisions_subject", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("sealed")
        batch.drop_column("subject")
        batch.drop_column("hash_scheme")
