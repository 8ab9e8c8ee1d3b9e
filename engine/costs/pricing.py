"""What plan costing and claims share: strict input reading, the person's band and dote,
and the outcome-payment rules (which rule pays a contract, and how much).

All money is ``Decimal``; amounts are rounded only by ``engine.money.to_cents``.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..policy.basket import CONTRACT_TYPES, Costs, OutcomeRule
from ..dates import completed_months
from ..errors import Code, InputErrors, InputProblem, json_path
from ..decide.evaluate import evaluate, prepare_facts
from ..suggest import suggest
from ..expr.evaluator import EvalError
from ..policy.model import Figure, Policy
from ..money import to_cents
from ..values import LARGEST, in_range, read_choice, read_date, read_decimal, shown

QUANTITY_PLACES = 2
# Lines of one plan or claim: a year of weekly sessions of every service of a basket is well under this;
# past it the list is refused whole (its path named) instead of costed, stored and answered line by line.
MAX_LINES = 1000
DELIVERIES = ("individual", "group")


class Reader:
    """Collects every problem of a JSON-like input, each with its path."""

    def __init__(self):
        self.problems: list[InputProblem] = []

    def fail(self, path, code, message):
        self.problems.append(InputProblem(tuple(path), code, message))

    def check(self):
        if self.problems:
            raise InputErrors(self.problems)

    def obj(self, value, path, allowed: tuple, required: tuple = ()) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, Code.TYPE_ERROR, "must be an object")
            return None
        for key in value:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                self.fail(tuple(path) + (key,), Code.UNKNOWN_FIELD,
                          f"unknown field {shown(key)}" + (f"; {hint}" if hint else f" (allowed: {', '.join(allowed)})"))
        for key in required:
            if key not in value:
                self.fail(tuple(path) + (key,), Code.MISSING_FIELD, f"'{key}' is required")
        return value

    def list(self, value, path, limit: int = MAX_LINES) -> list:
        if not isinstance(value, list):
            self.fail(path, Code.TYPE_ERROR, "must be a list")
            return []
        if len(value) > limit:
            self.fail(path, Code.TOO_MANY_ITEMS, f"{len(value)} lines; at most {limit} are accepted")
            return []
        return value

    def number(self, value, path, places: int = QUANTITY_PLACES, positive: bool = True,
               maximum: Decimal | None = None) -> Decimal | None:
        try:
            number = read_decimal(value, places)
            if positive and number <= 0:
                raise ValueError(f"must be more than 0, got {shown(value)}")
            return in_range(number, None, maximum)
        except ValueError as exc:
            wrong_type = isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float))
            self.fail(path, Code.TYPE_ERROR if wrong_type else Code.INVALID_VALUE, str(exc))
            return None

    def date(self, value, path) -> dt.date | None:
        try:
            return read_date(value)
        except ValueError as exc:
            self.fail(path, Code.INVALID_VALUE, str(exc))
            return None

    def choice(self, value, path, options) -> str | None:
        try:
            return read_choice(value, options)
        except ValueError as exc:
            self.fail(path, Code.INVALID_VALUE, str(exc))
            return None

    def whole(self, value, path) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < LARGEST:
            self.fail(path, Code.INVALID_VALUE, f"expected a whole number of zero or more, got {shown(value)}")
            return None
        return value


def require_costs(policy: Policy) -> Costs:
    if policy.costs is None:
        raise InputErrors([InputProblem((), Code.NO_BASKET,
                                        f"{policy.key} declares no service basket or outcome payments")])
    return policy.costs


def assess(policy: Policy, person, as_of: dt.date, backend) -> tuple[dict, dict]:
    """The eligibility decision at ``as_of`` and the typed facts (raises ``InputErrors`` under 'person')."""
    env = prepare_facts(policy, person, as_of, ("person",))
    return evaluate(policy, person, as_of, backend, env=env), env


def dote_of(costs: Costs, decision: dict) -> Decimal | None:
    if costs.dote != "band" or not decision.get("benefit") or decision["benefit"].get("amount") is None:
        return None
    return Decimal(decision["benefit"]["amount"])


def fig_path(fig: Figure) -> str:
    return json_path(fig.path)


def note(fig: Figure | None, provisional: set):
    if fig is not None and fig.status != "confirmed":
        provisional.add(fig_path(fig))


def figure_text(fig: Figure | None):
    return None if fig is None or fig.value is None else str(fig.value)


# -- outcomes ---------------------------------------------------------------------------------
def contract_months(outcome: dict) -> int | None:
    """Length of a fixed-term contract in completed months (the end date is the last day worked)."""
    if outcome.get("contract_type") != "fixed_term":
        return None
    if outcome.get("duration_months") is not None:
        return outcome["duration_months"]
    return completed_months(outcome["start"], outcome["end"] + dt.timedelta(days=1))


def _duration_ok(rule: OutcomeRule, months: int | None) -> bool:
    if months is None:
        return True
    if rule.min_months is not None and months < rule.min_months.value:
        return False
    return rule.max_months is None or months < rule.max_months.value


def _region_ok(rule: OutcomeRule, region) -> bool:
    return rule.regions is None or region in rule.regions


def match_outcome(costs: Costs, outcome: dict) -> tuple[OutcomeRule | None, str | None, OutcomeRule | None]:
    """(paying rule, None, None) or (None, why not, the nearest rule the contract failed)."""
    rules = costs.outcomes.rules
    months = contract_months(outcome)
    region = outcome.get("job_region")
    candidates = [r for r in rules if outcome["contract_type"] in r.contract_types]
    if not candidates:
        return None, "contract_type_not_paid", None
    matching = [r for r in candidates if _duration_ok(r, months) and _region_ok(r, region)]
    share = outcome.get("part_time_share")
    threshold = costs.outcomes.part_time_min
    if share is not None and threshold is not None and share < threshold.value:
        return None, "part_time_below_threshold", (matching or candidates)[0]
    if matching:
        return matching[0], None, None
    by_duration = [r for r in candidates if _duration_ok(r, months)]
    if by_duration:
        return None, "region_not_eligible", by_duration[0]
    shortest = min((r.min_months.value for r in candidates if r.min_months is not None), default=None)
    if shortest is not None and months < shortest:
        return None, "contract_too_short", candidates[0]
    return None, "contract_duration_not_paid", candidates[0]


def outcome_amount(rule: OutcomeRule, band_id, env: dict) -> tuple[Decimal | None, Decimal | None, list]:
    """(amount before the cap, the cap, figures used) of an outcome rule for a person; None if none applies."""
    used = [rule.minimum, rule.maximum]
    if rule.by_band is not None:
        fig = rule.by_band.get(band_id)
        return (None if fig is None else fig.value), None, [fig]
    if rule.fixed is not None:
        return rule.fixed.value, None, [rule.fixed]
    if rule.formula_fn is None:
        return None, None, []
    try:
        value = rule.formula_fn(env)
    except EvalError as exc:
        raise InputErrors([InputProblem(("person",), Code.FORMULA_ERROR, f"{rule.formula}: {exc.message}")]) from None
    if value is None:
        names = sorted(k for k in env if env[k] is None)
        raise InputErrors([InputProblem(("person",), Code.MISSING_FACT,
                                        f"the outcome formula {rule.formula!r} needs facts that are null: "
                                        f"{', '.join(names)}")])
    value = Decimal(value)
    if rule.minimum is not None and value < 0:
        value = Decimal(0)
    cap = rule.maximum.value if rule.maximum is not None else None
    return value, cap, used


def outcome_reference(rule: OutcomeRule) -> dict:
    return {"rule": rule.rule, "id": rule.id, "label": rule.label,
            "reference": rule.reference.as_dict() if rule.reference else None,
            **({"formula": rule.formula} if rule.formula else {})}


def best_outcome(costs: Costs, band_id, env: dict) -> tuple[Decimal, OutcomeRule | None]:
    """The highest outcome payment the person could earn (what a plan reserves for it)."""
    best, best_rule = Decimal(0), None
    for rule in costs.outcomes.rules if costs.outcomes else ():
        amount, cap, _ = outcome_amount(rule, band_id, env)
        if amount is None:
            continue
        amount = to_cents(min(amount, cap) if cap is not None else amount)
        if best_rule is None or amount > best:
            best, best_rule = amount, rule
    return best, best_rule


def check_outcome_input(reader: Reader, raw, path, regions) -> dict | None:
    """Typed outcome of a claim, or None (problems go to ``reader``)."""
    if raw is None:
        return None
    fields = ("contract_type", "start", "end", "duration_months", "part_time_share", "job_region")
    raw = reader.obj(raw, path, fields, ("contract_type", "start", "job_region"))
    if raw is None:
        return None
    out = {"contract_type": reader.choice(raw.get("contract_type"), path + ("contract_type",), CONTRACT_TYPES)
           if "contract_type" in raw else None,
           "start": reader.date(raw["start"], path + ("start",)) if "start" in raw else None,
           "end": None, "duration_months": None, "part_time_share": None, "job_region": raw.get("job_region")}
    if "job_region" in raw:
        out["job_region"] = reader.choice(raw["job_region"], path + ("job_region",), tuple(regions))
    if raw.get("end") is not None:
        out["end"] = reader.date(raw["end"], path + ("end",))
        if out["end"] and out["start"] and out["end"] < out["start"]:
            reader.fail(path + ("end",), Code.INVALID_VALUE, "the contract ends before it starts")
    if raw.get("duration_months") is not None:
        out["duration_months"] = reader.whole(raw["duration_months"], path + ("duration_months",))
    if raw.get("part_time_share") is not None:
        out["part_time_share"] = reader.number(raw["part_time_share"], path + ("part_time_share",), places=4,
                                               maximum=Decimal(1))
    if out["contract_type"] == "fixed_term" and raw.get("end") is None and raw.get("duration_months") is None:
        reader.fail(path + ("end",), Code.MISSING_FIELD, "a fixed-term contract needs 'end' or 'duration_months'")
    return out
