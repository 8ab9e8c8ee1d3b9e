"""The durable-rules fact written straight to JSON text is the very fact ``event`` builds."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from engine.decide.durable import DurableBackend
from engine.decide.evaluate import decide, prepare_facts

from ..strategies import AS_OF, persons


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=persons)
def test_text_is_the_event_as_json(dul, p):
    backend = DurableBackend.for_policy(dul)
    env = prepare_facts(dul, p, AS_OF)
    _, _, points = decide(dul, env, backend)
    for stage, facts in ((1, env), (2, {**env, "points": points})):
        assert json.loads(backend.text(stage, facts, "42")) == {**backend.event(stage, facts), "sid": "42", "id": "f"}
