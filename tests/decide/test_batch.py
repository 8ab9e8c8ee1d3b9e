"""The batch path (policy compiled to one Python function) agrees with durable-rules."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from engine.decide.batch import compile_decider
from engine.decide.durable import DurableBackend
from engine.decide.evaluate import decide, prepare_facts

from ..strategies import AS_OF, persons


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_batch_decider_agrees_with_durable_rules(dul, p):
    env = prepare_facts(dul, p, AS_OF)
    fired, banded, points = decide(dul, env, DurableBackend.for_policy(dul))
    eligible = all(any(a.key in fired for a in r.alternatives) for r in dul.eligibility)
    band = next((b.id for b in dul.bands if b.rule.key in banded), None)
    assert compile_decider(dul)(env) == (eligible, band, points if eligible else None)


def test_generated_function_has_no_builtins(dul):
    fn = compile_decider(dul)
    assert fn.__globals__["__builtins__"] == {}


@pytest.mark.parametrize("when", ['age + 1 > 30', 'months_between(unemployed_since, date("2014-01-01")) > 3',
                                  'not (age >= 30) or unknown(unemployed_since)'])
def test_fallback_atoms_still_agree(policy_tree, minimal, when):
    """Conditions outside the fast shapes go through the reference closures, with the same answer."""
    from engine.policy.registry import Registry
    text = minimal().replace("facts: [age, employment_status]", "facts: [age, employment_status, unemployed_since]")
    text = text.replace('when: employment_status == "unemployed"',
                        f"when: 'employment_status == \"unemployed\" and ({when}) or unknown(unemployed_since) and age > 45'")
    policy_tree("test/prog/2020.yaml", text)
    policy = Registry.load(policy_tree.root).get("test/prog", "2020")
    fn = compile_decider(policy)
    backend = DurableBackend.for_policy(policy)
    for age in (20, 29, 30, 31, 50):
        for since in (None, "2013-06-01", "2013-11-15"):
            raw = {"birth_date": f"{2020 - age}-01-01", "employment_status": "unemployed", "unemployed_since": since}
            env = prepare_facts(policy, raw, AS_OF)
            fired, _, _ = decide(policy, env, backend)
            eligible = all(any(a.key in fired for a in r.alternatives) for r in policy.eligibility)
            assert fn(env)[0] == eligible
