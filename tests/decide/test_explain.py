"""The explanation compiled per edition is the one built rule by rule before, value for value."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.avviso.synthetic import Generator
from engine.decide.backends import ReferenceBackend
from engine.decide.evaluate import decide, explain, prepare_facts

from . import explain_reference
from ..strategies import AS_OF, examples, persons

EDITIONS = ["basilicata/capitale-lavoro@2018", "basilicata/destinazione-over-35@2018",
            "lombardia/dote-unica-lavoro@2013", "lombardia/dote-unica-lavoro@2019", "lombardia/dote-unica-lavoro@2020",
            "lombardia/dote-unica-lavoro@2023", "lombardia/reti-di-partenariato-destinatari@2012",
            "national/assegno-di-ricollocazione@2017", "national/assegno-di-ricollocazione@2022-cigs"]


@pytest.mark.parametrize("edition", EDITIONS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 9), region=st.sampled_from(["lombardia", "basilicata"]), fired_noise=st.booleans())
def test_compiled_explanation_is_the_reference_one(registry, edition, seed, region, fired_noise):
    programme, version = edition.split("@")
    policy = registry.get(programme, version)
    person = Generator(registry.dictionary, region, policy.valid_from).person(random.Random(seed))
    person = {k: list(v) if isinstance(v, tuple) else v for k, v in person.items()}  # JSON has lists
    env = prepare_facts(policy, person, policy.valid_from)
    fired, banded, points = decide(policy, env, ReferenceBackend(policy))
    if fired_noise:  # a backstop path too: every band fired at once
        banded = frozenset(b.rule.key for b in policy.bands)
    got = explain(policy, env, policy.valid_from, fired, banded, points, "test")
    want = explain_reference.explain(policy, env, policy.valid_from, fired, banded, points, "test")
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)  # key order included


def test_results_do_not_share_their_top_level_parts(registry):
    policy = registry.get("lombardia/dote-unica-lavoro", "2013")
    env = prepare_facts(policy, examples(persons, 1)[0], AS_OF)
    fired, banded, points = decide(policy, env, ReferenceBackend(policy))
    first = explain(policy, env, AS_OF, fired, banded, points, "test")
    first["policy"]["id"] = "changed"
    first["trace"][0]["fired"] = "changed"
    second = explain(policy, env, AS_OF, fired, banded, points, "test")
    assert second["policy"]["id"] == policy.id and second["trace"][0]["fired"] != "changed"


def test_results_alike_share_nothing_the_caller_can_change(registry):
    """Results with the same fired rules are built from one remembered outcome: each still gets its own
    reasons, band (and its points breakdown), benefit and provisional list."""
    policy = registry.get("lombardia/dote-unica-lavoro", "2013")
    env = prepare_facts(policy, examples(persons, 1)[0], AS_OF)
    bands = {b.rule.key for b in policy.bands}
    every = frozenset(r.key for r in policy.rules()) - bands
    shapes = set()
    for fired, banded in ((frozenset(), frozenset()), (every, frozenset({policy.bands[-1].rule.key}))):
        first = explain(policy, env, AS_OF, fired, banded, 7, "test")
        want = json.dumps(first)
        first["reasons"].append("changed")
        for reason in first["reasons"][:-1]:
            reason["message"] = "changed"
        first["provisional"].append("changed")
        if first["band"]:
            first["band"]["id"] = "changed"
            first["band"]["points_breakdown"].append("changed")
            for line in first["band"]["points_breakdown"][:-1]:
                line["points"] = "changed"
            first["benefit"]["amount"] = "changed"
        assert json.dumps(explain(policy, env, AS_OF, fired, banded, 7, "test")) == want
        shapes.add((bool(first["reasons"][:-1]), bool(first["band"])))
    assert shapes == {(True, False), (False, True)}  # a refusal with reasons, and a band with its breakdown
