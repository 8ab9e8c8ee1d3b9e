"""Batch lines decided on the columns (api.batch_columns) answer and store exactly what the line path does."""
from __future__ import annotations

import json
import random

from api import batch_columns
from api.store.tables import Decision
from bench.common import AS_OF, persons

from .conftest import DUL, headers

SAME = ("kind", "policy_id", "version", "content_hash", "engine_version", "as_of", "caller", "idempotency_key",
        "request_hash", "input_json", "result_json", "trace_json", "hash_scheme", "subject", "statement_basis")
PERSON_2019 = {"birth_date": "1961-01-15", "gender": "F", "residence_region": "lombardia",
               "domicile_region": "lombardia", "workplace_region": "lombardia", "employment_status": "unemployed",
               "unemployed_since": "2018-04-01", "income_support": "none", "income_support_since": None,
               "solidarity_agreement": False, "police_or_armed_forces": False, "command_authorisation": False,
               "master_enrolled": False}


def varied_lines(seed: int) -> list:
    rng = random.Random(seed)
    lines = []
    for i, person in enumerate(persons(60, seed=seed)):
        person = dict(person)
        if rng.random() < 0.3:
            person["residence_region"] = rng.choice(["03", "Lombardia", "Piemonte", "01", "lazio"])
        line = {"policy": DUL, "as_of": AS_OF.isoformat(), "person": person}
        if rng.random() < 0.7:
            line["ref"] = rng.choice([f"r{i}", i, None, "è" * 5])
        if rng.random() < 0.5:
            line["version"] = "2013"
        lines.append(line)
    for i in range(0, 60, 5):  # 2019 edition lines, some missing facts (partial answers)
        person = dict(PERSON_2019, birth_date=f"19{50 + i}-0{1 + i % 9}-1{i % 10}")
        if i % 10 == 0:
            del person["gender"]
        lines.append({"ref": f"n{i}", "policy": DUL, "as_of": "2019-06-01", "version": "2019", "person": person})
    lines += [
        {"policy": DUL, "as_of": AS_OF.isoformat(), "person": {**persons(1)[0], "birth_date": "yesterday"}},
        {"policy": DUL, "as_of": AS_OF.isoformat(), "person": {**persons(1)[0], "unknown_fact": 1}},
        {"policy": DUL, "as_of": AS_OF.isoformat(), "person": {**persons(1)[0], "gender": 1.5}},
        {"policy": "lombardia/nothing", "as_of": AS_OF.isoformat(), "person": persons(1)[0]},
        {"policy": DUL, "as_of": AS_OF.isoformat(), "person": persons(1)[0], "extra": True},
        {"policy": DUL, "as_of": "2014-02-30", "person": persons(1)[0]},
        {"policy": DUL, "as_of": AS_OF.isoformat(), "ref": True, "person": persons(1)[0]},
    ]
    rng.shuffle(lines)
    return lines


def post(client, lines):
    body = "".join(json.dumps(line, ensure_ascii=rng_ascii(line)) + "\n" for line in lines).encode()
    response = client.post("/v1/eligibility/batch", content=body,
                           headers=headers("evaluate", **{"Content-Type": "application/x-ndjson"}))
    assert response.status_code == 200, response.text
    return response.text.splitlines()


def rng_ascii(line) -> bool:
    return len(json.dumps(line)) % 2 == 0  # some lines with escaped non-ASCII text, some with it as is


def test_columns_and_line_path_answer_and_store_the_same(client, monkeypatch):
    lines = varied_lines(21)
    calls = []
    real = batch_columns.decide_lines
    monkeypatch.setattr(batch_columns, "decide_lines", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    fast = post(client, lines)
    assert sum(len(found) for found in calls) >= 50  # most lines took the columns
    monkeypatch.setattr(batch_columns, "decide_lines", lambda *a, **k: {})
    slow = post(client, lines)
    assert len(fast) == len(slow) == len(lines)
    service = client.app.state.service
    with service.store.reading() as session:
        rows = {row.id: row for row in session.query(Decision)}
    for one, other in zip(fast, slow):
        a, b = json.loads(one), json.loads(other)
        assert {k: v for k, v in a.items() if k != "decision_id"} == {k: v for k, v in b.items() if k != "decision_id"}
        if a["status"] != 200:
            assert one == other
            continue
        assert one.replace(a["decision_id"], b["decision_id"]) == other  # the same bytes
        first, second = rows[a["decision_id"]], rows[b["decision_id"]]
        for column in SAME:
            assert getattr(first, column) == getattr(second, column), column
        x, y = service.get(first.id), service.get(second.id)
        assert (x.input, x.result, x.trace) == (y.input, y.result, y.trace)
    for line in fast[::7]:
        answer = json.loads(line)
        if answer["status"] == 200:
            assert service.replay(answer["decision_id"])["identical"] is True


def test_a_line_is_left_to_the_line_path_unless_plainly_well_formed():
    good = {"policy": DUL, "as_of": "2014-03-01", "person": {"birth_date": "1960-01-01"}}
    assert batch_columns.parse(json.dumps(good).encode()) == good
    for odd in ({**good, "extra": 1}, {**good, "ref": True}, {**good, "ref": "x" * 129}, {**good, "person": []},
                {**good, "person": {"income": 1.5}}, {**good, "person": {"codice_fiscale": "RSSMRA80A01F205X"}},
                {**good, "version": 2013}, {**good, "as_of": None}):
        assert batch_columns.parse(json.dumps(odd).encode()) is None, odd
    assert batch_columns.parse(b'{"policy": "a/b", "as_of": "2014-03-01", "person": {"n": 1e999}}') is None
    assert batch_columns.parse(b'{"policy": "a/b", "as_of": "2014-03-01", "person": {"n": 123456789012345678901}}') \
        is None
    assert batch_columns.parse(b"{not json") is None
