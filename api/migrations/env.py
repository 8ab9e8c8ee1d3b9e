"""Alembic environment: runs against the URL in the config (set by api.store.db.alembic_config)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import text

from api.store.db import make_engine
from api.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata,
                              transaction_per_migration=False)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Several workers may start at once; one migrates, the others wait and find it done.
                    connection.execute(text("SELECT pg_advisory_xact_lock(5475125)"))
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
