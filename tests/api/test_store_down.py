"""The store unreachable: 503 and nothing pretended stored; the service recovers when it returns."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from api.service import Store

from .conftest import decide, eligibility_body, headers

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def test_store_down_is_503_then_recovers(client):
    service = client.app.state.service
    good = service.store
    service.store = Store(UNREACHABLE)
    try:
        response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
        assert response.status_code == 503
        assert "nulla è stato registrato" in response.json()["detail"]
        assert client.get("/v1/decisions/x", headers=headers("audit")).status_code == 503
        health = client.get("/v1/health")
        assert health.status_code == 503 and health.json()["database"] == "unavailable"
        assert client.get("/v1/policies").status_code == 200  # the catalogue needs no database
    finally:
        service.store.close()
        service.store = good
    assert decide(client)["decision_id"]


def test_postgres_connections_killed_under_the_pool_are_replaced(client, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a database restart is simulated on PostgreSQL only")
    decide(client)
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert killed >= 1
    assert decide(client)["decision_id"]  # pool_pre_ping found the dead connection and reconnected
