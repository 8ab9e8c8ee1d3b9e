"""Static checks of a policy's bands: overlaps, gaps and bands that can never match.

Bands are decided by conditions over a handful of facts compared with constants. For
such conditions, the truth of every atom only changes at the constants, so trying each
constant, its neighbours and one value beyond the extremes for every fact explores every
region of the input space (exact for single-fact comparisons; a strong sample where
arithmetic mixes facts). When the grid is too large, a fixed-seed sample of it is used.
Each finding carries an example subject, so the officer sees *who* falls in two bands.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

from ..errors import Code, PolicyError
from ..i18n import _
from ..expr import nodes as n
from .limits import band_samples
from .model import Policy

MAX_GRID = 20_000
_EPS = Decimal("0.000001")


def constants_by_fact(policy: Policy) -> dict[str, set]:
    found: dict[str, set] = {}
    for rule in policy.rules():
        for node in n.walk(rule.condition.node):
            if isinstance(node, n.Compare):
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(a, n.Name) and isinstance(b, n.Literal):
                        found.setdefault(a.name, set()).add(b.value)
            if isinstance(node, n.In):
                if isinstance(node.item, n.Literal) and isinstance(node.container, n.Name):
                    found.setdefault(node.container.name, set()).add(("item", node.item.value))
                if isinstance(node.item, n.Name) and isinstance(node.container, n.ListLit):
                    for item in node.container.items:
                        if isinstance(item, n.Literal):
                            found.setdefault(node.item.name, set()).add(item.value)
                        else:
                            found.setdefault(node.item.name, set()).add(_ALL)
            if isinstance(node, n.Compare) and isinstance(node.left, n.Name) and isinstance(node.right, n.Name):
                for side in (node.left, node.right):  # fact against fact: every value matters
                    found.setdefault(side.name, set()).add(_ALL)
    return found


_ALL = ("all-values",)  # marker: do not collapse this enum to the constants it is compared with


def candidate_values(policy: Policy, name: str, constants: set) -> list:
    fact = policy.dictionary.facts[name]
    typ = fact.type
    out: list = []
    if typ.kind == "enum":
        out = list(typ.values)
        named = {c for c in constants if isinstance(c, str)}
        if not typ.ordered and named and _ALL not in constants:
            # An unordered enum is only tested for (in)equality with constants: the values it is
            # compared with and one other value cover every case, and keep the grid small.
            others = [v for v in typ.values if v not in named]
            out = [v for v in typ.values if v in named] + others[:1]
    elif typ.kind == "bool":
        out = [True, False]
    elif typ.kind in ("int", "decimal"):
        step = 1 if typ.kind == "int" else _EPS
        points = {c for c in constants if isinstance(c, (int, Decimal)) and not isinstance(c, bool)} or {0}
        for c in sorted(points):
            out += [c - step, c, c + step]
        if fact.minimum is not None:
            out = [v for v in out if v >= fact.minimum] + [fact.minimum]
        if fact.maximum is not None:
            out = [v for v in out if v <= fact.maximum] + [fact.maximum]
        if typ.kind == "int":
            out = [int(v) for v in out if v == int(v)]
    elif typ.kind == "date":
        days = {c for c in constants if isinstance(c, dt.date)} or {dt.date(2000, 1, 1)}
        for d in sorted(days):
            out += [d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)]
    elif typ.kind == "list":
        items = sorted({c[1] for c in constants if isinstance(c, tuple)})
        out = [()] + [(i,) for i in items] + ([tuple(items)] if len(items) > 1 else [])
    if fact.nullable:
        out.append(None)
    return sorted(set(out), key=lambda v: (v is None, str(type(v)), v if v is not None else 0))


def _grid(policy: Policy):
    names = sorted({name for rule in policy.rules() for name in rule.condition.reads} - {"points"})
    constants = constants_by_fact(policy)
    axes = [candidate_values(policy, name, constants.get(name, set())) for name in names]
    size = 1
    for axis in axes:
        size *= len(axis)
    # every subject tried evaluates every condition: large conditions get fewer subjects
    samples = band_samples(sum(sum(1 for _ in n.walk(r.condition.node)) for r in policy.rules()), MAX_GRID)
    if size <= samples:
        for combo in itertools.product(*axes):
            yield dict(zip(names, combo))
        return
    rng = random.Random(0)
    for _ in range(samples):
        yield {name: rng.choice(axis) for name, axis in zip(names, axes)}


def check_bands(policy: Policy, doc_location) -> list[PolicyError]:
    """Overlap, gap and never-matching errors for the bands of ``policy``."""
    if not policy.bands:
        return []
    errors: list[PolicyError] = []
    reached: set[str] = set()
    overlap_seen: set[tuple] = set()
    gap_example = None
    for env in _grid(policy):
        if not all(any(a.condition.fn(env) for a in rule.alternatives) for rule in policy.eligibility):
            continue
        points = sum(int(r.points.value or 0) for r in policy.points if r.condition.fn(env))
        scoped = {**env, "points": points}
        matched = [b for b in policy.bands if b.rule.condition.fn(scoped)]
        reached.update(b.id for b in matched)
        if not matched and gap_example is None:
            gap_example = scoped
        if len(matched) > 1:
            pair = tuple(b.id for b in matched[:2])
            if pair not in overlap_seen:
                overlap_seen.add(pair)
                idx = [b.id for b in policy.bands].index(pair[1])
                errors.append(PolicyError(
                    Code.POLICY_BAND_OVERLAP,
                    _("fasce '{a}' and '{b}' both match an eligible person, for example: {example}", a=pair[0],
                      b=pair[1], example=_show(scoped, policy)),
                    doc_location(("bands", idx, "when")),
                    _("make the fascia conditions mutually exclusive (each eligible person gets exactly one fascia)")))
    if gap_example is not None:
        errors.append(PolicyError(Code.POLICY_BAND_GAP,
                                  _("an eligible person falls in no fascia, for example: {example}",
                                    example=_show(gap_example, policy)),
                                  doc_location(("bands",)),
                                  _("widen a fascia condition so that every eligible person falls in one fascia")))
    for idx, band in enumerate(policy.bands):
        if band.id not in reached:
            errors.append(PolicyError(Code.POLICY_BAND_UNREACHABLE,
                                      _("fascia '{band}' never matches an eligible person", band=band.id),
                                      doc_location(("bands", idx, "when")),
                                      _("check its thresholds against the points and eligibility rules")))
    return errors


def _show(env: dict, policy: Policy | None = None) -> str:
    """An example subject in words ('età compiuta: 30 anni; condizione occupazionale: disoccupato'), never
    Python notation."""
    from ..expr.italian import sentence
    from ..expr import nodes as n
    dictionary = getattr(policy, "dictionary", None)
    parts = []
    for name, value in sorted(env.items()):
        if isinstance(value, tuple):
            value = n.ListLit(0, tuple(n.Literal(0, v) for v in value))
            text = sentence(n.In(0, n.Name(0, name), value), dictionary) if value.items else \
                f"{name}: –"
        else:
            text = sentence(n.Compare(0, "==", n.Name(0, name), n.Literal(0, value)), dictionary)
        parts.append(text)
    return "; ".join(parts)
