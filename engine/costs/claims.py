"""Price a claim (rendicontazione): what is payable for services delivered and a job obtained.

Input (JSON)::

    {"person": {<facts>},
     "start_date": "2018-06-01",          # the dote / voucher start
     "extended": false,                    # voucher extended (where the programme allows it)
     "services": [{"code": "f", "date": "2018-06-10", "quantity": 2, "delivery": "individual"}],
     "outcome": {"contract_type": "open_ended" | "apprenticeship" | "fixed_term",
                 "start": "2018-09-01", "end": "2019-04-30" or "duration_months": 8,
                 "part_time_share": 0.5, "job_region": "lombardia"}}   # or null / absent

For every euro claimed and not paid the result names a coded reason: ``not_eligible``,
``service_not_in_basket``, ``not_allowed_for_band``, ``not_allowed_for_delivery``,
``outside_validity``, ``over_cap``, ``over_dote``, ``replaced_by_outcome`` (a fee for
service when an outcome is paid), ``outcome_not_qualifying`` (with ``detail``:
``contract_too_short``, ``part_time_below_threshold``, ``region_not_eligible``,
``contract_type_not_paid``, ``contract_duration_not_paid``).

Caps are per person and service. When delivered hours exceed a cap, the best-paid hours
are paid first (rate, then date, then input order), so adding a delivered service never
lowers what is payable. The dote, where there is one, is spent in date order with the
outcome payment last.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..dates import add_months
from ..errors import Code
from ..policy.model import Policy
from ..money import money_text, to_cents
from .pricing import DELIVERIES, Reader, assess, check_outcome_input, dote_of, figure_text, match_outcome, note, \
    outcome_amount, outcome_reference, require_costs

CLAIM_FIELDS = ("person", "start_date", "extended", "services", "outcome")
LINE_FIELDS = ("code", "date", "quantity", "delivery")
OUTCOME_DETAILS = {
    "contract_too_short": "the contract is shorter than the programme pays for",
    "part_time_below_threshold": "the part-time share is below the programme's threshold",
    "region_not_eligible": "this contract type is paid only in other regions",
    "contract_type_not_paid": "the programme does not pay this contract type",
    "contract_duration_not_paid": "no rule pays a contract of this length",
}


def read_claim(policy: Policy, claim) -> dict:
    reader = Reader()
    claim = reader.obj(claim, (), CLAIM_FIELDS, ("person", "start_date", "services"))
    reader.check()
    out = {"person": claim["person"], "start_date": reader.date(claim["start_date"], ("start_date",)),
           "extended": claim.get("extended", False), "services": [], "outcome": None}
    if not isinstance(out["extended"], bool):
        reader.fail(("extended",), Code.TYPE_ERROR, "expected true or false")
    for i, raw in enumerate(reader.list(claim["services"], ("services",))):
        path = ("services", i)
        raw = reader.obj(raw, path, LINE_FIELDS, ("code", "date"))
        if raw is None:
            continue
        if "code" in raw and not isinstance(raw["code"], str):
            reader.fail(path + ("code",), Code.TYPE_ERROR, "a service code is text, e.g. \"a\"")
        out["services"].append({
            "index": i, "code": raw.get("code"),
            "date": reader.date(raw["date"], path + ("date",)) if "date" in raw else None,
            "quantity": reader.number(raw.get("quantity", 1), path + ("quantity",)),
            "delivery": reader.choice(raw.get("delivery", "individual"), path + ("delivery",), DELIVERIES)})
    regions = policy.dictionary.enums["regions"].values if "regions" in policy.dictionary.enums else ()
    out["outcome"] = check_outcome_input(reader, claim.get("outcome"), ("outcome",), regions)
    reader.check()
    return out


def validity(policy: Policy, costs, decision: dict, start: dt.date, extended: bool) -> tuple[dt.date, dt.date, list]:
    """First and last day of the dote's validity, and the figures that set it."""
    figs = []
    if costs.validity_months is not None:
        months = costs.validity_months.value
        figs.append(costs.validity_months)
        if extended and costs.extension_months is not None:
            months += costs.extension_months.value
            figs.append(costs.extension_months)
    else:
        months = (decision.get("benefit") or {}).get("duration_months") or 0
    return start, add_months(start, int(months)) - dt.timedelta(days=1), figs


