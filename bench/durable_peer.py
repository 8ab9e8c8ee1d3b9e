"""The peer of almp's decision path: the same compiled ruleset's durable-rules C core driven directly.

Used by ``bench.compare`` (``decision_path_vs_durable_c_core``) and ``bench/engine_decisions.py``, so
both measure almp against one and the same driver. The asserts are encoded beforehand (no almp code
runs while the peer is timed) and the core is driven the way almp drives it: every fact asserted
into one reused state under one id, its actions drained, then retracted (``engine/decide/durable.py``
says why), through the stock binding's calls: the leanest a user of durable-rules 2.0.28 can drive it.
``drive_drained`` drives it through almp's own addition to the vendored binding instead, as almp's
decision path does, to show how much of almp's time is its own around the core. Its own state id, so the peer and almp never share a state. ``drive_fresh_states`` is the
driver before almp reused its state (a new sid per assert, the state deleted after), kept to show
what reuse changed.
"""
from __future__ import annotations

import json

PEER_SID = "peer"
_RETRACT = '{"sid":"' + PEER_SID + '","id":"f"}'


def encode(policy, durable, envs) -> tuple[list, list]:
    """Each person's asserts, as the reused-state peer sends them and as the fresh-state driver did:
    stage 1, and stage 2 (with the points) when the person is eligible for a band."""
    from engine.decide.evaluate import decide
    texts, fresh = [], []
    for i, env in enumerate(envs):
        _fired, banded, points = decide(policy, env, durable)
        texts.append((durable.text(1, env, PEER_SID),) if not banded else
                     (durable.text(1, env, PEER_SID), durable.text(2, env, PEER_SID, points)))
        first = dict(durable.event(1, env), sid=f"c1-{i}")
        second = dict(durable.event(2, {**env, "points": points}), sid=f"c2-{i}") if banded else None
        fresh.append((json.dumps(first), first["sid"]) if second is None else
                     (json.dumps(first), first["sid"], json.dumps(second), second["sid"]))
    return texts, fresh


def drive(durable, texts) -> None:
    """Every person's asserts through the C core, one reused state, each fact retracted after its actions."""
    import durable_rules_engine as core
    handle = durable._handle._handle
    for item in texts:
        for text in item:
            _code, state = core.assert_fact(handle, text)
            message = core.start_action_for_state(handle, state)
            message = message and message[1]
            while message:
                message = core.complete_and_start_action(handle, state)
            core.retract_fact(handle, _RETRACT)


def drive_drained(durable, texts) -> None:
    """The same asserts through almp's own addition to the binding, ``assert_drain_retract`` (one call
    per fact, no action messages written): the core's time as almp's decision path pays it."""
    import durable_rules_engine as core
    handle = durable._handle._handle
    assert_drain_retract = core.assert_drain_retract
    for item in texts:
        for text in item:
            assert_drain_retract(handle, text, _RETRACT)


def drive_fresh_states(durable, fresh) -> None:
    """The driver before almp reused its state: a new sid per assert, the state deleted after."""
    import durable_rules_engine as core
    handle = durable._handle._handle
    for item in fresh:
        for k in range(0, len(item), 2):
            code, state = core.assert_fact(handle, item[k])
            if code != 1:
                message = core.start_action_for_state(handle, state)
                message = message and message[1]
                while message:
                    message = core.complete_and_start_action(handle, state)
            core.delete_state(handle, item[k + 1])
