from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"


@pytest.fixture(scope="session")
def registry():
    from engine.policy.registry import Registry
    return Registry.load(POLICIES)


@pytest.fixture
def dul(registry):
    return registry.get("lombardia/dote-unica-lavoro", "2013")


@pytest.fixture
def policy_tree(tmp_path):
    """A scratch policies root with the real fact dictionary; write(rel_path, yaml_text) adds a file."""
    (tmp_path / "national").mkdir()
    shutil.copy(POLICIES / "national" / "facts.yaml", tmp_path / "national" / "facts.yaml")

    def write(rel: str, text: str) -> Path:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    write.root = tmp_path
    return write


MINIMAL = """
id: test/prog
version: "{version}"
title: Test programme
authority: Test
status: active
valid_from: {valid_from}
valid_to: {valid_to}
legal_basis:
  - {{id: act, title: Test act}}
sources:
  - {{id: src, title: Test source}}
facts: [age, employment_status]
parameters:
  eta_min: {{value: 30, source: src, status: confirmed}}
eligibility:
  - id: eta
    label: Age
    when: age >= eta_min
    reason: too young
    reference: {{act: act, article: "1"}}
  - id: stato
    label: Status
    when: employment_status == "unemployed"
    reason: not unemployed
    reference: {{act: act}}
"""


@pytest.fixture
def minimal():
    def make(version="2020", valid_from="2020-01-01", valid_to="2020-12-31"):
        return MINIMAL.format(version=version, valid_from=valid_from, valid_to=valid_to)
    return make


def person(**overrides):
    base = dict(birth_date="1960-05-01", gender="F", residence_region="lombardia", domicile_region="lombardia",
                workplace_region="lombardia", employment_status="unemployed", unemployed_since="2012-11-01",
                education_level="lower_secondary", income_support="none", solidarity_agreement=False,
                last_cigd_period=False)
    base.update(overrides)
    return base
