"""The trust migrations (0004 sealing, 0005 read log, 0006 expiring idempotency keys) go down and up again."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect

from .conftest import decide, headers


def test_down_to_0003_and_up_again_keeps_the_stored_decisions(client, db_url):
    from alembic import command

    from api.store.db import alembic_config, upgrade
    decision_id = decide(client)["decision_id"]
    client.app.state.service.store.engine.dispose()
    command.downgrade(alembic_config(db_url), "0003")
    engine = create_engine(db_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("data_keys")}
        assert "retain_until" not in columns
        assert {c["name"] for c in inspect(engine).get_columns("read_log")} >= {"purpose"} and \
            "via" not in {c["name"] for c in inspect(engine).get_columns("read_log")}
    finally:
        engine.dispose()
    upgrade(db_url)
    got = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    assert got.status_code == 200 and got.json()["input"]["person"]["birth_date"] == "1960-05-01"
