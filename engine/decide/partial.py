"""Partial evaluation: a decision from the facts a caller has, with the others unknown.

A fact left out of the input is *unknown* (a fact sent as null is known: "does not apply").
Every rule is then true, false or unknown, by Kleene's three-valued logic through ``and``,
``or`` and the comparisons, and the outcome is ``eligible``, ``not_eligible`` or
``undetermined``.

How the rules backends take part. Each condition (in negation normal form) is rewritten into
two ordinary conditions that every backend already runs:

- ``DT(c)``, *definitely true*: ``c`` with unknown facts read as absent. An atom reading an
  absent value is false, and ``and``/``or`` are monotone, so ``DT(c)`` holds exactly when ``c``
  holds in every completion of the input;
- ``DF(c)``, *definitely false*: ``and``/``or`` swapped and each atom replaced by "its negation
  holds on present values, or a fact it reads was sent as null" (an atom reading null is false,
  whatever the other facts are).

``known(x)``/``unknown(x)`` follow the fact's declaration: a non-nullable fact is never null in
any completion. Whether a nullable fact was sent (as null) is a boolean pseudo-fact
``given_<name>``. The rewritten rules form a *twin* edition that the durable-rules, batch and
reference backends evaluate like any other: all three give the same partial answers.

Kleene logic is sound but not complete (``age > 30 or age <= 30`` is true whatever the age).
When it leaves the outcome open, a search splits on the unknown facts, trying for each one a
value from every region its conditions distinguish (each constant it is compared with, its
neighbours, every enum value, null when allowed: the same grid as the band checks), until
every branch is decided. That gives the outcomes still possible (so the bands and amounts
still possible), a completion witnessing each, the missing facts that could still change the
answer and the order to ask them in. The grid is exhaustive when every atom compares one
fact with constants, which holds for every shipped edition (``Partial.exact``); otherwise only
Kleene may declare an answer decided.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from decimal import Decimal

from ..expr import nodes as n
from ..expr.checker import to_nnf
from ..expr.evaluator import compile_expr
from ..expr.types import BOOL
from ..money import money_text
from ..policy.bands import candidate_values, constants_by_fact
from ..policy.facts import DERIVATIONS, Fact, FactDictionary
from ..policy.model import Band, Condition, EligibilityRule, Policy, Rule
from ..version import ENGINE_VERSION
from .evaluate import _fig_value, _money, _note, _note_params, _plain, _trace_entry

NOT_ELIGIBLE = "not_eligible"
ELIGIBLE = "eligible"
UNDETERMINED = "undetermined"
SEARCH_BUDGET = 5_000  # Kleene classifications per decision before the search gives up refining
_TRUE = n.Literal(0, True)
_FALSE = n.Literal(0, False)


class _OutOfBudget(Exception):
    pass


# -- the twin edition: DT/DF rules ---------------------------------------------------------------------
def given_name(name: str) -> str:
    return f"given_{name}"


class _Rewriter:
    def __init__(self, dictionary: FactDictionary):
        self.facts = dictionary.facts

    def source(self, name: str) -> str:
        fact = self.facts.get(name)
        return fact.derived_from if fact is not None and fact.derived_from else name

    def nullable(self, name: str) -> bool:
        fact = self.facts.get(name)
        return fact is not None and fact.nullable

    def given(self, name: str) -> n.Node:
        return n.Compare(0, "==", n.Name(0, given_name(self.source(name))), n.Literal(0, True))

    def sent_null(self, name: str) -> n.Node:
        return n.And(0, (self.given(name), n.Call(0, "unknown", (n.Name(0, name),))))

    def dt(self, node: n.Node) -> n.Node:
        if isinstance(node, n.And):
            return n.And(node.pos, tuple(self.dt(i) for i in node.items))
        if isinstance(node, n.Or):
            return n.Or(node.pos, tuple(self.dt(i) for i in node.items))
        if isinstance(node, n.Call) and node.func in ("known", "unknown"):
            arg = node.args[0]
            if not isinstance(arg, n.Name):
                return _FALSE  # cannot tell in general: never claim it
            if not self.nullable(arg.name):
                return _TRUE if node.func == "known" else _FALSE
            return node if node.func == "known" else self.sent_null(arg.name)
        return node  # literals and atoms: true only on present values

    def df(self, node: n.Node) -> n.Node:
        if isinstance(node, n.And):
            return n.Or(node.pos, tuple(self.df(i) for i in node.items))
        if isinstance(node, n.Or):
            return n.And(node.pos, tuple(self.df(i) for i in node.items))
        if isinstance(node, n.Literal):
            return n.Literal(node.pos, not node.value) if isinstance(node.value, bool) else node
        if isinstance(node, n.Call) and node.func in ("known", "unknown"):
            arg = node.args[0]
            if not isinstance(arg, n.Name):
                return _FALSE
            if not self.nullable(arg.name):
                return _FALSE if node.func == "known" else _TRUE
            return self.sent_null(arg.name) if node.func == "known" else n.Call(node.pos, "known", node.args)
        negation = to_nnf(node, negate=True)
        nulls = [self.sent_null(name) for name in sorted(n.names(node)) if self.nullable(name)]
        return n.Or(node.pos, (negation, *nulls)) if nulls else negation


def _twin_rule(rule: Rule, prefix: str, node: n.Node, ordinals: dict) -> Rule:
    cond = rule.condition
    condition = Condition(cond.text, node, compile_expr(node, ordinals), frozenset(n.names(node)),
                          cond.location, cond.parameters)
    return dataclasses.replace(rule, key=prefix + rule.key, condition=condition)


def twin(policy: Policy) -> Policy:
    """The edition whose rules are ``t:<key>`` (definitely true) and ``f:<key>`` (definitely false)."""
    rw = _Rewriter(policy.dictionary)

    def pair(rule: Rule) -> tuple:
        node = rule.condition.node
        return (_twin_rule(rule, "t:", rw.dt(node), policy.ordinals),
                _twin_rule(rule, "f:", rw.df(node), policy.ordinals))

    eligibility = tuple(EligibilityRule(e.id, e.label, e.reason, e.reference,
                                        tuple(r for a in e.alternatives for r in pair(a)))
                        for e in policy.eligibility)
    points = tuple(r for p in policy.points for r in pair(p))
    bands = tuple(Band(b.id, b.label, r, b.amount, b.duration_months, b.max_doti)
                  for b in policy.bands for r in pair(b.rule))
    flags = {given_name(name): Fact(given_name(name), BOOL, f"{name} was sent", "", subject=policy.subject)
             for name, fact in policy.dictionary.facts.items() if fact.nullable and not fact.derived_from}
    dictionary = FactDictionary({**policy.dictionary.facts, **flags}, policy.dictionary.enums,
                                policy.dictionary.source)
    digest = hashlib.sha256((policy.content_hash + "/kleene").encode()).hexdigest()
    return dataclasses.replace(policy, eligibility=eligibility, points=points, bands=bands,
                               dictionary=dictionary, content_hash="sha256:" + digest)


# -- the evaluator ------------------------------------------------------------------------------------
_SIMPLE_TYPES = (n.Literal,)


def _simple_atom(node: n.Node) -> bool:
    """An atom whose truth changes only at the constants it names (the grid then covers every case)."""
    if isinstance(node, n.Compare):
        sides = (node.left, node.right)
        return any(isinstance(s, n.Name) for s in sides) and all(isinstance(s, (n.Name, n.Literal)) for s in sides) \
            and not all(isinstance(s, n.Name) for s in sides)
    if isinstance(node, n.In):
        if isinstance(node.item, n.Name) and isinstance(node.container, n.ListLit):
            return all(isinstance(i, n.Literal) for i in node.container.items)
        return isinstance(node.item, n.Literal) and isinstance(node.container, n.Name)
    if isinstance(node, n.Call) and node.func in ("known", "unknown"):
        return isinstance(node.args[0], n.Name)
    return isinstance(node, n.Literal)


def _atoms(node: n.Node):
    if isinstance(node, (n.And, n.Or)):
        for item in node.items:
            yield from _atoms(item)
    else:
        yield node


@dataclasses.dataclass
class Classified:
    """One Kleene pass: each rule true, false or unknown, and the outcome when it is decided."""

    eligibility: dict  # rule id -> True | False | None
    alternatives: dict  # rule key -> True | False | None (eligibility alternatives)
    points_rules: dict  # rule key -> True | False | None
    bands: dict  # band id -> True | False | None
    points: int | None
    state: tuple | None  # (ELIGIBLE, band id or None) / (NOT_ELIGIBLE, None); None when open
    eligible: bool | None = None


class Partial:
    """Partial evaluation of one edition on one backend (``backend`` runs the twin edition)."""

    def __init__(self, policy: Policy, backend, search_backend=None):
        self.policy = policy
        self.backend = backend
        # the search only explores completions: it runs on the batch path's compiled twin, whatever
        # backend decided the caller's own facts (identical answers, checked by the parity tests)
        self.search = search_backend or backend
        self.dictionary = policy.dictionary
        self.universe = frozenset({(NOT_ELIGIBLE, None)} | ({(ELIGIBLE, b.id) for b in policy.bands}
                                                            if policy.bands else {(ELIGIBLE, None)}))
        self._constants = constants_by_fact(policy)
        self._candidates: dict[str, list] = {}
        self.exact = all(_simple_atom(a) for rule in policy.rules() for a in _atoms(rule.condition.node))
        self._reads = {rule.key: frozenset(rule.condition.reads - {"points"}) for rule in policy.rules()}
        self._read = frozenset().union(*self._reads.values()) if self._reads else frozenset()
        self._points_vars = frozenset().union(*(self._reads[r.key] for r in policy.points)) \
            if policy.points else frozenset()

    # -- one Kleene pass --------------------------------------------------------------------------
    def classify(self, env: dict, backend=None) -> Classified:
        policy = self.policy
        backend = backend or self.backend
        fired = backend.match(1, env)

        def truth(key):
            return True if "t:" + key in fired else False if "f:" + key in fired else None

        alternatives, eligibility = {}, {}
        for rule in policy.eligibility:
            values = [truth(a.key) for a in rule.alternatives]
            alternatives.update(zip((a.key for a in rule.alternatives), values))
            eligibility[rule.id] = True if any(v is True for v in values) else \
                False if all(v is False for v in values) else None
        points_rules = {r.key: truth(r.key) for r in policy.points}
        points = None
        low = sum(int(r.points.value or 0) for r in policy.points if points_rules[r.key])
        if all(v is not None for v in points_rules.values()):
            points, high = low, low
        else:
            # the total can still be anything between these two: band conditions are tried over the range
            extra = [int(r.points.value or 0) for r in policy.points if points_rules[r.key] is None]
            high = low + sum(v for v in extra if v > 0)
            low += sum(v for v in extra if v < 0)
        bands = {}
        if policy.bands:
            reads_points = any("points" in b.rule.condition.reads for b in policy.bands)
            totals = range(low, high + 1) if reads_points and high - low <= 64 else None
            if points is not None or not reads_points:
                matches = [backend.match(2, {**env, "points": points} if points is not None else env)]
            elif totals is not None:
                matches = [backend.match(2, {**env, "points": p}) for p in totals]
            else:
                matches = [backend.match(2, env)]
            for b in policy.bands:
                t, f = "t:" + b.rule.key, "f:" + b.rule.key
                bands[b.id] = True if all(t in m for m in matches) else \
                    False if all(f in m for m in matches) else None
        values = eligibility.values()
        eligible = False if False in values else None if None in values else True
        out = Classified(eligibility, alternatives, points_rules, bands, points, None, eligible)
        if eligible is False:
            out.state = (NOT_ELIGIBLE, None)
        elif eligible is True:
            if not policy.bands:
                out.state = (ELIGIBLE, None)
            else:
                hits = [b for b, v in bands.items() if v is True]
                if len(hits) == 1:
                    out.state = (ELIGIBLE, hits[0])
                elif all(v is False for v in bands.values()):
                    out.state = (ELIGIBLE, None)
        return out

    # -- what is still open -----------------------------------------------------------------------
    def open_variables(self, env: dict, c: Classified) -> dict[str, int]:
        """Missing facts read by rules still open that matter to the outcome, with how many such rules read each."""
        keys = []
        if c.eligible is None:
            for rule in self.policy.eligibility:
                if c.eligibility[rule.id] is None:
                    keys += [a.key for a in rule.alternatives if c.alternatives[a.key] is None]
        if c.eligible is not False and self.policy.bands:
            open_bands = [b for b in self.policy.bands if c.bands.get(b.id) is None]
            keys += [b.rule.key for b in open_bands]
            if c.points is None and any("points" in b.rule.condition.reads for b in open_bands):
                keys += [r.key for r in self.policy.points if c.points_rules[r.key] is None]
        counts: dict[str, int] = {}
        for key in keys:
            for name in self._reads[key]:
                if name not in env:
                    var = self.variable(name)
                    counts[var] = counts.get(var, 0) + 1
        return counts

    def variable(self, name: str) -> str:
        """The input fact to search on for a fact a rule reads: a derived fact's source date."""
        fact = self.dictionary.facts.get(name)
        return fact.derived_from if fact is not None and fact.derived_from else name

    def candidates(self, name: str, as_of: dt.date) -> list:
        """Values of input fact ``name`` covering every region its conditions tell apart.

        For a date whose derived facts (age, months since) are compared with constants, the
        dates where each comparison flips (found by bisection, the derivations being monotone)
        and their neighbours: so every candidate is a date a caller could send.
        """
        key = (name, as_of)
        found = self._candidates.get(key)
        if found is not None:
            return found
        fact = self.dictionary.facts[name]
        derived = [f for f in self.dictionary.facts.values() if f.derived_from == name and f.name in self._read]
        if not derived:
            found = candidate_values(self.policy, name, self._constants.get(name, set()))
        else:
            values = set(v for v in candidate_values(self.policy, name, self._constants.get(name, set()))
                         if v is not None) if name in self._read else set()
            for d in derived:
                function = DERIVATIONS[d.derivation]
                for c in self._constants.get(d.name, set()):
                    if isinstance(c, (int, Decimal)) and not isinstance(c, bool):
                        edge = _edge(function, c, as_of)
                        if edge is not None:
                            values |= {edge - dt.timedelta(days=1), edge, edge + dt.timedelta(days=1)}
            if not values:
                values = {as_of}
            found = sorted(values)
            if fact.nullable:
                found.append(None)
        self._candidates[key] = found
        return found

    def assign(self, env: dict, name: str, value, as_of: dt.date) -> dict:
        out = {**env, name: value}
        for d in self.dictionary.facts.values():
            if d.derived_from == name:
                out[d.name] = None if value is None else DERIVATIONS[d.derivation](value, as_of)
        if self.dictionary.facts[name].nullable:
            out[given_name(name)] = True
        return out

    # -- search -----------------------------------------------------------------------------------
    def reach(self, env: dict, memo: dict, counter: list, branch: tuple = ()) -> tuple[frozenset, dict]:
        """(outcomes possible from ``env``, a witness assignment for each)."""
        outcomes, witnesses = set(), {}
        for target in sorted(self.universe, key=lambda s: (s[0], s[1] or "")):
            found = self.find(env, target, memo, counter, branch)
            if found is not None:
                outcomes.add(target)
                witnesses[target] = found
        return frozenset(outcomes), witnesses

    def _classified(self, env: dict, memo: dict, counter: list, branch: tuple) -> Classified:
        key = ("classified", branch)
        found = memo.get(key)
        if found is None:
            counter[0] += 1
            if counter[0] > SEARCH_BUDGET:
                raise _OutOfBudget
            found = memo[key] = self.classify(env, self.search)
        return found

    @staticmethod
    def _excluded(c: Classified, target: tuple) -> bool:
        if target[0] == NOT_ELIGIBLE:
            return c.eligible is True
        if c.eligible is False:
            return True
        if target[1] is None:
            return any(v is True for v in c.bands.values())
        return c.bands[target[1]] is False or any(v is True for b, v in c.bands.items() if b != target[1])

    def find(self, env: dict, target: tuple, memo: dict, counter: list, branch: tuple = ()) -> dict | None:
        """A completion of the open facts (as an assignment) reaching ``target``, or None when none can.

        Depth first; a branch is cut as soon as Kleene logic shows the target out of reach.
        """
        key = (target, branch)
        if key in memo:
            return memo[key]
        c = self._classified(env, memo, counter, branch)
        result = None
        if c.state == target:
            result = dict(branch)
        elif c.state is None and not self._excluded(c, target):
            variables = self.open_variables(env, c)
            if variables:
                name = max(sorted(variables), key=lambda v: variables[v])
                as_of = memo["as_of"]
                for value in self.candidates(name, as_of):
                    deeper = tuple(sorted(branch + ((name, value),), key=lambda kv: kv[0]))
                    result = self.find(self.assign(env, name, value, as_of), target, memo, counter, deeper)
                    if result is not None:
                        break
        memo[key] = result
        return result

    def evaluate(self, env: dict, as_of: dt.date) -> "PartialAnswer":
        """The partial answer for ``env`` (typed known facts and ``given_`` flags, see ``prepare_partial``)."""
        top = self.classify(env)
        memo: dict = {"as_of": as_of}
        counter = [0]
        if top.state is not None:
            return PartialAnswer(self, env, as_of, top, frozenset({top.state}), {top.state: {}}, [], True)
        try:
            outcomes, witnesses = self.reach(env, memo, counter)
        except _OutOfBudget:
            return PartialAnswer(self, env, as_of, top, None, {}, self._by_count(env, top), False)
        if len(outcomes) == 1 and self.exact:
            return PartialAnswer(self, env, as_of, top, outcomes, witnesses, [], True)
        try:
            ranked = self._rank(env, top, outcomes, memo, counter)
        except _OutOfBudget:
            ranked = self._by_count(env, top)
        return PartialAnswer(self, env, as_of, top, outcomes, witnesses, ranked, self.exact)

    def _by_count(self, env, top) -> list:
        variables = self.open_variables(env, top)
        return [(name, None) for name in sorted(variables, key=lambda v: (-variables[v], v))]

    def _rank(self, env, top, outcomes, memo, counter) -> list:
        """Open facts that can narrow the outcome, most settling first: (name, share of values that decide)."""
        scored = []
        for name in sorted(self._relevant(env, top)):
            subsets = []
            for value in self.candidates(name, memo["as_of"]):
                key = ((name, value),)
                sub, _ = self.reach(self.assign(env, name, value, memo["as_of"]), memo, counter, key)
                subsets.append(sub)
            if all(s == outcomes for s in subsets):
                continue
            settles = sum(len(s) == 1 for s in subsets) / len(subsets)
            narrows = sum(len(outcomes) - len(s) for s in subsets) / (len(subsets) * max(1, len(outcomes) - 1))
            scored.append((-settles, -narrows, name))
        scored.sort()
        ranked = [(name, round(-s, 4)) for s, _, name in scored]
        seen = {name for name, _ in ranked}
        # then the facts that settle nothing alone (they still matter together with others)
        return ranked + [(name, 0.0) for name, _ in self._by_count(env, top) if name not in seen]

    def _relevant(self, env, top) -> set:
        names = set(self.open_variables(env, top))
        if top.eligible is not False and top.points is None and self.policy.bands:
            names |= {self.variable(v) for v in self._points_vars if v not in env}
        return names


