"""The explanation as ``engine.decide.evaluate.explain`` built it before it was compiled per edition.

Kept unchanged as the regression oracle of ``test_explain.py``: the compiled explanation must give
the same result, value for value and key order for key order (stored decisions and replays depend
on it).
"""
from __future__ import annotations

import datetime as dt

from engine.money import money_text
from engine.policy.model import Figure, Policy, Rule
from engine.version import ENGINE_VERSION

_STATIC: dict[int, tuple] = {}


def _static(obj, build):
    """Per-rule (or per-figure) parts of the explanation, built once: compiled policies never change."""
    hit = _STATIC.get(id(obj))
    if hit is None or hit[0] is not obj:
        hit = (obj, build(obj))
        _STATIC[id(obj)] = hit
    return hit[1]


def _rule_static(rule: Rule):
    return ({"rule": rule.id, "kind": rule.kind, "label": rule.label, "condition": rule.condition.text,
             "parameters": {name: _plain(fig.value) for name, fig in rule.condition.parameters},
             "reference": rule.reference.as_dict(), "line": rule.condition.location.line},
            tuple(sorted(rule.condition.reads)))


def _trace_entry(rule: Rule, fired: bool, env: dict) -> dict:
    """``env`` holds values already made JSON-ready (see ``explain``)."""
    static, reads = _static(rule, _rule_static)
    return {**static, "fired": fired, "facts": {name: env.get(name) for name in reads}}


def explain(policy: Policy, env: dict, as_of: dt.date, fired: frozenset, banded: frozenset, points: int,
            backend_name: str) -> dict:
    trace, reasons, provisional = [], [], set()
    env = {name: _plain(value) for name, value in env.items()}
    for rule in policy.eligibility:
        passed = [a for a in rule.alternatives if a.key in fired]
        for alt in rule.alternatives:
            trace.append(_trace_entry(alt, alt.key in fired, env))
        # the alternatives that decided this rule: those that passed, or all of them when none did
        for alt in passed or rule.alternatives:
            _note_params(alt, provisional)
        if not passed:
            reasons.append({"rule": rule.id, "label": rule.label, "message": rule.reason,
                            "reference": rule.reference.as_dict()})
    eligible = not reasons
    breakdown = []
    for rule in policy.points:
        hit = rule.key in fired
        trace.append({**_trace_entry(rule, hit, env), "points": _fig_value(rule.points)})
        if hit:
            breakdown.append({"rule": rule.id, "label": rule.label, "points": _fig_value(rule.points),
                              "reference": rule.reference.as_dict()})
            _note(rule.points, provisional)
            _note_params(rule, provisional)
    band_out = None
    benefit = None
    if eligible and policy.bands:
        env_points = {**env, "points": points}
        for band in policy.bands:
            trace.append(_trace_entry(band.rule, band.rule.key in banded, env_points))
        matched = [b for b in policy.bands if b.rule.key in banded]
        if len(matched) == 1:
            band = matched[0]
            band_out = {"id": band.id, "label": band.label, "points": points if policy.points else None,
                        "points_breakdown": breakdown, "reference": band.rule.reference.as_dict()}
            benefit = {"currency": "EUR",
                       "amount": _money(band.amount), "duration_months": _fig_value(band.duration_months),
                       "max_doti": _fig_value(band.max_doti),
                       "provenance": {k: f.as_dict() for k, f in (("amount", band.amount),
                                                                  ("duration_months", band.duration_months),
                                                                  ("max_doti", band.max_doti)) if f}}
            _note_params(band.rule, provisional)
            for fig in (band.amount, band.duration_months, band.max_doti):
                _note(fig, provisional)
        else:
            # The validator proves bands exclusive and exhaustive over eligible subjects; this is a backstop.
            band_out = {"id": None, "error": "no band matched" if not matched else
                        "several bands matched: " + ", ".join(b.id for b in matched)}
    return {
        "policy": policy.summary(),
        "as_of": as_of.isoformat(),
        "subject": policy.subject,
        "outcome": "eligible" if eligible else "not_eligible",
        "eligible": eligible,
        "reasons": reasons,
        "band": band_out,
        "benefit": benefit,
        "provisional": sorted(provisional),
        "trace": trace,
        "engine": {"name": "almp", "version": ENGINE_VERSION, "backend": backend_name},
    }


def _note(fig: Figure | None, provisional: set):
    if fig is not None and fig.status != "confirmed":
        provisional.add(_static(fig, _figure_path))


def _figure_path(fig: Figure) -> str:
    return ("$." + ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in fig.path)).replace(".[", "[")


def _note_params(rule: Rule, provisional: set):
    for _, fig in rule.condition.parameters:
        _note(fig, provisional)


def _fig_value(fig: Figure | None):
    if fig is None or fig.value is None:
        return None
    return int(fig.value) if fig.value == int(fig.value) else str(fig.value)


def _money(fig: Figure | None):
    if fig is None or fig.value is None:
        return None
    return money_text(fig.value)


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
