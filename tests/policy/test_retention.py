"""The retention period of an edition: whole years with provenance, read by the decision store."""
from __future__ import annotations

import pytest

from engine.errors import PolicyErrors
from engine.policy.registry import Registry


def load(policy_tree, minimal, block: str):
    text = minimal().replace("legal_basis:", block + "legal_basis:", 1)
    policy_tree("test/prog/2020.yaml", text)
    return Registry.load(policy_tree.root)


def test_a_confirmed_retention_is_read_in_years(policy_tree, minimal):
    registry = load(policy_tree, minimal, "retention:\n  years: {value: 5, source: act, status: confirmed}\n")
    assert registry.get("test/prog", "2020").retention_years == 5


def test_no_retention_block_means_unstated(policy_tree, minimal):
    assert load(policy_tree, minimal, "").get("test/prog", "2020").retention_years is None


@pytest.mark.parametrize("value", ["0", "2.5", "'ten'", "101"])
def test_a_retention_that_is_not_whole_years_is_refused_with_its_path(policy_tree, minimal, value):
    with pytest.raises(PolicyErrors) as info:
        load(policy_tree, minimal, f"retention:\n  years: {{value: {value}, source: act, status: confirmed}}\n")
    assert any(tuple(e.location.path[:2]) == ("retention", "years") for e in info.value.errors)


def test_a_placeholder_retention_must_say_what_is_missing(policy_tree, minimal):
    with pytest.raises(PolicyErrors) as info:
        load(policy_tree, minimal, "retention:\n  years: {value: 10, status: placeholder}\n")
    assert [e.code for e in info.value.errors] == ["policy_provenance_error"]


def test_every_shipped_edition_states_a_retention_period(registry):
    assert all(p.retention_years for p in registry.policies)
    assert all(any(f.path == ("retention", "years") for f in p.placeholders) or p.retention_years
               for p in registry.policies)
