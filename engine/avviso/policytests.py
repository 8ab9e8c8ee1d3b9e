"""Policy test cases that live beside an edition (``<version>.tests.yaml``).

A case gives a subject, a date and what the officer expects; every expectation is
optional, so a case states only what it is about::

    policy: lombardia/dote-unica-lavoro
    version: "2013"
    cases:
      - name: disoccupata di lunga durata, licenza media
        as_of: 2014-03-01
        person: {birth_date: 1960-05-01, ...}
        expect: {eligible: true, band: "3", amount: "2600.00", duration_months: 6}
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import AlmpError, Code, InputErrors, PolicyError, PolicyErrors, PolicyNotFound, SourceLocation
from ..decide.evaluate import evaluate
from ..policy.registry import Registry
from ..policy.loader import load_file
from ..values import plain

EXPECT_KEYS = {"eligible", "band", "amount", "duration_months", "points", "reasons", "error"}
# Cases with a `plan:` (cost_plan) or a `claim:` (price_claim) instead of a person.
PLAN_EXPECT_KEYS = {"eligible", "band", "error", "dote", "total", "approved", "violations", "lines"}
CLAIM_EXPECT_KEYS = {"eligible", "band", "error", "payable", "outcome", "outcome_detail", "not_paid", "instalments",
                     "lines"}


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    failures: list

    @property
    def passed(self) -> bool:
        return not self.failures

    def render(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        text = f"{status} {self.file}:{self.line} {self.name}"
        for failure in self.failures:
            text += f"\n       {failure}"
        return text


def test_files(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out.extend(sorted(path.rglob("*.tests.yaml")))
        elif path.name.endswith(".tests.yaml"):
            out.append(path)
        elif path.suffix == ".yaml" and path.with_suffix(".tests.yaml").exists():
            out.append(path.with_suffix(".tests.yaml"))
    return out


def load_cases(path: Path):
    """Yield (name, line, case dict, policy id, version) for each case; raise PolicyErrors if malformed."""
    doc = load_file(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    errors = []
    if not isinstance(data.get("policy"), str) or not isinstance(data.get("cases"), list):
        raise PolicyErrors([PolicyError(Code.TEST_FORMAT_ERROR, "a test file needs 'policy' and a list of 'cases'",
                                        SourceLocation(str(path), 1, 1))])
    for i, case in enumerate(data["cases"]):
        loc = doc.location(("cases", i))
        if not isinstance(case, dict) or not {"name", "as_of", "expect"} <= set(case) or \
                not {"person", "subject", "plan", "claim"} & set(case):
            errors.append(PolicyError(Code.TEST_FORMAT_ERROR, "a case needs name, as_of, person (or plan or claim) "
                                      "and expect", loc))
            continue
        allowed = PLAN_EXPECT_KEYS if "plan" in case else CLAIM_EXPECT_KEYS if "claim" in case else EXPECT_KEYS
        unknown = set(case["expect"]) - allowed
        if unknown:
            errors.append(PolicyError(Code.TEST_FORMAT_ERROR, f"unknown expectation(s) {sorted(unknown)}",
                                      doc.location(("cases", i, "expect")),
                                      f"use {', '.join(sorted(allowed))}"))
    if errors:
        raise PolicyErrors(errors)
    for i, case in enumerate(data["cases"]):
        yield case, doc.location(("cases", i)).line, data["policy"], data.get("version")


def run_case(registry: Registry, case: dict, policy_id: str, version: str | None, backend_for) -> list[str]:
    """Failures of one case (empty when it passes)."""
    expect = case["expect"]
    as_of = case["as_of"] if isinstance(case["as_of"], dt.date) else dt.date.fromisoformat(str(case["as_of"]))
    if "plan" in case or "claim" in case:
        return _run_money_case(registry, case, policy_id, version, as_of, backend_for)
    try:
        policy = registry.get(policy_id, case.get("version", version), as_of)
        result = evaluate(policy, plain(case.get("person", case.get("subject"))), as_of, backend_for(policy))
    except InputErrors as exc:
        if expect.get("error") == "input":
            return []
        return [f"input error: {exc}"]
    except PolicyNotFound as exc:
        return [] if expect.get("error") == "no_policy" else [f"error: {exc}"]
    except AlmpError as exc:
        return [f"error: {exc}"]
    failures = []
    if expect.get("error"):
        failures.append(f"expected an {expect['error']} error, got a decision")
    band = result["band"] or {}
    benefit = result["benefit"] or {}
    actual = {"eligible": result["eligible"], "band": band.get("id"), "amount": benefit.get("amount"),
              "duration_months": benefit.get("duration_months"), "points": band.get("points"),
              "reasons": sorted(r["rule"] for r in result["reasons"])}
    for key, want in expect.items():
        if key == "error":
            continue
        got = actual[key]
        if key == "reasons":
            want = sorted(want)
        elif key in ("band", "amount"):
            want = None if want is None else str(want)
            if key == "amount" and want is not None and "." not in want:
                want += ".00"
        if got != want:
            failures.append(f"{key}: expected {want!r}, got {got!r}")
    return failures


def _run_money_case(registry, case, policy_id, version, as_of, backend_for) -> list[str]:
    from ..costs.claims import price_claim
    from ..costs.plans import cost_plan
    from ..money import money_text
    expect = case["expect"]
    try:
        policy = registry.get(policy_id, case.get("version", version), as_of)
        if "plan" in case:
            result = cost_plan(policy, plain(case["plan"]), as_of, backend_for(policy))
        else:
            result = price_claim(policy, plain(case["claim"]), backend_for(policy))
    except InputErrors as exc:
        return [] if expect.get("error") == "input" else [f"input error: {exc}"]
    except PolicyNotFound as exc:
        return [] if expect.get("error") == "no_policy" else [f"error: {exc}"]
    except AlmpError as exc:
        return [f"error: {exc}"]
    failures = [f"expected an {expect['error']} error, got a result"] if expect.get("error") else []
    outcome = result.get("outcome") or {}
    not_paid = {r.get("detail") for r in outcome.get("not_paid", []) if r.get("detail")}
    actual = {"eligible": result["eligible"], "band": (result["band"] or {}).get("id"), "dote": result["dote"],
              "total": result.get("total"), "approved": result.get("approved"),
              "violations": sorted(v["code"] for v in result.get("violations", [])),
              "payable": result.get("payable"), "outcome": outcome.get("payable"),
              "outcome_detail": not_paid.pop() if not_paid else None, "not_paid": result.get("not_paid"),
              "instalments": [i["amount"] for i in outcome.get("instalments", [])],
              "lines": [x.get("payable", x.get("amount")) for x in result["lines"]]}

    def money(value):
        return None if value is None else money_text(Decimal(str(value)))
    for key, want in expect.items():
        if key == "error":
            continue
        if key in ("dote", "total", "payable", "outcome"):
            want = money(want)
        elif key in ("instalments", "lines"):
            want = [money(v) for v in want]
        elif key == "not_paid":
            want = {k: money(v) for k, v in want.items()}
        elif key == "violations":
            want = sorted(want)
        elif key == "band":
            want = None if want is None else str(want)
        if actual[key] != want:
            failures.append(f"{key}: expected {want!r}, got {actual[key]!r}")
    return failures


def run_tests(paths: list[Path], registry: Registry, backend_for) -> list[CaseResult]:
    results = []
    for file in test_files(paths):
        for case, line, policy_id, version in load_cases(file):
            failures = run_case(registry, case, policy_id, version, backend_for)
            results.append(CaseResult(str(file), line, case["name"], failures))
    return results