def price_claim(policy: Policy, claim: dict, backend=None) -> dict:
    """Payable amounts of a claim under ``policy`` (JSON-ready); raises ``InputErrors`` for bad input."""
    costs = require_costs(policy)
    data = read_claim(policy, claim)
    start = data["start_date"]
    decision, env = assess(policy, data["person"], start, backend)
    eligible = decision["eligible"]
    band_id = (decision["band"] or {}).get("id")
    provisional = set(decision["provisional"])
    first, last, vfigs = validity(policy, costs, decision, start, data["extended"])
    for fig in vfigs:
        note(fig, provisional)

    outcome_out, outcome_paid_rule = None, None
    outcome = data["outcome"]
    if outcome is not None and costs.outcomes is not None:
        outcome_out, outcome_paid_rule = _outcome(policy, costs, outcome, band_id, env, eligible, first, last,
                                                  provisional)

    lines = []
    payable_units = []  # lines that may be paid, before caps
    for item in data["services"]:
        line, svc = _line(costs, item, eligible, band_id, first, last, outcome_paid_rule is not None, provisional)
        lines.append(line)
        if svc is not None and line["_exact"] is not None:
            payable_units.append((line, svc))
    _apply_caps(payable_units, provisional)
    for line in lines:
        if line.get("_flat") is not None:
            svc = line.pop("_flat")
            base = sum((Decimal(x["payable"]) for x in lines if x["code"] in svc.cost.base and x is not line),
                       Decimal(0))
            note(svc.cost.percent, provisional)
            amount = to_cents(base * svc.cost.percent.value / 100)
            line.update(base=money_text(base), percent=figure_text(svc.cost.percent), claimed=money_text(amount))
            paid = amount
            if svc.max_amount is not None and paid > svc.max_amount.value:
                _reason(line, "over_cap", paid - svc.max_amount.value, f"at most {money_text(svc.max_amount.value)}")
                paid = svc.max_amount.value
            line["payable"] = money_text(paid)

    dote = dote_of(costs, decision) if eligible else None
    ordered = sorted((x for x in lines), key=lambda x: (x["date"] or "", x["index"]))
    if outcome_out is not None:
        ordered.append(outcome_out)
    if dote is not None:
        remaining = dote
        for entry in ordered:
            paid = Decimal(entry["payable"])
            if paid > remaining:
                _reason(entry, "over_dote", paid - remaining, f"the dote of {money_text(dote)} is used up")
                paid = remaining
                entry["payable"] = money_text(paid)
            remaining -= paid
    if outcome_out is not None and outcome_paid_rule is not None:
        outcome_out["instalments"] = _instalments(outcome_paid_rule, Decimal(outcome_out["payable"]),
                                                  outcome["start"], provisional)
    for line in lines:
        line.pop("_exact", None)
        line.pop("_rate", None)
    claimed = sum((Decimal(x["claimed"]) for x in ordered if x.get("claimed") is not None), Decimal(0))
    payable = sum((Decimal(x["payable"]) for x in ordered), Decimal(0))
    not_paid: dict[str, Decimal] = {}
    for entry in ordered:
        for reason in entry["not_paid"]:
            if reason["amount"] is not None:
                not_paid[reason["code"]] = not_paid.get(reason["code"], Decimal(0)) + Decimal(reason["amount"])
    return {
        "policy": policy.summary(),
        "start_date": start.isoformat(),
        "validity": {"from": first.isoformat(), "to": last.isoformat(), "extended": data["extended"]},
        "eligible": eligible,
        "reasons": decision["reasons"],
        "band": {"id": band_id, "label": decision["band"].get("label")} if band_id else None,
        "dote": money_text(dote) if dote is not None else None,
        "lines": lines,
        "outcome": outcome_out,
        "claimed": money_text(claimed),
        "payable": money_text(payable),
        "not_paid": {code: money_text(amount) for code, amount in sorted(not_paid.items())},
        "provisional": sorted(provisional),
    }


