"""Evaluate a subject against a policy edition: eligibility, band, benefit, explanation.

``evaluate`` is a pure function of (policy, facts, as_of, backend): no clock, no I/O.
The result is plain JSON-ready data with sorted keys, identical byte for byte for the
same inputs.
"""
from __future__ import annotations

import datetime as dt
from operator import itemgetter

from .backends import ReferenceBackend, RuleBackend
from ..policy.model import Figure, Policy, Rule
from ..policy.reader import FactReader
from ..money import money_text
from ..version import ENGINE_VERSION
from .trace import Trace, TracePlan, plain as _plain


def prepare_facts(policy: Policy, raw: dict, as_of: dt.date, path: tuple | None = None) -> dict:
    """Typed facts plus derived facts; raises ``InputErrors`` naming every bad or missing fact.

    Input paths are named after the policy's subject (``person``, ``partnership``) unless given.
    """
    hit = _PARTS.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = _parts(policy)
    return hit[1].read(raw, as_of, path)


def _reader(policy: Policy) -> FactReader:
    return FactReader(policy.dictionary, policy.needed_inputs, policy.subject)


def _parts(policy: Policy) -> tuple:
    hit = _PARTS[id(policy)] = (policy, _static(policy, _reader), _static(policy, _Plan))
    return hit


# id(policy) -> (policy, fact reader, plan): what the decision path needs per call, found with one
# lookup (``_static`` builds a key tuple per call)
_PARTS: dict[int, tuple] = {}


def decide(policy: Policy, env: dict, backend: RuleBackend) -> tuple[frozenset, frozenset, int]:
    """Run the two stages; returns (stage-1 keys fired, stage-2 keys fired, points)."""
    hit = _PARTS.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = _parts(policy)
    plan = hit[2]
    fired = backend.match(1, env)
    outcome = plan.outcomes.get(fired)
    if outcome is None:
        outcome = plan.outcome(fired)
    points, eligible = outcome
    if not (eligible and plan.has_bands):
        return fired, frozenset(), points
    if getattr(backend, "takes_points", False):  # reads ``points`` beside env: no copy of the facts
        return fired, backend.match(2, env, points), points
    return fired, backend.match(2, {**env, "points": points}), points


class _Plan:
    """What ``decide`` needs of an edition: points by rule key, alternatives, bands; and per set of
    fired rules (a few combinations per edition) its points and eligibility, remembered."""

    def __init__(self, policy: Policy):
        self.points_of = tuple((r.key, int(r.points.value or 0)) for r in policy.points)
        self.alternatives = tuple(frozenset(a.key for a in rule.alternatives) for rule in policy.eligibility)
        self.has_bands = bool(policy.bands)
        self.outcomes: dict[frozenset, tuple[int, bool]] = {}

    def outcome(self, fired: frozenset) -> tuple[int, bool]:
        points = sum(value for key, value in self.points_of if key in fired)
        eligible = all(not fired.isdisjoint(keys) for keys in self.alternatives)  # as state.is_eligible
        if len(self.outcomes) < 4096:
            self.outcomes[fired] = (points, eligible)
        return points, eligible


def evaluate(policy: Policy, raw_facts: dict, as_of: dt.date, backend: RuleBackend | None = None,
             env: dict | None = None, compact: bool = False) -> dict:
    """The full decision for one subject at ``as_of``.

    ``compact``: the trace stays a ``Trace`` record (rendered when read: ``entries()``, or
    ``canonical()`` text), not a list of entries.
    """
    backend = backend or ReferenceBackend(policy)
    if env is None:
        env = prepare_facts(policy, raw_facts, as_of)
    fired, banded, points = decide(policy, env, backend)
    return _static(policy, _Explainer)(env, as_of, fired, banded, points, backend.name, compact)


_STATIC: dict[tuple, tuple] = {}


