"""A decision's compact trace renders the very entries, and the very canonical bytes, of the trace
built rule by rule (``explain_reference``), whatever the facts, fired rules and odd texts."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from api import jsontext
from engine.avviso.synthetic import Generator
from engine.decide import DurableBackend, Trace, decide, evaluate, prepare_facts
from engine.decide.backends import ReferenceBackend
from engine.decide.evaluate import explain

from . import explain_reference
from .test_explain import EDITIONS
from ..strategies import AS_OF, persons

PERSON = {"birth_date": "1970-05-31", "gender": "F", "residence_region": "lombardia", "domicile_region": "lombardia",
          "workplace_region": None, "employment_status": "unemployed", "unemployed_since": "2012-01-31",
          "education_level": "primary", "income_support": "none", "solidarity_agreement": False,
          "last_cigd_period": False}
_odd_text = st.text(max_size=6) | st.sampled_from(['"', "\\", "\x00", "\u2028", "\ud800", "é", "\x7f", "\x1f"])
_value = st.none() | st.booleans() | st.integers() | _odd_text | st.lists(_odd_text, max_size=3)


@pytest.mark.parametrize("edition", EDITIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 9), region=st.sampled_from(["lombardia", "basilicata"]), data=st.data())
def test_compact_trace_renders_the_reference_trace(registry, edition, seed, region, data):
    programme, version = edition.split("@")
    policy = registry.get(programme, version)
    person = Generator(registry.dictionary, region, policy.valid_from).person(random.Random(seed))
    person = {k: list(v) if isinstance(v, tuple) else v for k, v in person.items()}
    env = prepare_facts(policy, person, policy.valid_from)
    fired, banded, points = decide(policy, env, ReferenceBackend(policy))
    keys = sorted(r.key for r in policy.rules())
    if data.draw(st.booleans()):  # any fired sets, backstop paths included
        fired = frozenset(data.draw(st.lists(st.sampled_from(keys), max_size=len(keys))))
        banded = frozenset(data.draw(st.lists(st.sampled_from(keys), max_size=len(keys))))
    want = explain_reference.explain(policy, env, policy.valid_from, fired, banded, points, "test")
    got = explain(policy, env, policy.valid_from, fired, banded, points, "test", compact=True)
    trace = got.pop("trace")
    assert isinstance(trace, Trace)
    expected_trace = want.pop("trace")
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert json.dumps(trace.entries(), ensure_ascii=False) == json.dumps(expected_trace, ensure_ascii=False)
    assert trace.canonical() == jsontext.canonical(expected_trace)
    assert jsontext.canonical(trace) == jsontext.canonical(expected_trace)
    assert jsontext.dumps({"trace": trace}) == jsontext.dumps({"trace": expected_trace})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_canonical_text_of_odd_fact_values(dul, data):
    """Fact values the engine never makes (any text, lists, big integers) are still written exactly."""
    env = prepare_facts(dul, data.draw(persons), AS_OF)
    fired, banded, points = decide(dul, env, ReferenceBackend(dul))
    trace = evaluate(dul, {}, AS_OF, ReferenceBackend(dul), env=env, compact=True)["trace"]
    values = tuple(data.draw(_value) for _ in trace.values)
    marks = trace.plan.marks(fired, banded, data.draw(st.booleans()))
    trace = Trace(trace.plan, values, marks)
    assert trace.canonical() == jsontext.canonical(trace.entries())


def test_results_keep_their_traces_apart(dul):
    env = prepare_facts(dul, PERSON, AS_OF)
    backend = DurableBackend.for_policy(dul)
    first = evaluate(dul, {}, AS_OF, backend, env=env, compact=True)["trace"]
    entries = first.entries()
    entries[0]["fired"] = "changed"
    entries[0]["facts"]["x"] = 1
    assert first.entries()[0]["fired"] != "changed" and "x" not in first.entries()[0]["facts"]
