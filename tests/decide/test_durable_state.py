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

    def broken(*_):
        raise RuntimeError("drain failed")
    monkeypatch.setattr(durable, "_complete_and_start_action", broken)
    with pytest.raises(EvaluationError, match="drain failed"):
        backend.match(1, env)
    monkeypatch.undo()
    assert backend._sid != sid  # the old state still holds the fact and a started action
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
    with pytest.raises(EvaluationError, match="answered 2"):
        backend.match(1, env)
    assert backend._sid != sid
    assert decide(dul, env, backend) == want and facts_held(backend) == []
