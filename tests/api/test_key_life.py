"""API keys with a life cycle (expiry, rotation, revocation with who and when) and idempotency keys that expire."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from almp.cli import main
from api.keys import KeyFileError, KeyRing, digest, parse_keys

from .conftest import eligibility_body, headers


@pytest.fixture
def keyed(make_client, tmp_path):
    """(client whose keys come from a file, the file)."""
    path = tmp_path / "keys.txt"
    client = make_client()
    client.app.state.keys = KeyRing(path)
    return client, path


def add(path, capsys, *extra) -> str:
    assert main(["keys", "add", "--role", "evaluate", "--file", str(path), *extra]) == 0
    return capsys.readouterr().out.strip()


def post(client, key, **extra):
    return client.post("/v1/eligibility", json=eligibility_body(), headers={"X-API-Key": key, **extra})


def test_a_key_with_an_expiry_works_until_then_and_is_listed_with_it(keyed, capsys):
    client, path = keyed
    key = add(path, capsys, "--name", "sportello-1", "--days", "30")
    assert post(client, key).status_code == 200
    assert main(["keys", "list", "--file", str(path)]) == 0
    listed = capsys.readouterr().out
    ends = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).date()
    assert "sportello-1" in listed and "attiva" in listed and f"scade {ends:%d/%m/%Y}" in listed
    assert key not in path.read_text() and "created=" in path.read_text()


def test_an_expired_key_is_refused_with_its_code_and_date(keyed):
    client, path = keyed
    path.write_text(f"{digest('old-key')} evaluate desk expires=2020-01-01\n")
    response = post(client, "old-key")
    assert response.status_code == 401
    assert response.json()["detail"] == {"code": "api_key_expired",
                                         "msg": "questa chiave API è scaduta il 01/01/2020"}
    assert 'error_description="api_key_expired"' in response.headers["www-authenticate"]
    english = post(client, "old-key", **{"Accept-Language": "en"})
    assert english.json()["detail"]["msg"] == "this API key expired on 01/01/2020"


def test_a_revoked_key_is_refused_at_once_and_the_file_says_who_and_when(keyed, capsys):
    client, path = keyed
    key = add(path, capsys, "--name", "desk-2")
    assert post(client, key).status_code == 200
    assert main(["keys", "revoke", "desk-2", "--by", "mario.ops", "--file", str(path)]) == 0
    assert "revocata" in capsys.readouterr().out
    response = post(client, key)
    assert response.status_code == 401 and response.json()["detail"]["code"] == "api_key_revoked"
    line = path.read_text()
    assert "revoked_by=cli:mario.ops" in line and "revoked=" in line
    assert main(["keys", "revoke", "desk-2", "--file", str(path)]) == 2  # already revoked
    assert main(["keys", "list", "--file", str(path)]) == 0
    assert "revocata il" in capsys.readouterr().out


def test_rotation_with_and_without_grace(keyed, capsys):
    client, path = keyed
    old = add(path, capsys, "--name", "desk-4")
    old_id = "key:" + digest(old).split(":")[1][:12]
    assert main(["keys", "rotate", old_id, "--grace-hours", "2", "--file", str(path)]) == 0
    new = capsys.readouterr().out.strip()
    assert new != old
    assert post(client, new).status_code == 200 and post(client, old).status_code == 200  # within the grace
    new_id = "key:" + digest(new).split(":")[1][:12]
    assert f"rotated_to={new_id}" in path.read_text()
    assert main(["keys", "rotate", new_id, "--file", str(path)]) == 0
    newest = capsys.readouterr().out.strip()
    refused = post(client, new)
    assert refused.status_code == 401 and refused.json()["detail"]["code"] == "api_key_rotated"
    assert post(client, newest).status_code == 200
    ring = KeyRing(path)
    assert ring.lookup(newest).caller == "desk-4" and ring.lookup(newest).roles == {"evaluate"}


def test_key_lines_old_and_new_parse_and_a_bad_date_is_refused_with_its_line():
    keys = parse_keys(f"{digest('a')} audit Ufficio Audit Regione\n"
                      f"{digest('b')} evaluate desk created=2026-11-29T20:00:00Z expires=2027-01-01", "f")
    assert keys[digest("a")].name == "Ufficio Audit Regione" and keys[digest("a")].state() == "active"
    assert keys[digest("b")].when("expires") == dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(KeyFileError, match="f:1: expires=tomorrow"):
        parse_keys(f"{digest('c')} evaluate expires=tomorrow", "f")


@pytest.mark.parametrize("state, attributes", [("active", ""), ("expired", "expires=2000-01-01"),
                                               ("revoked", "revoked=2000-01-01T00:00:00Z revoked_by=x"),
                                               ("active", "expires=2999-01-01")])
def test_key_states(state, attributes):
    (key,) = parse_keys(f"{digest('k')} audit n {attributes}", "f").values()
    assert key.state() == state


# -- idempotency keys expire ----------------------------------------------------------------------------------

def test_an_idempotency_key_reused_after_its_period_makes_a_new_decision(client, db_url, monkeypatch, capsys):
    monkeypatch.setenv("ALMP_IDEMPOTENCY_TTL_HOURS", str(1 / 3600))  # one second
    first = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "k"}))
    again = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "k"}))
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    time.sleep(1.2)
    later = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "k"}))
    assert later.status_code == 200 and later.headers["Idempotent-Replayed"] == "false"
    assert later.json()["decision_id"] != first.json()["decision_id"]
    retry = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "k"}))
    assert retry.json()["decision_id"] == later.json()["decision_id"]
    assert main(["audit", "verify", "--database", db_url]) == 0


def test_idempotency_ttl_setting(monkeypatch):
    from api.store.repository import idempotency_ttl
    monkeypatch.delenv("ALMP_IDEMPOTENCY_TTL_HOURS", raising=False)
    assert idempotency_ttl() == dt.timedelta(hours=24)
    monkeypatch.setenv("ALMP_IDEMPOTENCY_TTL_HOURS", "0")
    assert idempotency_ttl() is None
    monkeypatch.setenv("ALMP_IDEMPOTENCY_TTL_HOURS", "1.5")
    assert idempotency_ttl() == dt.timedelta(minutes=90)


def test_a_retry_of_a_request_stored_before_sealing_still_finds_its_decision(client, db_url):
    from sqlalchemy import create_engine, text

    from api.store.repository import request_hashes
    from .conftest import DUL, PERSON
    first = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "old"}))
    keyed, legacy = request_hashes("eligibility", {"caller": "evaluate-tester", "request": {
        "policy": DUL, "version": None, "as_of": "2014-03-01", "person": PERSON}})
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as a row stored before the upgrade holds it
        assert conn.execute(text("SELECT request_hash FROM decisions")).scalar_one() == keyed
        conn.execute(text("UPDATE decisions SET request_hash = :h"), {"h": legacy})
    engine.dispose()
    retry = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate", **{"Idempotency-Key": "old"}))
    assert retry.status_code == 200 and retry.json()["decision_id"] == first.json()["decision_id"]
    other = client.post("/v1/eligibility", json=eligibility_body(as_of="2014-03-02"),
                        headers=headers("evaluate", **{"Idempotency-Key": "old"}))
    assert other.status_code == 409
