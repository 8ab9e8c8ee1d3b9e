"""The vendored, patched durable-rules build decides exactly as the reference backend.

durable-rules is built from ``third_party/durable_rules`` (patched for Python 3.13, see its
VENDORED.md). These tests prove that the build almp imports is that one, that the recorded
patch is exactly the difference from the upstream release, and that on every shipped edition
the durable-rules backend gives the reference backend's decision: on each edition's own test
cases and on a generated population drawn from the fact dictionary.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.avviso.policytests import load_cases, test_files as case_files
from engine.avviso.synthetic import Generator
from engine.costs import cost_plan, price_claim
from engine.dates import add_months
from engine.decide import DurableBackend, ReferenceBackend, decide, engine_version, evaluate, prepare_facts
from engine.errors import AlmpError
from engine.policy import Registry

REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "third_party" / "durable_rules"
POLICIES = REPO / "policies"
_REGISTRY = Registry.load(POLICIES)
EDITIONS = sorted((p.id, p.version) for p in _REGISTRY.policies)


# -- the build ---------------------------------------------------------------------------------------

def test_the_imported_durable_rules_is_the_vendored_patched_build():
    """A stale PyPI durable-rules in the environment would shadow the vendored one; this says so."""
    import durable
    import durable_rules_engine
    assert getattr(durable, "__version__", "").startswith("2.0.28+almp."), \
        f"{durable.__file__} is not the vendored durable (pip uninstall durable-rules, then reinstall almp)"
    binary = Path(durable_rules_engine.__file__).read_bytes()
    assert b"PyEval_CallObject" not in binary  # the call Python 3.13 removed
    assert b"PyObject_CallObject" in binary
    # every decision records the build it was made on
    assert engine_version().endswith(f"; durable-rules {durable.__version__}")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to reverse-apply the patch")
def test_the_recorded_patch_is_exactly_the_change_from_upstream(tmp_path):
    """Reverse-applying patches/almp-python313.patch to the tree gives the upstream 2.0.28 files."""
    sums = [line.split(maxsplit=1) for line in (VENDORED / "upstream.sha256").read_text().splitlines()]
    for _, name in sums:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(VENDORED / name, tmp_path / name)
    subprocess.run(["git", "apply", "-R", "-p1", str(VENDORED / "patches" / "almp-python313.patch")],
                   cwd=tmp_path, check=True, capture_output=True)
    differing = [name for digest, name in sums if hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() != digest]
    assert differing == []
    kept = {str(p.relative_to(VENDORED)) for p in VENDORED.rglob("*")
            if p.is_file() and p.suffix in (".c", ".h", ".py") and "__pycache__" not in p.parts}
    assert kept == {name for _, name in sums if name != "LICENSE"}, "a vendored source file is not in upstream.sha256"


# -- every shipped edition's own test cases ----------------------------------------------------------

def _outcome(run):
    """The result of ``run()``, or the error it raised (type and message): both must agree."""
    try:
        return run()
    except AlmpError as exc:
        return ("error", type(exc).__name__, str(exc))


def _without_backend(result):
    if isinstance(result, dict) and isinstance(result.get("engine"), dict):
        return {**result, "engine": {**result["engine"], "backend": None}}
    return result


def _case_outcome(case, policy_id, version, backend_for):
    as_of = case["as_of"] if isinstance(case["as_of"], dt.date) else dt.date.fromisoformat(str(case["as_of"]))

    def run():
        policy = _REGISTRY.get(policy_id, case.get("version", version), as_of)
        if "plan" in case:
            return cost_plan(policy, _plain(case["plan"]), as_of, backend_for(policy))
        if "claim" in case:
            return price_claim(policy, _plain(case["claim"]), backend_for(policy))
        return evaluate(policy, _plain(case.get("person", case.get("subject"))), as_of, backend_for(policy))
    return _without_backend(_outcome(run))


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


CASE_FILES = case_files([POLICIES])


def test_every_shipped_edition_has_test_cases_here():
    covered = {(policy_id, version) for file in CASE_FILES for _, _, policy_id, version in load_cases(file)}
    assert {e for e in EDITIONS if e not in covered} == set()


@pytest.mark.parametrize("file", CASE_FILES, ids=lambda p: str(p.relative_to(POLICIES)))
def test_durable_rules_decides_every_policy_test_case_as_the_reference(file):
    cases = 0
    for case, line, policy_id, version in load_cases(file):
        durable = _case_outcome(case, policy_id, version, DurableBackend.for_policy)
        reference = _case_outcome(case, policy_id, version, ReferenceBackend)
        assert durable == reference, f"{file}:{line} {case['name']}"
        cases += 1
    assert cases > 0


# -- a generated population, per edition -------------------------------------------------------------

def _numbers(policy, fact):
    """Figures of the edition near the fact's range: where a condition's boundary is likely to be."""
    out = set()
    for fig in policy.figures:
        if isinstance(fig.value, (int, Decimal)) and not isinstance(fig.value, bool):
            for delta in (-1, 0, 1):
                out.add(Decimal(fig.value) + delta)
    lo = fact.minimum if fact.minimum is not None else Decimal(-10)
    hi = fact.maximum if fact.maximum is not None else Decimal(10 ** 6)
    return sorted(v for v in out if lo <= v <= hi), lo, hi


def _value(policy, fact, as_of):
    kind = fact.type.kind
    if kind == "date":
        # months back from as_of plus a few days: hits completed-years / completed-months boundaries
        # (a birth date after as_of is refused by the dictionary: those stay on or before it)
        latest = as_of if fact.not_after_as_of else dt.date.max
        return st.builds(lambda months, days: min(add_months(as_of, -months) + dt.timedelta(days=days),
                                                  latest).isoformat(),
                         st.integers(0, 100 * 12), st.integers(-2, 2))
    if kind in ("bool", "boolean"):
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(list(fact.type.values))
    if kind == "list":
        return st.lists(st.sampled_from(list(fact.type.item.values)), unique=True, max_size=4)
    near, lo, hi = _numbers(policy, fact)
    if kind == "int":
        plain = st.integers(int(lo), int(min(hi, 10 ** 6)))
        near = [int(v) for v in near if v == int(v)]
    else:
        plain = st.decimals(lo, min(hi, Decimal(10 ** 6)), places=3, allow_nan=False, allow_infinity=False).map(str)
        near = [str(v) for v in near]
    return st.one_of(plain, st.sampled_from(near)) if near else plain


@st.composite
def subjects(draw, policy):
    """(facts, as_of): every input the edition needs, typed per the fact dictionary, at a date it is in force."""
    end = policy.valid_to or policy.valid_from + dt.timedelta(days=365)
    as_of = draw(st.dates(policy.valid_from, end))
    dictionary = policy.dictionary
    if policy.subject == "person" and draw(st.booleans()):
        # a realistic person from the synthetic-population generator, trimmed to the facts this edition reads
        region = draw(st.sampled_from(["lombardia", "basilicata", "lazio"]))
        drawn = Generator(dictionary, region, as_of).person(random.Random(draw(st.integers(0, 2 ** 32))))
        return {name: _plain(list(v) if isinstance(v, tuple) else v) for name, v in drawn.items()
                if name in dictionary.closure(set(policy.needed_inputs))}, as_of
    facts = {}
    for name in sorted(dictionary.closure(set(policy.needed_inputs))):
        fact = dictionary.facts[name]
        strategy = _value(policy, fact, as_of)
        facts[name] = draw(st.one_of(st.none(), strategy) if fact.nullable else strategy)
    return facts, as_of


@pytest.mark.parametrize("policy_id,version", EDITIONS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_durable_rules_decides_a_generated_population_as_the_reference(policy_id, version, data):
    policy = _REGISTRY.get(policy_id, version)
    facts, as_of = data.draw(subjects(policy))
    env = prepare_facts(policy, facts, as_of)
    durable, reference = DurableBackend.for_policy(policy), ReferenceBackend(policy)
    assert decide(policy, env, durable) == decide(policy, env, reference)
    assert _without_backend(evaluate(policy, facts, as_of, durable, env)) == \
        _without_backend(evaluate(policy, facts, as_of, reference, env))