def _static(obj, build):
    """Per-object parts built once by ``build`` (compiled policies, rules and figures never change)."""
    key = (id(obj), build)
    hit = _STATIC.get(key)
    if hit is None or hit[0] is not obj:
        hit = (obj, build(obj))
        _STATIC[key] = hit
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
            backend_name: str, compact: bool = False) -> dict:
    """Reasons, band, benefit, provisional figures and the trace of every rule with the facts it read."""
    return _static(policy, _Explainer)(env, as_of, fired, banded, points, backend_name, compact)


class _Explainer:
    """An edition's explanation with everything that does not depend on the subject built once.

    Per rule: its trace entry's static part, the facts it reads, and the provisional figures it
    brings in; per eligibility rule its reason; per band its answer and benefit. Everything but the
    facts read depends only on which rules fired and the points: built once per such combination
    (``_Outcome``, a few hundred per edition), so a decision only reads its facts and copies the
    combination's parts into its result.
    """

    def __init__(self, policy: Policy):
        self.summary = policy.summary()
        self.subject = policy.subject
        self.has_points = bool(policy.points)
        self.has_bands = bool(policy.bands)
        self.reads = tuple(sorted({n for rule in policy.rules() for n in rule.condition.reads} - {"points"}))
        self.read = itemgetter(*self.reads) if len(self.reads) >= 2 else None

        def rule_parts(rule: Rule):
            static, reads = _static(rule, _rule_static)
            return rule.key, static, reads, frozenset(_paths(fig for _, fig in rule.condition.parameters))

        self.eligibility = []
        for rule in policy.eligibility:
            reason = {"rule": rule.id, "label": rule.label, "message": rule.reason,
                      "reference": rule.reference.as_dict()}
            alternatives = tuple(rule_parts(alt) for alt in rule.alternatives)
            self.eligibility.append((alternatives, frozenset().union(*(a[3] for a in alternatives)), reason))
        self.points = []
        for rule in policy.points:
            key, static, reads, params = rule_parts(rule)
            value = _fig_value(rule.points)
            line = {"rule": rule.id, "label": rule.label, "points": value, "reference": rule.reference.as_dict()}
            self.points.append((key, static, reads, value, line, params | frozenset(_paths([rule.points]))))
        self.bands = []
        for band in policy.bands:
            key, static, reads, params = rule_parts(band.rule)
            figures = (("amount", band.amount), ("duration_months", band.duration_months),
                       ("max_doti", band.max_doti))
            benefit = {"currency": "EUR", "amount": _money(band.amount),
                       "duration_months": _fig_value(band.duration_months), "max_doti": _fig_value(band.max_doti),
                       "provenance": {k: f.as_dict() for k, f in figures if f}}
            answer = (band.id, band.label, band.rule.reference.as_dict())
            self.bands.append((key, static, reads, answer, benefit,
                               params | frozenset(_paths(f for _, f in figures))))
        self.trace_plan = TracePlan(
            [(key, static, reads, None) for alternatives, _, _ in self.eligibility
             for key, static, reads, _ in alternatives]
            + [(key, static, reads, value) for key, static, reads, value, _, _ in self.points],
            [(key, static, reads, None) for key, static, reads, *_ in self.bands],
            self.reads + ("points",))
        self.outcomes: dict[tuple, _Outcome] = {}

    def __call__(self, env: dict, as_of: dt.date, fired: frozenset, banded: frozenset, points: int,
                 backend_name: str, compact: bool = False) -> dict:
        outcome = self.outcomes.get((fired, banded, points))
        if outcome is None:
            outcome = self.outcome(fired, banded, points)
        trace = Trace(self.trace_plan, self.values(env) + (outcome.points,), outcome.marks)
        band = outcome.band
        if band is not None:
            breakdown = band.get("points_breakdown")
            band = dict(band) if breakdown is None else {**band, "points_breakdown": [dict(l) for l in breakdown]}
        return {
            "policy": dict(self.summary),
            "as_of": as_of.isoformat(),
            "subject": self.subject,
            "outcome": outcome.outcome,
            "eligible": outcome.eligible,
            "reasons": [dict(reason) for reason in outcome.reasons],
            "band": band,
            "benefit": None if outcome.benefit is None else dict(outcome.benefit),
            "provisional": list(outcome.provisional),
            "trace": trace if compact else trace.entries(),
            "engine": {"name": "almp", "version": ENGINE_VERSION, "backend": backend_name},
        }

    def trace(self, env: dict, fired: frozenset, banded: frozenset, points: int, with_bands: bool) -> Trace:
        """The decision's trace record: the facts the rules read, made JSON-ready, and the points once the bands
        were reached (``with_bands``: eligible, and the edition has bands)."""
        return Trace(self.trace_plan, self.values(env) + (_plain(points) if with_bands else None,),
                     self.trace_plan.marks(fired, banded, with_bands))

    def values(self, env: dict) -> tuple:
        """The facts the rules read (``reads``), as they are (the trace makes them JSON-ready when rendered)."""
        try:
            return self.read(env)
        except (KeyError, TypeError):  # a fact left out (read as null), or fewer than two facts read
            return tuple(map(env.get, self.reads))

    def outcome(self, fired: frozenset, banded: frozenset, points: int) -> "_Outcome":
        """What a decision with these fired rules and points answers, besides its facts."""
        reasons, provisional = [], set()
        for alternatives, all_params, reason in self.eligibility:
            passed = False
            for key, _, _, params in alternatives:
                if key in fired:
                    passed = True
                    provisional |= params
            # the alternatives that decided this rule: those that passed, or all of them when none did
            if not passed:
                provisional |= all_params
                reasons.append(reason)
        eligible = not reasons
        breakdown = []
        for key, _, _, _, line, params in self.points:
            if key in fired:
                breakdown.append(line)
                provisional |= params
        band_out = None
        benefit = None
        with_bands = eligible and self.has_bands
        if with_bands:
            matched = [band for band in self.bands if band[0] in banded]
            if len(matched) == 1:
                _, _, _, (band_id, label, reference), benefit, params = matched[0]
                band_out = {"id": band_id, "label": label, "points": points if self.has_points else None,
                            "points_breakdown": breakdown, "reference": reference}
                provisional |= params
            else:
                # The validator proves bands exclusive and exhaustive over eligible subjects; this is a backstop.
                band_out = {"id": None, "error": "no band matched" if not matched else
                            "several bands matched: " + ", ".join(b[3][0] for b in matched)}
        found = _Outcome("eligible" if eligible else "not_eligible", eligible, tuple(reasons), band_out, benefit,
                         tuple(sorted(provisional)), _plain(points) if with_bands else None,
                         self.trace_plan.marks(fired, banded, with_bands))
        if len(self.outcomes) < 4096:
            self.outcomes[(fired, banded, points)] = found
        return found


class _Outcome:
    """The parts of a result fixed by the fired rules and the points (copied into each result: results
    share nothing at their top level). ``points`` is the trace's points fact (``None`` without bands)."""

    __slots__ = ("outcome", "eligible", "reasons", "band", "benefit", "provisional", "points", "marks")

    def __init__(self, outcome, eligible, reasons, band, benefit, provisional, points, marks):
        self.outcome, self.eligible, self.reasons, self.band = outcome, eligible, reasons, band
        self.benefit, self.provisional, self.points, self.marks = benefit, provisional, points, marks


def explainer(policy: Policy) -> _Explainer:
    """The edition's explainer (built once): ``explainer(policy)(env, as_of, fired, banded, points, backend_name,
    compact)`` is ``explain``; ``.trace(...)`` the trace record alone."""
    return _static(policy, _Explainer)


def _paths(figures) -> list[str]:
    """The document paths of the figures that are not confirmed (the decision's provisional list)."""
    return [_static(fig, _figure_path) for fig in figures if fig is not None and fig.status != "confirmed"]


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
