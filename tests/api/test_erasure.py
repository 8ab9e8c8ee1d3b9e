"""Erasure without breaking the chain: sealed facts, destroyed keys, retention, 410 on read (issue 19)."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from stdnum.it import codicefiscale

from almp.cli import main

from .conftest import DUL, headers

JUNE_2019 = "2019-06-01"
FACTS = {"residence_region": "lombardia", "domicile_region": "lombardia", "workplace_region": "lombardia",
         "employment_status": "unemployed", "unemployed_since": "2018-04-01", "income_support": "none",
         "income_support_since": None, "solidarity_agreement": False, "police_or_armed_forces": False,
         "command_authorisation": False, "master_enrolled": False}
BORN = [dt.date(1961, 1, 15), dt.date(1975, 7, 3), dt.date(1990, 11, 28)]


def code_for(born: dt.date, gender: str = "F") -> str:
    body = f"BNCLCU{born.year % 100:02d}{'ABCDEHLMPRST'[born.month - 1]}{born.day + (40 if gender == 'F' else 0):02d}F205"
    return body + codicefiscale.calc_check_digit(body)


def decide(client, born: dt.date, **extra_headers) -> dict:
    body = {"policy": DUL, "as_of": JUNE_2019, "version": "2019", "person": {**FACTS, "codice_fiscale": code_for(born)}}
    response = client.post("/v1/eligibility", json=body, headers=headers("evaluate", **extra_headers))
    assert response.status_code == 200, response.text
    return response.json()


def erase(client, born: dt.date, why="richiesta dell'interessato, prot. 42"):
    return client.post("/v1/subjects/erase", json={"codice_fiscale": code_for(born), "why": why},
                       headers=headers("admin"))


def rows(db_url, query, **params):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(text(query), params).all()
    engine.dispose()
    return found


def verify(db_url, capsys) -> tuple[int, str]:
    code = main(["audit", "verify", "--database", db_url])
    out = capsys.readouterr()
    return code, out.out + out.err


# -- the sealing itself ----------------------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
result_like = st.dictionaries(st.sampled_from(["outcome", "eligible", "band", "reasons", "trace", "policy",
                                               "provisional", "lines", "benefit", "regions"]) | st.text(max_size=8),
                              json_value | st.dictionaries(st.sampled_from(["id", "label", "points"]), json_value),
                              max_size=8)


@settings(deadline=None)
@given(result_like)
def test_split_then_merge_gives_back_the_result_and_the_clear_part_holds_only_allowed_keys(result):
    from api.store.sealing import CLEAR_RESULT, merge, split
    clear, rest = split(result)
    assert merge(clear, rest) == result
    assert set(clear) <= set(CLEAR_RESULT)
    for key, value in clear.items():
        if CLEAR_RESULT[key] == "scalar":
            assert not isinstance(value, (dict, list))


@settings(deadline=None)
@given(json_value, st.uuids(), st.uuids())
def test_sealed_facts_open_only_under_their_key_and_their_decision(personal, decision, other):
    from api.store.sealing import Sealer, SealBroken
    key, wrong = Sealer.new_data_key(), Sealer.new_data_key()
    sealed = Sealer.seal(key, "k1", str(decision), {"p": personal})
    assert Sealer.open(key, str(decision), sealed) == {"p": personal}
    with pytest.raises(SealBroken):
        Sealer.open(wrong, str(decision), sealed)
    if other != decision:
        with pytest.raises(SealBroken):
            Sealer.open(key, str(other), sealed)


def test_a_wrapped_key_opens_only_under_its_master_key_and_id():
    from api.store.sealing import Sealer, SealBroken
    master, other = Sealer(os.urandom(32)), Sealer(os.urandom(32))
    data_key = Sealer.new_data_key()
    wrapped = master.wrap(data_key, "key-a")
    assert master.unwrap(wrapped, "key-a") == data_key
    for opener, key_id in ((other, "key-a"), (master, "key-b")):
        with pytest.raises(SealBroken):
            opener.unwrap(wrapped, key_id)


# -- through the service ---------------------------------------------------------------------------------------

def test_facts_are_sealed_in_the_store_and_read_back_whole(client, db_url):
    answer = decide(client, BORN[0])
    stored = client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit")).json()
    assert stored["input"]["person"]["birth_date"] == "1961-01-15"
    assert stored["result"]["band"] == {k: v for k, v in answer["band"].items()}
    assert stored["trace"] == answer["trace"]
    (row,) = rows(db_url, "SELECT input_json, result_json, trace_json, sealed, request_hash FROM decisions")
    clear = " ".join(str(v) for v in row[:3]) + row.request_hash
    assert "1961-01-15" not in clear and "unemployed" not in clear and "points_breakdown" not in clear
    assert json.loads(row.result_json)["outcome"] == answer["outcome"]
    assert row.sealed.startswith("v1:")


def test_erasing_a_subject_leaves_the_chain_whole_and_their_outcomes_countable(client, db_url, capsys):
    kept = decide(client, BORN[0])
    gone = [decide(client, BORN[1]), decide(client, BORN[1])]
    response = erase(client, BORN[1])
    assert response.status_code == 200, response.text
    assert response.json()["keys_erased"] == 1 and response.json()["decisions"] == 2
    today = dt.datetime.now(dt.timezone.utc).date()
    for answer in gone:
        got = client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit"))
        assert got.status_code == 410
        body = got.json()
        assert body["code"] == "personal_data_erased"
        assert body["detail"] == f"dati personali cancellati il {today:%d/%m/%Y}"
        assert body["decision"]["summary"]["outcome"] == answer["outcome"]
        assert body["decision"]["summary"]["band"]["id"] == answer["band"]["id"]
        # the birth date and the code, not "1975" alone: hashes and ids in the body may hold those digits
        assert BORN[1].isoformat() not in got.text and code_for(BORN[1]) not in got.text
        assert "input" not in body and "trace" not in body
        replay = client.post(f"/v1/decisions/{answer['decision_id']}/replay", headers=headers("audit"))
        assert replay.status_code == 410 and replay.json()["code"] == "personal_data_erased"
        english = client.post(f"/v1/decisions/{answer['decision_id']}/replay",
                              headers=headers("audit", **{"Accept-Language": "en-GB,en;q=0.8"}))
        assert english.status_code == 410 and english.json()["detail"].startswith("personal data erased on ")
        statement = client.get(f"/v1/decisions/{answer['decision_id']}/statement", headers=headers("audit"))
        assert statement.status_code == 410
    assert client.get(f"/v1/decisions/{kept['decision_id']}", headers=headers("audit")).status_code == 200
    assert client.post(f"/v1/decisions/{kept['decision_id']}/replay", headers=headers("audit")).json()["identical"]
    code, output = verify(db_url, capsys)
    assert code == 0, output
    outcomes = rows(db_url, "SELECT result_json FROM decisions")
    assert len(outcomes) == 3 and all(json.loads(r[0])["outcome"] for r in outcomes)
    (key,) = rows(db_url, "SELECT wrapped, erased_by, erased_why, erased_at FROM data_keys WHERE wrapped IS NULL")
    assert key.erased_by == "admin-tester" and "prot. 42" in key.erased_why and key.erased_at is not None


def test_erasing_twice_erases_nothing_more_and_the_subject_decided_again_gets_a_new_key(client):
    first = decide(client, BORN[2])
    assert erase(client, BORN[2]).json()["keys_erased"] == 1
    assert erase(client, BORN[2]).json() == {**erase(client, BORN[2]).json(), "keys_erased": 0, "decisions": 0}
    again = decide(client, BORN[2])
    assert client.get(f"/v1/decisions/{again['decision_id']}", headers=headers("audit")).status_code == 200
    assert client.get(f"/v1/decisions/{first['decision_id']}", headers=headers("audit")).status_code == 410


def test_an_idempotent_retry_of_an_erased_decision_is_410_not_someone_elses_answer(client):
    decide(client, BORN[0], **{"Idempotency-Key": "erase-me"})
    erase(client, BORN[0])
    body = {"policy": DUL, "as_of": JUNE_2019, "version": "2019",
            "person": {**FACTS, "codice_fiscale": code_for(BORN[0])}}
    retry = client.post("/v1/eligibility", json=body, headers=headers("evaluate", **{"Idempotency-Key": "erase-me"}))
    assert retry.status_code == 410 and retry.json()["code"] == "personal_data_erased"


def test_erasure_needs_the_admin_role_and_one_subject(client):
    body = {"codice_fiscale": code_for(BORN[0]), "why": "x"}
    assert client.post("/v1/subjects/erase", json=body, headers=headers("audit")).status_code == 403
    both = {**body, "subject": "ps1:" + "0" * 64}
    response = client.post("/v1/subjects/erase", json=both, headers=headers("admin"))
    assert response.status_code == 422 and code_for(BORN[0]) not in response.text
    bad = client.post("/v1/subjects/erase", json={"subject": "ps1:zz", "why": "x"}, headers=headers("admin"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "subject"]


# -- retention ---------------------------------------------------------------------------------------------------

def test_retention_apply_erases_only_subjects_past_their_editions_period(client, db_url, capsys):
    old, new = decide(client, BORN[0]), decide(client, BORN[1])
    engine = create_engine(db_url)
    with engine.begin() as conn:  # the first subject decided eleven years ago (the shipped editions keep 10)
        conn.execute(text("UPDATE data_keys SET retain_until = :d WHERE id IN (SELECT id FROM data_keys "
                          "ORDER BY created_at LIMIT 1)"), {"d": "2016-01-01"})
    engine.dispose()
    assert main(["retention", "apply", "--dry-run", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "1 interessato oltre il periodo di conservazione sarebbe cancellato (1 decisioni)" in out
    assert "nulla è stato cancellato" in out
    assert client.get(f"/v1/decisions/{old['decision_id']}", headers=headers("audit")).status_code == 200
    assert main(["retention", "apply", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "1 interessato oltre il periodo di conservazione cancellato" in out
    assert client.get(f"/v1/decisions/{old['decision_id']}", headers=headers("audit")).status_code == 410
    assert client.get(f"/v1/decisions/{new['decision_id']}", headers=headers("audit")).status_code == 200
    today = dt.datetime.now(dt.timezone.utc).date()
    later = today.replace(year=today.year + 10) + dt.timedelta(days=1)
    assert main(["retention", "apply", "--today", later.isoformat(), "--database", db_url]) == 0
    assert client.get(f"/v1/decisions/{new['decision_id']}", headers=headers("audit")).status_code == 410
    assert verify(db_url, capsys)[0] == 0


def test_the_data_key_is_kept_as_long_as_the_edition_says_after_the_decision(client, db_url):
    decide(client, BORN[0])
    (until,) = rows(db_url, "SELECT retain_until FROM data_keys")
    today = dt.datetime.now(dt.timezone.utc).date()
    stored = until[0] if isinstance(until[0], dt.date) else dt.date.fromisoformat(str(until[0]))
    assert stored in (today.replace(year=today.year + 10), dt.date(today.year + 10, today.month, 28))


def test_subject_erase_on_the_command_line_by_codice_fiscale_from_stdin(client, db_url, capsys, monkeypatch):
    import io
    answer = decide(client, BORN[0])
    monkeypatch.setattr("sys.stdin", io.StringIO(code_for(BORN[0]) + "\n"))
    assert main(["subject", "erase", "--codice-fiscale", "-", "--why", "prot. 7", "--by", "dpo",
                 "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "i dati personali di 1 decisione non sono più leggibili" in out and code_for(BORN[0]) not in out
    assert client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit")).status_code == 410
    assert main(["subject", "erase", "ps1:nope", "--why", "x", "--database", db_url]) == 2


# -- every subject, whichever are erased -------------------------------------------------------------------------

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.booleans(), min_size=3, max_size=3))
def test_erased_subjects_are_unreadable_and_the_others_are_not(registry, tmp_path_factory, erased):
    from api.service import Service, Store
    from api.store.db import upgrade
    from api.store.sealing import PersonalDataErased
    from api import pseudonym
    url = f"sqlite:///{tmp_path_factory.mktemp('erase') / 'almp.db'}"
    upgrade(url)
    service = Service(registry, Store(url))
    try:
        ids = {}
        for born in BORN:
            body = {"policy": DUL, "as_of": dt.date(2019, 6, 1), "version": "2019",
                    "person": {**FACTS, "codice_fiscale": code_for(born)}}
            ids[born] = service.decide("eligibility", body, caller="t")[0].id
        for born, gone in zip(BORN, erased):
            if gone:
                service.erase_subject(pseudonym.of_codice_fiscale(code_for(born)), by="t", why="test")
        for born, gone in zip(BORN, erased):
            stored = service.get(ids[born])
            assert stored.summary["outcome"]
            if gone:
                with pytest.raises(PersonalDataErased):
                    stored.input
                with pytest.raises(PersonalDataErased):
                    service.replay(ids[born])
            else:
                assert stored.input["person"]["birth_date"] == born.isoformat()
                assert service.replay(ids[born])["identical"]
    finally:
        service.store.close()


@settings(deadline=None, max_examples=50)
@given(st.dictionaries(st.sampled_from(["person", "plan", "claim"]), json_value, max_size=2), result_like,
       json_value)
def test_the_sealed_text_is_the_canonical_json_of_the_personal_part(personal_input, result, trace):
    from api import jsontext
    from api.store.repository import PendingDecision
    from api.store.sealing import split

    class Policy:
        id, version, content_hash = "a/b", "1", "sha256:x"
    pending = PendingDecision.build(kind="eligibility", policy=Policy, as_of=dt.date(2020, 1, 1),
                                    input={"policy": "a/b", "version": None, "as_of": "2020-01-01", **personal_input},
                                    result={**result, "trace": trace}, engine_version="e", caller="c",
                                    idempotency_key=None, req_hash="h")
    body = {k: v for k, v in result.items() if k != "trace"}
    expected = {"input": personal_input, "result": split(body)[1], "trace": trace}
    assert pending.personal_json == jsontext.canonical(expected)
    assert jsontext.loads(pending.answer_result_json) == jsontext.loads(jsontext.canonical(body))


def test_a_decision_without_a_codice_fiscale_is_erased_by_its_id(client, db_url, capsys):
    from .conftest import decide as decide_plain
    answer, other = decide_plain(client), decide_plain(client)
    assert main(["subject", "erase", "--decision", answer["decision_id"], "--why", "prot. 9",
                 "--database", db_url]) == 0
    assert "1 decisione" in capsys.readouterr().out
    assert client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit")).status_code == 410
    assert client.get(f"/v1/decisions/{other['decision_id']}", headers=headers("audit")).status_code == 200
    assert main(["subject", "erase", "--decision", "no-such-id", "--why", "x", "--database", db_url]) == 2
    assert verify(db_url, capsys)[0] == 0


def test_the_service_applies_retention_on_its_own_schedule(client, db_url, monkeypatch, caplog):
    import logging

    from api.retention import start_from_env
    answer = decide(client, BORN[0])
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE data_keys SET retain_until = :d"), {"d": "2016-01-01"})
    engine.dispose()
    monkeypatch.setenv("ALMP_RETENTION_EVERY", "0")
    assert start_from_env(client.app) is None
    monkeypatch.setenv("ALMP_RETENTION_EVERY", "3600")
    scheduler = start_from_env(client.app)
    try:
        with caplog.at_level(logging.WARNING, logger="almp.retention"):
            report = scheduler.run_once()
    finally:
        scheduler.stop()
    assert report.due_subjects == 1 and report.applied
    assert any("1 interessati oltre il periodo di conservazione cancellati" in r.getMessage() for r in caplog.records)
    assert not any("ps1:" in r.getMessage() for r in caplog.records)
    assert client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit")).status_code == 410


def test_replay_on_the_command_line_reports_the_erasure(client, db_url, capsys):
    answer = decide(client, BORN[2])
    erase(client, BORN[2])
    capsys.readouterr()
    assert main(["replay", answer["decision_id"], "--database", db_url]) == 1
    today = dt.datetime.now(dt.timezone.utc).date()
    assert f"dati personali cancellati il {today:%d/%m/%Y}" in capsys.readouterr().err
    assert main(["replay", "--from", today.isoformat(), "--to", today.isoformat(), "--database", db_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["erased"] == 1 and report["decisions"] == 1 and report["failed"] == 0
