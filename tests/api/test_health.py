"""Issue 19, defect 6: health says what requests need, and a bad key line never makes every request fail.

An unmigrated (or outdated) store, or an unreadable key file, made every request fail while
/v1/health answered 200. Health now checks the schema revision and the key file, answering 503
with reason codes; a malformed key line is reported once at start (file:line) and skipped.
"""
from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.keys import KeyRing, digest

from .conftest import KEYS, KEYS_ENV, eligibility_body, headers


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database that exists but where no migration ran."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"almp_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _client(url, registry, keys=None):
    from api.app import create_app
    app = create_app(database_url=url, keys=keys or KeyRing(None, KEYS_ENV), migrate=False, registry=registry)
    return TestClient(app)


def test_an_unmigrated_store_is_503_in_health_and_for_requests(empty_url, registry):
    client = _client(empty_url, registry)
    try:
        health = client.get("/v1/health")
        assert health.status_code == 503, health.text
        body = health.json()
        assert body["status"] == "degraded" and body["schema"] == "missing" and body["reasons"] == ["schema_missing"]
        response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
        assert response.status_code == 503, response.text
        assert "almp db upgrade" in response.json()["detail"]
        assert client.get("/v1/decisions/x", headers=headers("audit")).status_code == 503
    finally:
        client.app.state.service.store.close()


def test_a_store_behind_the_latest_migration_is_503_outdated(tmp_path, registry):
    from api.store.db import upgrade
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    client = _client(url, registry)
    try:
        health = client.get("/v1/health")
        assert health.status_code == 503 and health.json()["reasons"] == ["schema_outdated"]
    finally:
        client.app.state.service.store.close()


def test_a_migrated_store_is_healthy(db_url, registry):
    client = _client(db_url, registry)
    try:
        health = client.get("/v1/health")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["status"] == "ok" and body["schema"] == "ok" and body["keys"] == "ok" and body["reasons"] == []
    finally:
        client.app.state.service.store.close()


def _key_file(tmp_path, lines):
    path = tmp_path / "keys.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_a_malformed_key_line_is_reported_at_start_and_skipped(db_url, registry, tmp_path, caplog):
    path = _key_file(tmp_path, [f"{digest(KEYS['evaluate'])} evaluate ok-line", "sha256:notahash evaluate broken",
                                f"{digest(KEYS['audit'])} audit"])
    with caplog.at_level(logging.WARNING):
        client = _client(db_url, registry, KeyRing.from_environment(str(path)))
    try:
        said = [r.getMessage() for r in caplog.records if f"{path}:2" in r.getMessage()]
        assert len(said) == 1 and "ignorata" in said[0] and "\n" not in said[0]
        caplog.clear()
        for _ in range(3):
            response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
            assert response.status_code == 200, response.text
        assert client.get("/v1/decisions/x", headers=headers("audit")).status_code == 404  # line 3 still read
        assert client.post("/v1/eligibility", json=eligibility_body(),
                           headers={"X-API-Key": "sha256:notahash"}).status_code == 401
        assert not [r for r in caplog.records if f"{path}:2" in r.getMessage()]  # said once, not per request
        health = client.get("/v1/health")
        assert health.status_code == 200 and health.json()["keys"] == "lines_skipped"
    finally:
        client.app.state.service.store.close()


def test_an_unreadable_key_file_is_503_in_health_never_500(db_url, registry, tmp_path):
    folder = tmp_path / "keys-folder"
    folder.mkdir()  # a folder where the key file should be: reading it fails
    client = _client(db_url, registry, KeyRing(folder, KEYS_ENV))
    try:
        response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
        assert response.status_code == 200, response.text  # the keys from the environment still work
        assert client.post("/v1/eligibility", json=eligibility_body(),
                           headers={"X-API-Key": "nope"}).status_code == 401
        health = client.get("/v1/health")
        assert health.status_code == 503 and health.json()["reasons"] == ["key_file_unreadable"]
    finally:
        client.app.state.service.store.close()


def test_the_health_reasons_are_in_the_openapi(client):
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/v1/health"]["get"]["responses"]
    ref = responses["503"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    reasons = spec["components"]["schemas"][ref]["properties"]["reasons"]
    assert "schema_missing" in str(reasons) and "key_file_unreadable" in str(reasons)


@pytest.mark.parametrize("env, reason", [("ALMP_SEALING_KEY_FILE", "sealing_key_unreadable"),
                                         ("ALMP_PSEUDONYM_KEY_FILE", "pseudonym_key_unreadable")])
def test_a_malformed_key_material_file_is_503_in_health(client, monkeypatch, tmp_path, env, reason):
    bad = tmp_path / "bad.key"
    bad.write_text("not base64 of 32 bytes\n", encoding="ascii")
    monkeypatch.setenv(env, str(bad))
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.json()["reasons"] == [reason]
    assert str(bad) not in health.text  # where the keys are kept is the operator's business


def test_a_decision_meeting_an_unreadable_sealing_key_is_503_not_500(client, monkeypatch, tmp_path, caplog):
    bad = tmp_path / "bad.key"
    bad.write_text("not base64 of 32 bytes\n", encoding="ascii")
    monkeypatch.setenv("ALMP_SEALING_KEY_FILE", str(bad))
    response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
    assert response.status_code == 503, response.text
    assert str(bad) not in response.text and "nulla è stato registrato" in response.json()["detail"]
    assert any(str(bad) in r.getMessage() for r in caplog.records)  # the operator is told where