# -- inputs ---------------------------------------------------------------------------------------------
def prepare_partial(policy: Policy, raw: dict, as_of: dt.date, path: tuple | None = None) -> dict:
    """Typed known facts, derived facts and ``given_`` flags; missing facts are simply absent.

    Raises ``InputErrors`` for unknown facts and bad values exactly as a full evaluation does.
    """
    path = path if path is not None else (policy.subject,)
    env = policy.dictionary.prepare(raw, set(), as_of, policy.subject, path)
    for name in raw:
        fact = policy.dictionary.facts.get(name)
        if fact is not None and fact.nullable:
            env[given_name(name)] = True
    return env


def missing_inputs(policy: Policy, raw: dict) -> list[str]:
    """The input facts the edition reads that ``raw`` does not give."""
    return sorted(name for name in policy.dictionary.closure(set(policy.needed_inputs)) if name not in raw)


def to_inputs(policy: Policy, assignment: dict, as_of: dt.date) -> dict:
    """A search assignment (input facts only) as JSON-ready input values."""
    return {name: _plain(value) for name, value in assignment.items()}


def _edge(function, constant, as_of: dt.date) -> dt.date | None:
    """The date where ``function(date, as_of)`` crosses ``constant``: the last date still >= it when the
    function falls as the date moves later (elapsed time), the first one when it rises (time until)."""
    lo, hi = as_of - dt.timedelta(days=200 * 366), as_of + dt.timedelta(days=200 * 366)
    falling = function(lo, as_of) >= function(hi, as_of)
    if falling:
        if function(lo, as_of) < constant or function(hi, as_of) >= constant:
            return None
        while (hi - lo).days > 1:  # invariant: f(lo) >= c > f(hi)
            mid = lo + dt.timedelta(days=(hi - lo).days // 2)
            lo, hi = (mid, hi) if function(mid, as_of) >= constant else (lo, mid)
        return lo
    if function(hi, as_of) < constant or function(lo, as_of) >= constant:
        return None
    while (hi - lo).days > 1:  # invariant: f(lo) < c <= f(hi)
        mid = lo + dt.timedelta(days=(hi - lo).days // 2)
        lo, hi = (lo, mid) if function(mid, as_of) >= constant else (mid, hi)
    return hi


# -- the answer -----------------------------------------------------------------------------------------
_LOCK = threading.Lock()
_PARTIALS: dict[tuple, Partial] = {}


def partial_for(policy: Policy, backend_kind: str = "reference") -> Partial:
    """The process-wide partial evaluator of an edition on ``durable``, ``batch`` or ``reference``."""
    key = (policy.content_hash, backend_kind)
    with _LOCK:
        found = _PARTIALS.get(key)
        if found is not None and found.policy is policy:
            return found
    twin_policy = twin(policy)
    from .batch import BatchBackend
    search = BatchBackend(twin_policy)
    if backend_kind == "durable":
        from .durable import DurableBackend
        backend = DurableBackend.for_policy(twin_policy)
    elif backend_kind == "batch":
        backend = search
    else:
        from .backends import ReferenceBackend
        backend = ReferenceBackend(twin_policy)
    made = Partial(policy, backend, search)
    with _LOCK:
        _PARTIALS[key] = made
    return made


@dataclasses.dataclass
class PartialAnswer:
    partial: Partial
    env: dict
    as_of: dt.date
    top: Classified
    outcomes: frozenset | None  # None when the search ran out of budget
    witnesses: dict  # state -> assignment of facts (derived facts by their own name)
    ranked: list  # [(fact name, share of its values that settle)] most settling first
    exact: bool

    @property
    def state(self):
        return next(iter(self.outcomes)) if self.outcomes is not None and len(self.outcomes) == 1 else None

    @property
    def outcome(self) -> str:
        """``eligible`` / ``not_eligible`` when every completion agrees on eligibility (the band may
        still be open: then ``possible`` lists the bands left), else ``undetermined``."""
        if self.outcomes is None:
            return UNDETERMINED if self.top.eligible is None else ELIGIBLE if self.top.eligible else NOT_ELIGIBLE
        kinds = {s[0] for s in self.outcomes}
        return next(iter(kinds)) if len(kinds) == 1 else UNDETERMINED

    def witness_inputs(self) -> dict:
        """For each possible outcome, the missing facts that lead to it (as input facts)."""
        policy = self.partial.policy
        return {state: to_inputs(policy, assignment, self.as_of) for state, assignment in self.witnesses.items()}

    def as_dict(self, backend_name: str) -> dict:
        policy = self.partial.policy
        dictionary = policy.dictionary
        top, state = self.top, self.state
        plain_env = {k: _plain(v) for k, v in self.env.items() if not k.startswith("given_")}
        trace, reasons, provisional = [], [], set()

        def fired(value):
            return value

        for rule in policy.eligibility:
            for alt in rule.alternatives:
                entry = _trace_entry(alt, False, plain_env)
                entry["fired"] = fired(top.alternatives[alt.key])
                entry["facts"] = {k: v for k, v in entry["facts"].items() if k in self.env}
                trace.append(entry)
            verdict = top.eligibility[rule.id]
            passed = [a for a in rule.alternatives if top.alternatives[a.key] is True]
            if verdict is not None:
                for alt in passed or rule.alternatives:
                    _note_params(alt, provisional)
            if verdict is False or (self.outcome == NOT_ELIGIBLE and verdict is None and not any(
                    v is False for v in top.eligibility.values())):
                # a rule false on the known facts; or, when only the search showed that no completion
                # is eligible, the open rules that cannot all hold together
                reasons.append({"rule": rule.id, "label": rule.label, "message": rule.reason,
                                "reference": rule.reference.as_dict()})
        breakdown = []
        for rule in policy.points:
            value = top.points_rules[rule.key]
            entry = {**_trace_entry(rule, False, plain_env), "points": _fig_value(rule.points)}
            entry["fired"] = value
            entry["facts"] = {k: v for k, v in entry["facts"].items() if k in self.env}
            trace.append(entry)
            if value:
                breakdown.append({"rule": rule.id, "label": rule.label, "points": _fig_value(rule.points),
                                  "reference": rule.reference.as_dict()})
                _note(rule.points, provisional)
                _note_params(rule, provisional)
        band_out = benefit = None
        if top.eligible is not False and policy.bands:
            scoped = {**plain_env, "points": top.points} if top.points is not None else plain_env
            for band in policy.bands:
                entry = _trace_entry(band.rule, False, scoped)
                entry["fired"] = top.bands[band.id]
                entry["facts"] = {k: v for k, v in entry["facts"].items() if k in self.env or k == "points"}
                trace.append(entry)
        if state is not None and state[0] == ELIGIBLE and state[1] is not None:
            band = next(b for b in policy.bands if b.id == state[1])
            band_out = {"id": band.id, "label": band.label, "points": top.points if policy.points else None,
                        "points_breakdown": breakdown, "reference": band.rule.reference.as_dict()}
            benefit = {"currency": "EUR", "amount": _money(band.amount),
                       "duration_months": _fig_value(band.duration_months), "max_doti": _fig_value(band.max_doti),
                       "provenance": {k: f.as_dict() for k, f in (("amount", band.amount),
                                                                  ("duration_months", band.duration_months),
                                                                  ("max_doti", band.max_doti)) if f}}
            _note_params(band.rule, provisional)
            for fig in (band.amount, band.duration_months, band.max_doti):
                _note(fig, provisional)
        out = {
            "policy": policy.summary(),
            "as_of": self.as_of.isoformat(),
            "subject": policy.subject,
            "outcome": self.outcome,
            "eligible": {ELIGIBLE: True, NOT_ELIGIBLE: False}.get(self.outcome),
            "reasons": reasons,
            "band": band_out,
            "benefit": benefit,
            "provisional": sorted(provisional),
            "trace": trace,
            "engine": {"name": "almp", "version": ENGINE_VERSION, "backend": backend_name},
        }
        if state is None and self.outcome != NOT_ELIGIBLE:
            out["missing"] = [self._input_name(name) for name, _ in self.ranked]
            out["ask_next"] = [{"fact": self._input_name(name),
                                "label": dictionary.facts[self._input_name(name)].label,
                                "settles": share} for name, share in self.ranked]
            out["possible"] = self._possible()
            out["exact"] = self.exact
        return out

    def _input_name(self, name: str) -> str:
        return self.partial.variable(name)

    def _possible(self) -> dict | None:
        if self.outcomes is None:
            return None
        policy = self.partial.policy
        states = self.outcomes
        band_ids = {s[1] for s in states if s[0] == ELIGIBLE and s[1] is not None}
        bands = [b for b in policy.bands if b.id in band_ids]
        out = {"outcomes": sorted({s[0] for s in states}),
               "bands": [{"id": b.id, "label": b.label} for b in bands]}
        for key, attr in (("amount", "amount"), ("duration_months", "duration_months")):
            values = [getattr(b, attr).value for b in bands if getattr(b, attr) is not None
                      and getattr(b, attr).value is not None]
            if values and (ELIGIBLE, None) not in states:
                low, high = min(values), max(values)
                if key == "amount":
                    out[key] = {"min": money_text(Decimal(low)), "max": money_text(Decimal(high))}
                else:
                    out[key] = {"min": _plain(low), "max": _plain(high)}
        return out


def evaluate_partial(policy: Policy, raw: dict, as_of: dt.date, backend_kind: str = "reference",
                     env: dict | None = None) -> dict:
    """The decision for a subject whose facts may be incomplete (JSON-ready, like ``evaluate``)."""
    partial = partial_for(policy, backend_kind)
    if env is None:
        env = prepare_partial(policy, raw, as_of)
    answer = partial.evaluate(env, as_of)
    return answer.as_dict(getattr(partial.backend, "name", backend_kind))


def backend_kind(backend) -> str:
    from .batch import BatchBackend
    from .backends import ReferenceBackend
    return "batch" if isinstance(backend, BatchBackend) else "reference" if isinstance(backend, ReferenceBackend) \
        else "durable"


def evaluate_available(policy: Policy, raw: dict, as_of: dt.date, backend_kind: str = "durable",
                       backend=None, compact: bool = False) -> dict:
    """The decision from whatever facts ``raw`` holds: the full evaluation when nothing the edition
    reads is missing, the partial one otherwise. ``backend_kind``: durable, batch or reference
    (``backend``, when given, decides complete inputs). Regions named in the input are echoed in
    their canonical form (almp code, ISTAT code, official name) under ``regions``. ``compact``: a
    full evaluation's trace stays a ``Trace`` record (see ``evaluate``)."""
    from .evaluate import evaluate, prepare_facts
    from ..policy.regions import canonical_regions
    if policy.subject == "person" and isinstance(raw, dict):
        from ..errors import InputErrors
        from ..policy.codice_fiscale import expand
        raw, problems = expand(raw, as_of, (policy.subject,))
        if problems:
            raise InputErrors(problems)
    if missing_inputs(policy, raw):
        result = evaluate_partial(policy, raw, as_of, backend_kind)
    else:
        env = prepare_facts(policy, raw, as_of)
        result = evaluate(policy, raw, as_of, backend or full_backend(policy, backend_kind), env=env, compact=compact)
    named = canonical_regions(policy.dictionary, raw) if isinstance(raw, dict) else {}
    if named:
        result["regions"] = named
    return result


def full_backend(policy: Policy, backend_kind: str):
    if backend_kind == "durable":
        from .durable import DurableBackend
        return DurableBackend.for_policy(policy)
    if backend_kind == "batch":
        return _batch_backend(policy)
    from .backends import ReferenceBackend
    return ReferenceBackend(policy)


_BATCH: dict[str, object] = {}


def _batch_backend(policy: Policy):
    with _LOCK:
        found = _BATCH.get(policy.content_hash)
    if found is None or found[0] is not policy:
        from .batch import BatchBackend
        found = (policy, BatchBackend(policy))
        with _LOCK:
            _BATCH[policy.content_hash] = found
    return found[1]