def _reason(entry: dict, code: str, amount, message: str, **extra):
    entry["not_paid"].append({"code": code, "amount": None if amount is None else money_text(amount),
                              "message": message, **extra})


def _line(costs, item, eligible, band_id, first, last, outcome_paid, provisional):
    code = item["code"]
    svc = costs.service(code)
    line = {"index": item["index"], "code": code, "date": item["date"].isoformat(), "quantity": str(item["quantity"]),
            "delivery": item["delivery"], "claimed": None, "payable": money_text(0), "not_paid": [],
            "_exact": None}
    if svc is None:
        _reason(line, "service_not_in_basket", None, f"service '{code}' is not in the basket")
        return line, None
    cost = svc.cost
    line.update(label=svc.label, mode=svc.mode, unit=cost.unit, cost_option=cost.option,
                priced_by={"rule": svc.rule, "reference": svc.reference.as_dict(),
                           "cost_reference": cost.reference.as_dict() if cost.reference else None})
    if cost.option == "outcome":
        line.update(claimed=money_text(0), note="paid through the outcome payment, not per hour")
        return line, None
    if cost.option == "none":
        line["claimed"] = money_text(0)
        return line, None
    if cost.option == "flat_rate":
        line["_flat"] = svc
        line["claimed"] = money_text(0)
        blocked = _blocked(line, svc, item, eligible, band_id, first, last, outcome_paid, None)
        if blocked:
            line.pop("_flat")
        return line, None
    rate = cost.rate_for(item["delivery"])
    note(rate, provisional)
    exact = item["quantity"] * rate.value
    line.update(unit_cost=figure_text(rate), claimed=money_text(to_cents(exact)))
    if item["delivery"] == "group" and cost.group_rate is None and cost.option == "unit_cost":
        _reason(line, "not_allowed_for_delivery", to_cents(exact), f"service '{code}' has no group rate")
        return line, None
    if _blocked(line, svc, item, eligible, band_id, first, last, outcome_paid, to_cents(exact)):
        return line, None
    line["_exact"], line["_rate"] = exact, rate.value
    return line, svc


def _blocked(line, svc, item, eligible, band_id, first, last, outcome_paid, amount) -> bool:
    if not eligible:
        _reason(line, "not_eligible", amount, "the person is not eligible for this programme")
    elif not svc.allows(band_id):
        _reason(line, "not_allowed_for_band", amount, f"not available to band {band_id}")
    elif not first <= item["date"] <= last:
        _reason(line, "outside_validity", amount, f"delivered outside the validity {first}..{last}")
    elif svc.paid_when == "no_outcome" and outcome_paid:
        _reason(line, "replaced_by_outcome", amount, "a fee for service is not paid when the outcome is paid",
                reference=svc.reference.as_dict())
    else:
        return False
    return True


