"""Sealing: data keys per subject with a retention date; one live key per subject.

Decisions from now on seal their personal facts under their subject's data key (api.store.sealing);
``data_keys`` (made in 0002, unused until now) holds one row per key: ``retain_until`` is when
``almp retention apply`` erases it. Rows written before keep their facts in clear (their hash
covers them, so they cannot be sealed afterwards without breaking the chain).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_keys") as batch:
        batch.add_column(sa.Column("retain_until", sa.Date, nullable=True))
    op.create_index("ix_data_keys_retain_until", "data_keys", ["retain_until"])
    # Two workers sealing for a new subject at once cannot both make a key (appends are serialised by
    # the chain head, this is the database's own guarantee).
    op.create_index("ux_data_keys_live_subject", "data_keys", ["subject"], unique=True,
                    sqlite_where=sa.text("erased_at IS NULL AND subject IS NOT NULL"),
                    postgresql_where=sa.text("erased_at IS NULL AND subject IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ux_data_keys_live_subject", "data_keys")
    op.drop_index("ix_data_keys_retain_until", "data_keys")
    with op.batch_alter_table("data_keys") as batch:
        batch.drop_column("retain_until")
