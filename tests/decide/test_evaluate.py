"""Evaluation: durable-rules decides, the reference evaluator agrees, results are deterministic."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.decide.backends import ReferenceBackend
from engine.decide.durable import DurableBackend
from engine.errors import InputErrors, PolicyNotFound
from engine.decide.evaluate import evaluate

from ..conftest import person
from ..strategies import AS_OF, persons




def strip_backend(result):
    return {**result, "engine": {**result["engine"], "backend": None}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_durable_rules_agree_with_the_reference_evaluator(dul, p):
    durable = evaluate(dul, p, AS_OF, DurableBackend.for_policy(dul))
    reference = evaluate(dul, p, AS_OF, ReferenceBackend(dul))
    assert strip_backend(durable) == strip_backend(reference)
    assert durable["engine"]["backend"] == "durable-rules"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_every_eligible_person_gets_exactly_one_band(dul, p):
    result = evaluate(dul, p, AS_OF, DurableBackend.for_policy(dul))
    if result["eligible"]:
        assert result["band"]["id"] in {b.id for b in dul.bands}
        fired = [t for t in result["trace"] if t["kind"] == "band" and t["fired"]]
        assert len(fired) == 1
        assert result["benefit"]["duration_months"] in (3, 6)
    else:
        assert result["band"] is None and result["reasons"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_evaluation_is_deterministic_byte_for_byte(dul, p):
    backend = DurableBackend.for_policy(dul)
    first = json.dumps(evaluate(dul, p, AS_OF, backend), sort_keys=True)
    for _ in range(2):
        assert json.dumps(evaluate(dul, dict(reversed(list(p.items()))), AS_OF, backend), sort_keys=True) == first


def test_decision_explains_itself(dul):
    result = evaluate(dul, person(), AS_OF, DurableBackend.for_policy(dul))
    assert result["policy"]["content_hash"] == dul.content_hash
    assert result["band"]["points"] == sum(b["points"] for b in result["band"]["points_breakdown"])
    assert all(t["reference"]["act"] for t in result["trace"])
    fired = {t["rule"] for t in result["trace"] if t["fired"]}
    assert "disoccupati-residenti" in fired and "giovani-inoccupati" not in fired
    assert "$.bands[2].benefit.amount" in result["provisional"]  # placeholders are never passed off as law


def test_failed_rule_gives_reason_and_reference(dul):
    result = evaluate(dul, person(residence_region="piemonte", domicile_region="piemonte",
                                  workplace_region="veneto"), AS_OF)
    assert result["eligible"] is False
    [reason] = result["reasons"]
    assert reason["rule"] == "destinatari" and reason["reference"]["act"] == "avviso-2013"


def test_missing_and_wrong_facts_are_named(dul):
    p = person()
    del p["birth_date"]
    p["gender"] = "X"
    p["agee"] = 3
    with pytest.raises(InputErrors) as info:
        evaluate(dul, p, AS_OF)
    by_path = {pr.path: pr.code for pr in info.value.problems}
    assert by_path == {("person", "birth_date"): "missing_fact", ("person", "gender"): "invalid_value",
                       ("person", "agee"): "unknown_fact"}


def test_derived_facts_cannot_be_sent(dul):
    with pytest.raises(InputErrors) as info:
        evaluate(dul, person(age=40), AS_OF)
    assert info.value.problems[0].code == "derived_fact"


def test_edition_is_chosen_by_date(registry):
    assert registry.get("lombardia/dote-unica-lavoro", as_of=dt.date(2014, 3, 1)).version == "2013"
    with pytest.raises(PolicyNotFound):
        registry.get("lombardia/dote-unica-lavoro", as_of=dt.date(2013, 1, 1))
    with pytest.raises(PolicyNotFound):
        registry.get("../etc/passwd", as_of=dt.date(2014, 1, 1))


def test_decisions_do_not_accumulate_in_the_core(dul):
    """Every evaluation leaves the reused durable-rules state empty: far more than 1,024 evaluations run."""
    backend = DurableBackend.for_policy(dul)
    env = dul.dictionary.prepare(person(), set(dul.needed_inputs), AS_OF)
    for _ in range(3000):
        backend.match(1, env)
    assert backend.match(1, env)


def test_threads_get_the_same_answers_as_one_thread(dul):
    """The API evaluates from a thread pool: durable-rules calls are serialised, results unchanged."""
    import random
    import threading

    rng = random.Random(7)
    people = [person(birth_date=f"{rng.randint(1950, 1995)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                     employment_status=rng.choice(["unemployed", "employed", "suspended"]),
                     income_support=rng.choice(["none", "cigs", "mobility"]),
                     workplace_region=rng.choice(["lombardia", "veneto", None]),
                     solidarity_agreement=rng.random() < 0.2) for _ in range(200)]
    backend = DurableBackend.for_policy(dul)
    expected = [json.dumps(evaluate(dul, p, AS_OF, backend), sort_keys=True) for p in people]
    results: dict[int, list] = {}

    def worker(k):
        results[k] = [json.dumps(evaluate(dul, p, AS_OF, backend), sort_keys=True) for p in people]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(8))
