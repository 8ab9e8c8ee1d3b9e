"""Hash scheme 4 and PostgreSQL's one-statement append (``almp_append``): same chain, lock held server-side only.

The row hash of scheme 4 is recomputed here from its published definition (not with api.store.chain), on
rows linked by PostgreSQL and on rows linked by Python (SQLite), so the SQL and Python links cannot drift
apart unnoticed. Races between a batch's preparation (outside the lock) and its append are provoked on
purpose: an erasure, and another use of the same idempotency key, each in between.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import create_engine, text

from api.store import chain, repository
from api.store.repository import verify_chain

from .conftest import DUL, decide, eligibility_body, headers
from .test_erasure import BORN, code_for, decide as decide_subject, erase

COLUMNS = ("id", "created_at", "kind", "policy_id", "version", "content_hash", "engine_version", "as_of", "caller",
           "idempotency_key", "request_hash", "input_json", "result_json", "trace_json", "subject", "sealed",
           "statement_basis")


def _select(db_url, query: str) -> list[dict]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(text(query))]
    engine.dispose()
    return found


def _rows(db_url):
    return _select(db_url, "SELECT * FROM decisions ORDER BY seq")


def _key_rows(db_url):
    return _select(db_url, "SELECT * FROM data_keys")


def _utc(moment) -> str:
    if isinstance(moment, str):  # SQLite hands back text
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def independent_hash(row: dict) -> str:
    """Scheme 4 as documented: digest over the canonical JSON of the row without its place in the chain,
    then sha256("almp-chain-4\\n<prev>\\n<seq>\\n<digest>")."""
    content = {name: row[name] for name in COLUMNS}
    content["created_at"] = _utc(row["created_at"])
    content["as_of"] = str(row["as_of"])[:10]
    content["input"], content["result"], content["trace"] = (content.pop("input_json"), content.pop("result_json"),
                                                             content.pop("trace_json"))
    content["hash_scheme"] = 4
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    row_digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    linked = f"almp-chain-4\n{row['prev_hash']}\n{row['seq']}\n{row_digest}"
    return "sha256:" + hashlib.sha256(linked.encode("ascii")).hexdigest()


def test_new_rows_use_scheme_4_and_their_hash_follows_its_definition(client, db_url):
    for born in BORN[:2]:
        decide_subject(client, born)
    decide(client)
    decide(client)
    rows = _rows(db_url)
    assert [r["hash_scheme"] for r in rows] == [4, 4, 4, 4]
    prev = chain.GENESIS
    for row in rows:
        assert row["prev_hash"] == prev
        assert row["row_hash"] == independent_hash(row)
        prev = row["row_hash"]


def test_a_chain_mixing_scheme_3_and_scheme_4_rows_verifies_and_tampering_either_is_caught(client, db_url):
    decide(client)
    decide(client)
    engine = create_engine(db_url)
    first = _rows(db_url)[0]

    class Row:
        def __init__(self, values):
            self.__dict__.update(values)
    # the first row as an older version wrote it (scheme 3), the second re-linked to it
    as_3 = {**first, "hash_scheme": 3}
    as_3["created_at"] = dt.datetime.fromisoformat(_utc(first["created_at"])[:-1])
    as_3["as_of"] = dt.date.fromisoformat(str(first["as_of"])[:10])
    old_hash = chain.row_hash(Row(as_3))
    with engine.begin() as conn:
        conn.execute(text("UPDATE decisions SET hash_scheme = 3, row_hash = :h WHERE seq = 1"), {"h": old_hash})
        conn.execute(text("UPDATE decisions SET prev_hash = :h WHERE seq = 2"), {"h": old_hash})
    second = _rows(db_url)[1]
    with engine.begin() as conn:
        conn.execute(text("UPDATE decisions SET row_hash = :h WHERE seq = 2"), {"h": independent_hash(second)})
        conn.execute(text("UPDATE chain_head SET row_hash = :h WHERE id = 1"), {"h": independent_hash(second)})
    store = client.app.state.service.store
    with store.reading() as session:
        report = verify_chain(session)
    assert report.ok, report.problem
    assert report.checked == 2
    for seq in (1, 2):  # altering what either row says breaks its own hash
        with engine.begin() as conn:
            conn.execute(text("UPDATE decisions SET caller = 'someone-else' WHERE seq = :s"), {"s": seq})
        with store.reading() as session:
            report = verify_chain(session)
        assert not report.ok and f"(seq {seq})" in report.problem
        with engine.begin() as conn:
            conn.execute(text("UPDATE decisions SET caller = :c WHERE seq = :s"),
                         {"c": first["caller"], "s": seq})
    engine.dispose()


def _between_plan_and_append(monkeypatch, action):
    """Run ``action`` once, right after the first batch is prepared (outside the lock) and before it is appended."""
    real, done = repository._plan, []

    def plan_then_act(session, items):
        made = real(session, items)
        if not done:
            done.append(True)
            action()
        return made
    monkeypatch.setattr(repository, "_plan", plan_then_act)
    return done


@pytest.fixture
def postgres_only(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the server-side append exists on PostgreSQL only (SQLite's write lock covers the whole batch)")
    return db_url


def test_an_erasure_between_preparing_and_appending_never_seals_a_decision_with_the_erased_key(
        client, postgres_only, monkeypatch):
    first = decide_subject(client, BORN[0])

    def erase_now():  # a separate connection: the committer's own transaction is not open yet
        engine = create_engine(postgres_only)
        with engine.begin() as conn:
            conn.execute(text("UPDATE data_keys SET wrapped = NULL, erased_at = now(), erased_by = 'test', "
                              "erased_why = 'race' WHERE subject IS NOT NULL"))
        engine.dispose()
    done = _between_plan_and_append(monkeypatch, erase_now)
    second = decide_subject(client, BORN[0])
    assert done
    # the new decision was sealed again, under a new key, under the lock: it reads back whole
    got = client.get(f"/v1/decisions/{second['decision_id']}", headers=headers("audit"))
    assert got.status_code == 200, got.text
    assert got.json()["input"]["person"]["employment_status"] == "unemployed"
    assert client.get(f"/v1/decisions/{first['decision_id']}", headers=headers("audit")).status_code == 410
    keys = _key_rows(postgres_only)
    assert sum(1 for k in keys if k["erased_at"] is None) == 1
    with client.app.state.service.store.reading() as session:
        assert verify_chain(session).ok


def test_the_same_idempotency_key_used_between_preparing_and_appending_answers_the_stored_decision(
        client, postgres_only, monkeypatch):
    service = client.app.state.service
    body = eligibility_body(as_of=dt.date(2014, 3, 1))
    body["as_of"] = dt.date(2014, 3, 1)
    raced: list = []

    def store_the_same_request():  # as another worker would: prepared and appended under the lock
        pending = service.prepare("eligibility", body, caller="evaluate-key", idempotency_key="race-1")
        with service.store.transaction() as session:
            (found, created), = repository.append_batch(session, [pending])
        raced.append(found.id)
    _between_plan_and_append(monkeypatch, store_the_same_request)
    answered, created = service.decide("eligibility", body, caller="evaluate-key", idempotency_key="race-1")
    assert raced and answered.id == raced[0] and created is False
    assert len(_rows(postgres_only)) == 1
    with service.store.reading() as session:
        assert verify_chain(session).ok


def test_a_different_body_under_a_key_taken_in_between_is_a_conflict_and_stores_nothing(
        client, postgres_only, monkeypatch):
    service = client.app.state.service
    body = eligibility_body()
    body["as_of"] = dt.date(2014, 3, 1)
    other = {**body, "person": {**body["person"], "master_enrolled": True}}

    def store_another():
        pending = service.prepare("eligibility", other, caller="evaluate-key", idempotency_key="race-2")
        with service.store.transaction() as session:
            repository.append_batch(session, [pending])
    _between_plan_and_append(monkeypatch, store_another)
    with pytest.raises(repository.IdempotencyConflict):
        service.decide("eligibility", body, caller="evaluate-key", idempotency_key="race-2")
    assert len(_rows(postgres_only)) == 1


def test_the_postgresql_append_is_one_statement_holding_the_head_lock(client, postgres_only, monkeypatch):
    """While the batch is being prepared the head is free: another session can lock it at once."""
    locked_meanwhile: list = []

    def try_lock():
        engine = create_engine(postgres_only)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            locked_meanwhile.append(conn.execute(text("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")).scalar())
        engine.dispose()
    _between_plan_and_append(monkeypatch, try_lock)
    decide(client)
    assert locked_meanwhile == [0]
    assert [r["seq"] for r in _rows(postgres_only)] == [1]


def test_a_new_decision_of_a_subject_extends_their_key_retention_on_both_paths(client, db_url):
    decide_subject(client, BORN[1])
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE data_keys SET retain_until = :d"), {"d": "2016-01-01"})
    engine.dispose()
    decide_subject(client, BORN[1])
    keys = [k for k in _key_rows(db_url) if k["subject"]]
    assert len(keys) == 1  # the subject's live key, reused
    today = dt.datetime.now(dt.timezone.utc).date()
    until = keys[0]["retain_until"]
    until = until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until))
    assert until >= today.replace(year=today.year + 10, day=min(today.day, 28))


def test_a_connection_lost_after_the_append_committed_neither_loses_nor_doubles_the_batch(
        client, postgres_only, monkeypatch):
    from sqlalchemy.exc import OperationalError
    real, calls = repository._call_append, []

    def commit_then_lose_the_answer(conn, payload):
        calls.append(True)
        answer = real(conn, payload)
        if len(calls) == 1:  # committed in the server, but the answer never came back
            raise OperationalError("SELECT almp_append(...)", {}, Exception("server closed the connection"),
                                   connection_invalidated=True)
        return answer
    monkeypatch.setattr(repository, "_call_append", commit_then_lose_the_answer)
    answered = decide(client)
    rows = _rows(postgres_only)
    assert [r["id"] for r in rows] == [answered["decision_id"]]
    assert len(calls) == 1  # found committed: not sent again
    got = client.get(f"/v1/decisions/{answered['decision_id']}", headers=headers("audit"))
    assert got.status_code == 200
    assert got.json()["integrity"]["status"] == "ok"
    with client.app.state.service.store.reading() as session:
        assert verify_chain(session).ok


def test_a_connection_lost_before_the_append_committed_sends_it_again_once(client, postgres_only, monkeypatch):
    from sqlalchemy.exc import OperationalError
    real, calls = repository._call_append, []

    def lose_before_sending(conn, payload):
        calls.append(True)
        if len(calls) == 1:
            raise OperationalError("SELECT almp_append(...)", {}, Exception("server closed the connection"),
                                   connection_invalidated=True)
        return real(conn, payload)
    monkeypatch.setattr(repository, "_call_append", lose_before_sending)
    answered = decide(client)
    assert len(calls) == 2
    assert [r["id"] for r in _rows(postgres_only)] == [answered["decision_id"]]


def test_nothing_is_answered_before_the_appended_batch_is_durable(client, postgres_only, monkeypatch):
    """almp_append commits without waiting for the disk; the answer waits for almp_durable(). If that
    cannot be done, the caller is told the store is unavailable, never given a decision."""
    from sqlalchemy.exc import OperationalError
    barriers = []

    def failing_barrier(conn):
        barriers.append(True)
        raise OperationalError("SELECT almp_durable()", {}, Exception("the server went away"))
    monkeypatch.setattr(repository, "_durable", failing_barrier)
    response = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))
    assert barriers and response.status_code == 503, response.text
    assert "decision_id" not in response.text


def test_the_append_commits_without_a_flush_and_the_barrier_flushes(client, postgres_only):
    engine = create_engine(postgres_only)
    with engine.connect() as conn:
        setting = conn.execute(text("SELECT pg_get_functiondef('almp_append(jsonb)'::regprocedure)")).scalar()
        assert "set_config('synchronous_commit', 'off', true)" in setting
        before = conn.execute(text("SELECT pg_current_wal_flush_lsn()")).scalar()
        conn.execute(text("SELECT almp_durable()"))
        conn.commit()
        assert conn.execute(text("SELECT pg_current_wal_flush_lsn() > CAST(:b AS pg_lsn)"), {"b": before}).scalar()
    engine.dispose()
