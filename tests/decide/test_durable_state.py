"""Every decision of an edition asserts into one reused durable-rules state: each leaves it empty,
and a state that may hold anything of a failed decision is never used again."""
from __future__ import annotations

import json

import durable_rules_engine as core
import pytest
from hypothesis import HealthCheck, given, settings

from engine.decide import durable
from engine.decide.backends import ReferenceBackend
from engine.decide.durable import DurableBackend
from engine.decide.evaluate import decide, prepare_facts
from engine.errors import EvaluationError

from ..conftest import person
from ..strategies import AS_OF, persons


def facts_held(backend: DurableBackend) -> list:
    return json.loads(core.get_facts(backend._core, backend._sid))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_each_decision_leaves_the_reused_state_empty(dul, p):
    backend = DurableBackend.for_policy(dul)
    sid = backend._sid
    env = prepare_facts(dul, p, AS_OF)
    assert decide(dul, env, backend) == decide(dul, env, ReferenceBackend(dul))
    assert backend._sid == sid and facts_held(backend) == []


def test_a_failure_while_draining_abandons_the_state(dul, monkeypatch):
    backend = DurableBackend.for_policy(dul)
    env = prepare_facts(dul, person(), AS_OF)
    want = decide(dul, env, ReferenceBackend(dul))
    sid = backend._sid

    def broken(handle, fact, _retraction):  # the fact went in, then the core failed before retracting it
        core.assert_fact(handle, fact)
        raise RuntimeError("drain failed")
    monkeypatch.setattr(durable, "_assert_drain_retract", broken)
    with pytest.raises(EvaluationError, match="drain failed"):
        backend.match(1, env)
    monkeypatch.undo()
    assert backend._sid != sid  # the old state still holds the fact and its queued actions
    assert json.loads(core.get_facts(backend._core, sid)) != []
    assert decide(dul, env, backend) == want and facts_held(backend) == []


def test_a_fact_left_in_the_state_is_refused_not_read_as_a_decision(dul):
    """Asserting the fixed id again answers 'observed' and fires nothing: that must be an error."""
    backend = DurableBackend.for_policy(dul)
    env = prepare_facts(dul, person(), AS_OF)
    want = decide(dul, env, ReferenceBackend(dul))
    sid = backend._sid
    code, _ = core.assert_fact(backend._core, backend.text(1, env, sid))  # as if a retract had been lost
    assert code == 0
    with pytest.raises(EvaluationError, match="error code: 2"):
        backend.match(1, env)
    assert backend._sid != sid
    assert decide(dul, env, backend) == want and facts_held(backend) == []


def test_the_drained_call_fires_what_the_stock_calls_fire(dul):
    """``assert_drain_retract`` against the binding's own calls on the same facts: the same rules, in
    the same order, and both leave the state empty."""
    from ..strategies import examples
    backend = DurableBackend.for_policy(dul)
    handle = backend._core
    sid = "stock-vs-drained"
    retraction = json.dumps({"sid": sid, "id": "f"})
    seen = set()
    for p in [person(), *examples(persons, 200)]:
        env = prepare_facts(dul, p, AS_OF)
        for stage in (1, 2):
            text = backend.text(stage, env, sid, points=0 if stage == 2 else None)
            code, state = core.assert_fact(handle, text)
            assert code == 0
            stock = []
            started = core.start_action_for_state(handle, state)
            message = started and started[1]
            while message:
                stock.append(next(iter(json.loads(message))))
                message = core.complete_and_start_action(handle, state)
            core.retract_fact(handle, retraction)
            drained = core.assert_drain_retract(handle, text, retraction)
            assert drained == "".join(name + "\n" for name in stock)
            assert json.loads(core.get_facts(handle, sid)) == []
            seen.add(len(stock))
    assert max(seen) > 3  # the people drawn fire several rules at once
