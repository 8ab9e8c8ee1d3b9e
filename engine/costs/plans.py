"""Cost a personalised plan (PIP): price each chosen service and check it against the basket.

Input (JSON)::

    {"person": {<facts>},
     "services": [{"code": "a", "quantity": 4, "delivery": "individual"}, ...]}

``quantity`` is hours (``unit: hour``) or units, at most two decimals, default 1;
``delivery`` is ``individual`` (default) or ``group``. Unknown fields are refused with
their path. The band, hence the dote, comes from the eligibility decision at ``as_of``.

Every problem is a coded violation: ``not_eligible``, ``service_not_in_basket``,
``not_allowed_for_band``, ``not_allowed_for_delivery``, ``over_cap``, ``over_dote``,
``mandatory_missing``. A plan is approved only without violations, so an approved plan
never costs more than its dote.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..errors import Code, InputErrors, json_path
from ..policy.model import Policy
from ..money import money_text, to_cents
from .pricing import DELIVERIES, Reader, assess, best_outcome, dote_of, figure_text, note, outcome_reference, \
    require_costs

PLAN_FIELDS = ("person", "services")
LINE_FIELDS = ("code", "quantity", "delivery")


def read_plan(plan) -> tuple[object, list]:
    """(person facts, [(index, code, quantity, delivery)]); raises ``InputErrors`` on a bad shape."""
    reader = Reader()
    plan = reader.obj(plan, (), PLAN_FIELDS, PLAN_FIELDS)
    reader.check()
    items = []
    for i, raw in enumerate(reader.list(plan["services"], ("services",))):
        path = ("services", i)
        raw = reader.obj(raw, path, LINE_FIELDS, ("code",))
        if raw is None:
            continue
        code = raw.get("code")
        if "code" in raw and not isinstance(code, str):
            reader.fail(path + ("code",), Code.TYPE_ERROR, "a service code is text, e.g. \"a\"")
        quantity = reader.number(raw.get("quantity", 1), path + ("quantity",))
        delivery = reader.choice(raw.get("delivery", "individual"), path + ("delivery",), DELIVERIES)
        items.append((i, code, quantity, delivery))
    reader.check()
    return plan["person"], items


def cost_plan(policy: Policy, plan: dict, as_of: dt.date, backend=None) -> dict:
    """Price a plan under ``policy`` at ``as_of``: lines, total, dote and coded violations (JSON-ready)."""
    costs = require_costs(policy)
    person, items = read_plan(plan)
    decision, env = assess(policy, person, as_of, backend)
    eligible = decision["eligible"]
    band = decision["band"] or {}
    band_id = band.get("id")
    dote = dote_of(costs, decision) if eligible else None
    provisional = set(decision["provisional"])
    violations: list[dict] = []

    def violate(code, message, path, **extra):
        violations.append({"code": code, "message": message, "path": json_path(path), **extra})

    if not eligible:
        violate("not_eligible", "the person is not eligible for this programme; no dote can be assigned",
                ("person",), reasons=[r["rule"] for r in decision["reasons"]])
    lines, by_code, deferred = [], {}, []
    for i, code, quantity, delivery in items:
        path = ("services", i)
        svc = costs.service(code)
        line = {"index": i, "code": code, "quantity": str(quantity), "delivery": delivery}
        lines.append(line)
        if svc is None:
            line.update(amount=money_text(0), unit_cost=None, priced_by=None)
            violate("service_not_in_basket", f"service '{code}' is not in the basket of {policy.key}",
                    path + ("code",), service=code)
            continue
        by_code.setdefault(code, []).append(line)
        cost = svc.cost
        line.update(label=svc.label, mode=svc.mode, unit=cost.unit, cost_option=cost.option,
                    priced_by={"rule": svc.rule, "reference": svc.reference.as_dict(),
                               "cost_reference": cost.reference.as_dict() if cost.reference else None})
        if eligible and not svc.allows(band_id):
            violate("not_allowed_for_band", f"service '{code}' is not available to band {band_id} "
                    f"(bands {', '.join(svc.bands)})", path + ("code",), service=code)
        if cost.option in ("unit_cost", "lump_sum"):
            if delivery == "group" and cost.group_rate is None and cost.option == "unit_cost":
                violate("not_allowed_for_delivery", f"service '{code}' has no group rate", path + ("delivery",),
                        service=code)
            rate = cost.rate_for(delivery)
            note(rate, provisional)
            line.update(unit_cost=figure_text(rate), amount=money_text(to_cents(quantity * rate.value)),
                        rate_kind="group" if delivery == "group" and cost.group_rate is not None else "individual")
        elif cost.option == "outcome":
            reserved, rule = best_outcome(costs, band_id, env) if eligible else (Decimal(0), None)
            line.update(unit_cost=None, amount=money_text(reserved),
                        reserved_for_outcome=outcome_reference(rule) if rule else None)
            if rule is not None:
                for fig in (rule.minimum, rule.maximum, rule.fixed,
                            *(rule.by_band or {}).values()):
                    note(fig, provisional)
        elif cost.option == "flat_rate":
            deferred.append((line, svc))
        else:
            line.update(unit_cost=None, amount=money_text(0))
    for line, svc in deferred:
        base = sum((Decimal(x["amount"]) for c in svc.cost.base for x in by_code.get(c, [])), Decimal(0))
        note(svc.cost.percent, provisional)
        line.update(unit_cost=None, base=money_text(base), percent=figure_text(svc.cost.percent),
                    amount=money_text(to_cents(base * svc.cost.percent.value / 100)))
    for code, code_lines in by_code.items():
        svc = costs.service(code)
        last = ("services", code_lines[-1]["index"])
        quantity = sum(Decimal(x["quantity"]) for x in code_lines)
        amount = sum(Decimal(x["amount"]) for x in code_lines)
        if svc.max_quantity is not None and svc.cost.option in ("unit_cost", "lump_sum") \
                and quantity > svc.max_quantity.value:
            note(svc.max_quantity, provisional)
            violate("over_cap", f"service '{code}': {quantity} {svc.cost.unit}(s) planned, at most "
                    f"{svc.max_quantity.value} per person", last + ("quantity",), service=code,
                    cap=figure_text(svc.max_quantity))
        if svc.max_amount is not None and amount > svc.max_amount.value:
            note(svc.max_amount, provisional)
            violate("over_cap", f"service '{code}': {money_text(amount)} planned, at most "
                    f"{money_text(svc.max_amount.value)} per person", last, service=code,
                    cap=money_text(svc.max_amount.value))
    if eligible:
        for svc in costs.services:
            if svc.mandatory and svc.allows(band_id) and svc.code not in by_code:
                violate("mandatory_missing", f"mandatory service '{svc.code}' ({svc.label}) is not in the plan",
                        ("services",), service=svc.code, reference=svc.reference.as_dict())
    total = sum((Decimal(x["amount"]) for x in lines), Decimal(0))
    if dote is not None and total > dote:
        violate("over_dote", f"the plan costs {money_text(total)}, more than the dote of {money_text(dote)}",
                ("services",), excess=money_text(total - dote))
    return {
        "policy": policy.summary(),
        "as_of": as_of.isoformat(),
        "eligible": eligible,
        "band": {"id": band_id, "label": band.get("label")} if band_id else None,
        "dote": money_text(dote) if dote is not None else None,
        "lines": lines,
        "total": money_text(total),
        "remaining": money_text(dote - total) if dote is not None else None,
        "approved": not violations,
        "violations": violations,
        "provisional": sorted(provisional),
        "reasons": decision["reasons"],
    }


__all__ = ["cost_plan", "read_plan", "InputErrors"]