def _apply_caps(payable_units, provisional):
    by_code: dict[str, list] = {}
    for line, svc in payable_units:
        by_code.setdefault(svc.code, []).append((line, svc))
    for entries in by_code.values():
        svc = entries[0][1]
        entries.sort(key=lambda e: (-e[0]["_rate"], e[0]["date"], e[0]["index"]))
        hours_left = svc.max_quantity.value if svc.max_quantity is not None else None
        money_left = svc.max_amount.value if svc.max_amount is not None else None
        for line, _ in entries:
            quantity = Decimal(line["quantity"])
            paid_q = quantity if hours_left is None else min(quantity, hours_left)
            if hours_left is not None:
                hours_left -= paid_q
            paid = to_cents(paid_q * line["_rate"])
            claimed = Decimal(line["claimed"])
            if paid_q < quantity:
                note(svc.max_quantity, provisional)
                _reason(line, "over_cap", claimed - paid, f"at most {svc.max_quantity.value} {svc.cost.unit}(s) "
                        f"per person; {paid_q} paid here", cap=figure_text(svc.max_quantity))
            if money_left is not None and paid > money_left:
                note(svc.max_amount, provisional)
                _reason(line, "over_cap", paid - money_left, f"at most {money_text(svc.max_amount.value)} per "
                        "person for this service", cap=money_text(svc.max_amount.value))
                paid = money_left
            if money_left is not None:
                money_left -= paid
            line["paid_quantity"] = str(paid_q)
            line["payable"] = money_text(paid)


def _outcome(policy, costs, outcome, band_id, env, eligible, first, last, provisional):
    svc = costs.service(costs.outcomes.service)
    rule, why, nearest = match_outcome(costs, outcome)
    out = {"contract_type": outcome["contract_type"], "start": outcome["start"].isoformat(),
           "job_region": outcome["job_region"], "part_time_share":
               None if outcome["part_time_share"] is None else str(outcome["part_time_share"]),
           "service": svc.code, "claimed": None, "payable": money_text(0), "not_paid": [], "instalments": []}
    priced = rule or nearest
    amount = cap = None
    if priced is not None:
        amount, cap, figs = outcome_amount(priced, band_id, env)
        for fig in figs:
            note(fig, provisional)
        out["rule"] = outcome_reference(priced)
    if amount is not None:
        out["claimed"] = money_text(to_cents(amount))
    claimed = to_cents(amount) if amount is not None else None
    paid_rule = None
    if rule is None:
        detail = why
        _reason(out, "outcome_not_qualifying", claimed, OUTCOME_DETAILS[detail], detail=detail,
                reference=(nearest or rule).reference.as_dict() if (nearest or rule) else
                costs.outcomes.reference.as_dict())
    elif not eligible:
        _reason(out, "not_eligible", claimed, "the person is not eligible for this programme")
    elif not svc.allows(band_id) or amount is None:
        _reason(out, "not_allowed_for_band", claimed, f"no outcome payment for band {band_id}")
    elif not first <= outcome["start"] <= last:
        _reason(out, "outside_validity", claimed, f"the contract starts outside the validity {first}..{last}")
    else:
        paid = claimed
        if cap is not None and paid > cap:
            _reason(out, "over_cap", paid - cap, f"at most {money_text(cap)} for this contract", cap=money_text(cap))
            paid = to_cents(cap)
        if svc.max_amount is not None and paid > svc.max_amount.value:
            note(svc.max_amount, provisional)
            _reason(out, "over_cap", paid - svc.max_amount.value, "over the service's cap",
                    cap=money_text(svc.max_amount.value))
            paid = svc.max_amount.value
        out["payable"] = money_text(paid)
        paid_rule = rule
    return out, paid_rule


def _instalments(rule, amount: Decimal, start: dt.date, provisional) -> list:
    if not rule.instalments:
        return [{"due_after_months": 0, "amount": money_text(amount), "label": "single payment"}] if amount else []
    out, paid = [], Decimal(0)
    for k, inst in enumerate(rule.instalments):
        note(inst.share, provisional)
        note(inst.after_months, provisional)
        # The last instalment takes the remainder so that the instalments add up to the cent.
        part = amount - paid if k == len(rule.instalments) - 1 else to_cents(amount * Decimal(inst.share.value))
        paid += part
        out.append({"due": add_months(start, inst.after_months.value).isoformat(),
                    "due_after_months": inst.after_months.value, "share": str(inst.share.value),
                    "amount": money_text(part), "label": inst.label})
    return out
