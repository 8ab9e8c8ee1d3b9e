"""One set of conformance cases (``conformance/*.yaml``) run on every backend, as OPA runs its
``test/cases/testdata`` on every evaluation target: a backend that disagrees with the hand-worked
answer of any case fails here, whatever the others do."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from engine.decide import BatchDecider, DurableBackend, ReferenceBackend, decide
from engine.decide.state import is_eligible
from engine.policy import Registry

CASES = sorted((Path(__file__).parent / "conformance").glob("*.yaml"))
AS_OF = dt.date(2020, 6, 1)

POLICY = """\
id: conformance/case-{n}
version: "1"
title: Conformance case
authority: Test
status: active
valid_from: 2020-01-01
valid_to: 2020-12-31
legal_basis:
  - {{id: act, title: Test act}}
sources:
  - {{id: src, title: Test source}}
facts: {facts}
eligibility:
  - id: rule
    label: The condition
    when: '{when}'
    reason: the condition does not hold
    reference: {{act: act}}
"""


def _load():
    for path in CASES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for i, case in enumerate(group["cases"]):
                yield pytest.param(group, case, id=f"{path.stem}: {group['note']} [{i}]")


def _env(policy, person: dict) -> dict:
    """The typed facts as the engine holds them (``age`` given directly: it stands for any integer fact)."""
    env = {}
    for name, value in person.items():
        kind = policy.dictionary.facts[name].type.kind
        env[name] = None if value is None else dt.date.fromisoformat(value) if kind == "date" else \
            Decimal(value) if kind == "decimal" else value
    return env


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    (root / "national").mkdir()
    repo = Path(__file__).resolve().parents[2] / "policies" / "national" / "facts.yaml"
    (root / "national" / "facts.yaml").write_text(repo.read_text(encoding="utf-8"), encoding="utf-8")
    groups = [g for path in CASES for g in yaml.safe_load(path.read_text(encoding="utf-8"))]
    for n, group in enumerate(groups):
        text = POLICY.format(n=n, facts="[" + ", ".join(group["facts"]) + "]", when=group["when"].replace("'", "''"))
        (root / "conformance" / f"case-{n}").mkdir(parents=True)
        (root / "conformance" / f"case-{n}" / "1.yaml").write_text(text, encoding="utf-8")
    registry = Registry.load(root)
    return {group["when"]: registry.get(f"conformance/case-{n}", "1") for n, group in enumerate(groups)}


@pytest.mark.parametrize("backend", ["reference", "durable", "batch"])
@pytest.mark.parametrize("group, case", list(_load()))
def test_backend_agrees_with_the_worked_answer(compiled, backend, group, case):
    policy = compiled[group["when"]]
    env = _env(policy, case["person"])
    if backend == "batch":
        holds = BatchDecider(policy).decide(env)[0]
    else:
        rules = ReferenceBackend(policy) if backend == "reference" else DurableBackend.for_policy(policy)
        holds = is_eligible(policy, decide(policy, env, rules)[0])
    assert holds is case["holds"], f"{group['when']} on {case['person']}"
