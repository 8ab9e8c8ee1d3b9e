"""A scratch programme with every cost option, for the plan and claim tests (figures are test data)."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"

PROGRAMME = """
id: test/costs
version: "2020"
title: Test programme with a basket
authority: Test
status: active
valid_from: 2020-01-01
valid_to: 2020-12-31
legal_basis:
  - {id: act, title: Test act}
  - {id: sco, title: Reg. (UE) 1303/2013 art. 67}
sources:
  - {id: src, title: Test source}
facts: [age, employment_status, profiling_index]
eligibility:
  - id: stato
    label: Status
    when: employment_status == "unemployed"
    reason: not unemployed
    reference: {act: act, article: "1"}
bands:
  - id: "1"
    label: young
    when: age < 40
    benefit:
      amount: {value: 1000.00, source: src, status: confirmed}
      duration_months: {value: 6, source: src, status: confirmed}
    reference: {act: act, article: "2"}
  - id: "2"
    label: older
    when: age >= 40
    benefit:
      amount: {value: 2000.00, source: src, status: confirmed}
      duration_months: {value: 3, source: src, status: confirmed}
    reference: {act: act, article: "2"}
basket:
  dote: band
  validity: band
  provenance: {source: src, status: confirmed}
  services:
    - code: a
      mode: a_processo
      mandatory: true
      cost: {option: unit_cost, unit: hour, rate: 32.00, group_rate: 12.00, reference: {act: sco, article: "67(1)(b)"}}
      max_quantity: 4
      reference: {act: act, article: "3"}
    - code: c
      mode: a_processo
      bands: ["2"]
      cost: {option: unit_cost, unit: hour, rate: 40.00}
      max_quantity: 10
      max_amount: 300.00
      reference: {act: act, article: "4"}
    - code: g
      mode: a_processo
      cost: {option: lump_sum, amount: 500.00, reference: {act: sco, article: "67(1)(c)"}}
      max_quantity: 1
      reference: {act: act, article: "5"}
    - code: spese-generali
      label: Costi indiretti
      mode: a_processo
      cost: {option: flat_rate, percent: 10, base: [a, c], reference: {act: sco, article: "68"}}
      reference: {act: act, article: "6"}
    - code: b
      mode: free
      reference: {act: act, article: "7"}
    - code: e
      mode: a_risultato
      cost: {option: outcome}
      reference: {act: act, article: "8"}
outcomes:
  service: e
  reference: {act: act, article: "9"}
  part_time_min: {value: 0.5, source: src, status: confirmed}
  rules:
    - id: ti
      label: open-ended
      contract_types: [open_ended]
      amount: {by_band: {"1": 400.00, "2": 800.00}, provenance: {source: src, status: confirmed}}
      instalments:
        - {share: {value: 0.5, source: src, status: confirmed}, after_months: {value: 6, source: src, status: confirmed}}
        - {share: {value: 0.5, source: src, status: confirmed}, after_months: {value: 12, source: src, status: confirmed}}
      reference: {act: act, article: "9.1"}
    - id: td
      label: fixed-term formula
      contract_types: [fixed_term]
      min_months: {value: 3, source: src, status: confirmed}
      region_group: less_developed
      amount:
        formula: "max(m, m + (profiling_index - 0.5) * 2 * (M - m))"
        min: {value: 100.00, source: src, status: confirmed}
        max: {value: 300.00, source: src, status: confirmed}
      reference: {act: act, article: "9.2"}
"""


def make_tree(tmp_path: Path, text: str = PROGRAMME) -> Path:
    (tmp_path / "national").mkdir(parents=True, exist_ok=True)
    for name in ("facts.yaml", "services.yaml", "region-groups.yaml"):
        shutil.copy(POLICIES / "national" / name, tmp_path / "national" / name)
    path = tmp_path / "test" / "costs" / "2020.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


def young(**extra):
    return {"birth_date": "1990-01-01", "employment_status": "unemployed", "profiling_index": "0.8", **extra}


def older(**extra):
    return {"birth_date": "1970-01-01", "employment_status": "unemployed", "profiling_index": "0.8", **extra}
