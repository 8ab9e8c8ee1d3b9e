"""POST /v1/eligibility/batch stored a chunk per transaction (api.store.bulk): same answers and rows as
one decision at a time through the group committer, chain intact, retries answered, never stored twice."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from api import batch as batch_module
from api.store import bulk
from api.store.audit import verify_chain
from api.store.tables import DataKey, Decision
from bench.common import AS_OF, persons

from .conftest import DUL, headers

VARIABLE = ("id", "seq", "created_at", "prev_hash", "row_hash", "sealed")


def post(client, lines: list, key: str | None = None):
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    extra = {"Idempotency-Key": key} if key else {}
    response = client.post("/v1/eligibility/batch", content=body,
                           headers=headers("evaluate", **{"Content-Type": "application/x-ndjson", **extra}))
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def lines_of(count: int, seed: int = 3) -> list:
    out = [{"ref": i, "policy": DUL, "version": "2013", "as_of": AS_OF.isoformat(), "person": p}
           for i, p in enumerate(persons(count, seed=seed))]
    out[5] = {"ref": "bad", "policy": DUL, "as_of": AS_OF.isoformat(), "person": {"birth_date": "yesterday"}}
    out[9] = {"ref": "partial", "policy": DUL, "as_of": AS_OF.isoformat(), "person": {"birth_date": "1960-01-01"}}
    return out


def stored_rows(client) -> dict:
    service = client.app.state.service
    with service.store.reading() as session:
        rows = session.query(Decision).order_by(Decision.seq).all()
        report = verify_chain(session)
        keys = session.query(DataKey).count()
    assert report.ok, report.problem
    return {row.id: row for row in rows}, keys


def without(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "decision_id"}


def test_chunks_stored_in_bulk_answer_and_store_what_the_committer_would(client, monkeypatch):
    monkeypatch.setattr(batch_module, "CHUNK", 7)
    lines = lines_of(40)
    bulky = post(client, lines, "night-bulk")
    monkeypatch.setattr(bulk, "append_bulk", lambda *args, **kwargs: None)  # every chunk through the committer
    alone = post(client, lines, "night-alone")
    assert [without(a) for a in bulky] == [without(a) for a in alone]
    assert [a["status"] for a in bulky].count(422) == 1 and bulky[5]["status"] == 422
    rows, keys = stored_rows(client)
    assert len(rows) == 2 * 39 and keys == len(rows)  # a data key per decision without a subject
    for first, second in zip(bulky, alone):
        if first["status"] != 200:
            continue
        a, b = rows[first["decision_id"]], rows[second["decision_id"]]
        for column in Decision.__table__.columns.keys():
            if column not in VARIABLE and column not in ("idempotency_key", "request_hash"):
                assert getattr(a, column) == getattr(b, column), column
    service = client.app.state.service
    for answer in bulky[::6]:
        if answer["status"] == 200:
            assert service.replay(answer["decision_id"])["identical"] is True
            assert service.get(answer["decision_id"]).result == {k: v for k, v in answer.items()
                                                                 if k not in ("line", "ref", "status", "decision_id")}


def test_a_batch_retried_after_a_partial_run_answers_the_stored_lines_and_stores_the_rest_once(client, monkeypatch):
    monkeypatch.setattr(batch_module, "CHUNK", 6)
    lines = lines_of(30, seed=4)
    first = post(client, lines[:14], "night-2")  # the connection dropped after line 14
    again = post(client, lines, "night-2")
    assert [a.get("decision_id") for a in again[:14]] == [a.get("decision_id") for a in first]
    rows, _ = stored_rows(client)
    answered = [a["decision_id"] for a in again if a["status"] == 200]
    assert sorted(rows) == sorted(answered)
    assert post(client, lines, "night-2") == again


def test_a_chunk_whose_key_was_used_is_not_stored_in_bulk(client, monkeypatch):
    monkeypatch.setattr(batch_module, "CHUNK", 50)
    lines = lines_of(12, seed=5)
    post(client, lines[:1], "night-3")
    calls = []
    real = bulk.append_bulk
    monkeypatch.setattr(bulk, "append_bulk", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    post(client, lines, "night-3")
    assert calls == [None]  # refused before writing: the committer answered the retry and stored the rest
    rows, keys = stored_rows(client)
    assert len(rows) == 11 and keys == 11


@pytest.mark.parametrize("chunk", [1, 1000])
def test_every_line_stored_once_whatever_the_chunk(client, monkeypatch, chunk):
    monkeypatch.setattr(batch_module, "CHUNK", chunk)
    answers = post(client, lines_of(15, seed=6))
    rows, _ = stored_rows(client)
    assert sorted(rows) == sorted(a["decision_id"] for a in answers if a["status"] == 200)


def test_a_chunk_sealing_with_a_key_erased_meanwhile_is_not_stored_in_bulk(client, monkeypatch):
    import datetime as dt

    from sqlalchemy import update

    from .test_partial_api import JUNE_2019, PERSON_2019, code_for
    person = {**PERSON_2019, "codice_fiscale": code_for(dt.date(1961, 1, 15), "F")}
    line = {"policy": DUL, "as_of": JUNE_2019, "version": "2019", "person": person}
    first = post(client, [line])[0]
    calls = []
    real_lock, real_bulk = bulk._lock_head, bulk.append_bulk

    def erased_just_before(session):  # as if the subject were erased between sealing and locking the chain
        session.execute(update(DataKey).values(wrapped=None, erased_at=dt.datetime.now(dt.timezone.utc)))
        return real_lock(session)
    monkeypatch.setattr(bulk, "_lock_head", erased_just_before)
    monkeypatch.setattr(bulk, "append_bulk", lambda *a, **k: calls.append(real_bulk(*a, **k)) or calls[-1])
    second = post(client, [line])[0]
    assert calls == [None] and second["status"] == 200 and second["decision_id"] != first["decision_id"]
    rows, _ = stored_rows(client)
    assert len(rows) == 2 and rows[second["decision_id"]].subject == rows[first["decision_id"]].subject


def test_decision_ids_are_version_4_uuids_written_as_uuid_writes_them():
    import uuid
    ids = bulk.uuid4_texts(500)
    assert len(set(ids)) == 500
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


# any text a row can hold (a lone surrogate cannot be written as UTF-8, so no row holds one)
_odd = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) \
    | st.sampled_from(["è€", '"\\', "\x00\x1f\x7f", "\u2028\u2029", "\U0001f600"])


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_odd, min_size=6, max_size=6), subject=st.none() | _odd, key=st.none() | _odd,
       basis=st.none() | _odd)
def test_a_bulk_row_digest_is_the_chain_digest(texts, subject, key, basis):
    """bulk._digest writes the row's content straight with orjson: the very digest chain.digest takes (the one
    audit verify checks), whatever the texts."""
    import datetime as dt

    from api.store.chain import CURRENT, digest, utc_text
    from api.store.repository import _RowView
    now = dt.datetime(2026, 11, 30, 3, 47, 1, 123456, tzinfo=dt.timezone.utc)
    values = dict(seq=0, id=texts[0], created_at=now, kind="batch", policy_id=texts[1], version=texts[2],
                  content_hash="sha256:" + "a" * 64, engine_version=texts[3], as_of=dt.date(2014, 3, 1), caller=texts[4],
                  idempotency_key=key, request_hash="hmac:" + "b" * 64, input_json='{"policy":"x"}',
                  result_json=texts[5], trace_json='{"plan":"sha256:c"}', prev_hash="", row_hash="",
                  hash_scheme=CURRENT, subject=subject, sealed="v1:k:AAAA", statement_basis=basis)
    assert bulk._digest(values, utc_text(now)) == digest(_RowView(values))


def test_a_pending_decision_made_at_once_is_the_one_the_constructor_makes():
    import dataclasses

    from api.store.repository import PendingDecision
    values = {field.name: f"v{i}" for i, field in enumerate(dataclasses.fields(PendingDecision))}
    made = PendingDecision.made(**values)
    assert made == PendingDecision(**values) and dataclasses.asdict(made) == values
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.kind = "x"
    with pytest.raises(TypeError):  # a field left out is not filled with its default
        PendingDecision.made(**{k: v for k, v in values.items() if k != "subject"})
