"""Issue 19, defect 10: a hostile edition cannot make `almp validate` work for minutes.

1,000 bands of 1,900-character conditions took 39 s and 216 MB to validate. The compiler now
refuses an edition past its bounds before the expensive stages, and says which bound, where.
"""
from __future__ import annotations

import pytest

from engine.errors import PolicyErrors
from engine.policy.registry import Registry


def _condition(i: int, length: int = 1900) -> str:
    parts, k = [], 0
    while True:
        part = f"(age >= {18 + (i + k) % 50} or age < {(i * 7 + k) % 97 + 1})"
        if len(" and ".join(parts + [part])) > length:
            return " and ".join(parts)
        parts.append(part)
        k += 1


def _with_bands(minimal, count: int, length: int = 1900) -> str:
    bands = "".join(f"  - id: b{i}\n    label: B{i}\n    when: {_condition(i, length)}\n    reference: {{act: act}}\n"
                    for i in range(count))
    return minimal() + "bands:\n" + bands


def _with_rules(minimal, count: int, condition) -> str:
    rules = "".join(f"  - id: r{i}\n    label: R{i}\n    when: {condition(i)}\n    reason: x\n    reference: {{act: act}}\n"
                    for i in range(count))
    return minimal().replace("eligibility:\n", "eligibility:\n" + rules)


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.fixture
def parses(monkeypatch):
    """How many expressions the compiler parsed (the work a bound must prevent)."""
    from engine.expr import parser
    from engine.policy import basket, context
    calls = []
    real = parser.parse

    def counting(text, *a, **k):
        calls.append(len(text))
        return real(text, *a, **k)
    for module in (parser, context, basket):  # units.py imports it from parser when it runs
        monkeypatch.setattr(module, "parse", counting)
    return calls


def test_the_reported_thousand_bands_are_refused_before_any_condition_is_compiled(policy_tree, minimal, parses):
    policy_tree("test/prog/2020.yaml", _with_bands(minimal, 1000))  # 2 MB
    with pytest.raises(PolicyErrors) as info:
        Registry.load(policy_tree.root)
    assert [e.code for e in info.value.errors] == ["policy_yaml_error"] and "byte" in info.value.errors[0].message
    assert len(parses) == 0


def test_hundreds_of_bands_are_refused_before_any_condition_is_compiled(policy_tree, minimal, parses):
    path = policy_tree("test/prog/2020.yaml", _with_bands(minimal, 200))
    with pytest.raises(PolicyErrors) as info:
        Registry.load(policy_tree.root)
    [err] = [e for e in info.value.errors if e.code == "policy_limit_error" and "fasce" in e.message]
    assert "200" in err.message
    assert err.location.file == str(path)
    assert err.location.line == _line_of(path, "- id: b50")  # the first band past the bound
    assert len(parses) == 0, len(parses)


def test_too_much_condition_text_is_refused_at_the_rule_that_crosses_the_bound(policy_tree, minimal, parses):
    from engine.policy.limits import MAX_CONDITION_TEXT
    per_rule = 1900
    path = policy_tree("test/prog/2020.yaml", _with_rules(minimal, 60, lambda i: _condition(i, per_rule)))
    with pytest.raises(PolicyErrors) as info:
        Registry.load(policy_tree.root)
    [err] = [e for e in info.value.errors if e.code == "policy_limit_error"]
    assert "caratteri" in err.message
    lengths = [len(_condition(i, per_rule)) for i in range(60)]
    crossing = next(i for i in range(60) if sum(lengths[:i + 1]) > MAX_CONDITION_TEXT)
    assert err.location.line == _line_of(path, f"- id: r{crossing}\n".strip()) + 2  # its `when:` line
    assert len(parses) == 0


def test_too_many_expression_nodes_are_refused_and_named(policy_tree, minimal):
    from engine.policy.limits import MAX_CONDITION_TEXT, MAX_NODES
    # short comparisons: many nodes per character, under the text bound
    dense = lambda i: " and ".join(["age > 1"] * 60)  # noqa: E731 - 60 comparisons, 180+ nodes, 600 characters
    count = MAX_NODES // 150 + 2
    assert count * len(dense(0)) < MAX_CONDITION_TEXT
    policy_tree("test/prog/2020.yaml", _with_rules(minimal, count, dense))
    with pytest.raises(PolicyErrors) as info:
        Registry.load(policy_tree.root)
    errs = [e for e in info.value.errors if e.code == "policy_limit_error"]
    assert len(errs) == 1 and "nodi" in errs[0].message
    assert not [e for e in info.value.errors if e.code.startswith("policy_fact_unused")]  # no follow-on noise


def test_the_shipped_editions_are_well_within_the_bounds(registry):
    from engine.expr import nodes
    from engine.policy.limits import MAX_BANDS, MAX_NODES, MAX_RULES
    for policy in registry.policies:
        assert len(policy.bands) * 4 <= MAX_BANDS
        assert (sum(len(e.alternatives) for e in policy.eligibility) + len(policy.points)) * 4 <= MAX_RULES
        assert sum(sum(1 for _ in nodes.walk(r.condition.node)) for r in policy.rules()) * 4 <= MAX_NODES


def test_band_analysis_work_is_bounded_by_the_size_of_the_conditions(registry, monkeypatch):
    from engine.expr import nodes
    from engine.policy import bands, limits
    policy = registry.get("lombardia/dote-unica-lavoro", "2020")
    size = sum(sum(1 for _ in nodes.walk(r.condition.node)) for r in policy.rules())
    assert sum(1 for _ in bands._grid(policy)) == bands.MAX_GRID  # the shipped edition keeps its full sample
    monkeypatch.setattr(limits, "BAND_WORK", size * 5000)  # as if its conditions were four times larger
    tried = sum(1 for _ in bands._grid(policy))
    assert tried * size <= limits.BAND_WORK and tried == 5000


def test_validate_names_the_bound_in_italian_with_file_and_line(policy_tree, minimal, capsys):
    from almp.cli import main
    path = policy_tree("test/prog/2020.yaml", _with_bands(minimal, 60, 100))
    assert main(["validate", str(policy_tree.root)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{_line_of(path, '- id: b50')}:" in err and "policy_limit_error" in err
    assert "fasce" in err and "internal_error" not in err
    assert main(["--lang", "en", "validate", str(policy_tree.root)]) == 1
    assert "bands" in capsys.readouterr().err
