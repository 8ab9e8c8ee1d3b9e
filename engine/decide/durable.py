"""The durable-rules backend. This is the only module that imports ``durable``.

Each policy edition compiles to one durable-rules ruleset named after its content hash
(rulesets can never be unregistered, so an edited file simply gets a new name). Each
condition becomes one rule, named by the rule's key. Facts are asserted (not
posted) so that every matching rule fires.

Every decision of an edition asserts into the same state (one ``sid`` per backend), under
one fixed fact id, and retracts that fact once its actions are drained, all under the lock:
the state is empty again for the next decision. A fresh ``sid`` per assert, deleted
afterwards, makes the C core allocate and free its per-rule pools (about half a megabyte)
on every assert: that was two thirds of the core's time per decision, and with some heap
layouts glibc hands the memory back to the kernel and faults it in again each time (~47
page faults and 5x the time per person). A state is abandoned (never reused) after any
error in the C core, so a half-drained queue or a fact left behind cannot leak into the
next decision.

Traps handled here (measured on 2.0.28, vendored in third_party/durable_rules; see ``docs/durable-rules.md``):
- the stock ``Host`` starts timer threads that race with ``assert_fact``: ``_QuietHost``
  starts none, so every action has run when ``assert_fact`` returns;
- the C extension never releases the GIL and is not safe to re-enter: one process-wide
  lock serialises every call (scale with processes);
- a fact that matches no rule raises ``MessageNotHandledException``: that means no rule fired;
- exceptions in actions are swallowed by the engine: we run no Python actions at all. The
  durable ``Host`` dispatches each fired rule through a Python closure with two JSON round
  trips and a state update (about 20 µs per fired rule). almp makes one call per fact into
  ``assert_drain_retract``, its own addition to the vendored binding: assert, complete every
  queued action keeping only its rule name, retract. The stock ``start_action_for_state`` /
  ``complete_and_start_action`` write each action's message (the whole fact as JSON) and the
  state's, which almp never reads: the drained call took a DUL 2013 decision from 10.4 to 6.8 µs
  (facts already read), below the 5.4 µs the stock calls take for the core alone.

Values cross into the engine as JSON: dates become day ordinals, numbers become integers
in micro-units (exact in a double up to 9e9), nulls are left out (so every comparison on
them is false, as in the reference semantics). Atoms the JSON operators cannot express
exactly (arithmetic, date functions, list membership, ordered-enum comparisons between
two facts) are computed by the reference evaluator and handed to the rule as a boolean
field ``_aN``: the rules engine still decides every rule from its atoms.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from decimal import Decimal

import durable as _durable_package
import durable_rules_engine as _core
from durable import engine as _durable

from .backends import stage_rules
from ..errors import EvaluationError
from ..version import ENGINE_VERSION
from ..expr import atoms as a
from ..expr import nodes as n
from ..expr.atoms import atom_of
from ..expr.evaluator import compile_expr
from ..policy.model import Policy

try:
    from .._accel import body as _accel_body
except ImportError:  # pragma: no cover - a build without the extension: _python_body
    _accel_body = None

SCALE = 10 ** 6
_LIMIT = 9 * 10 ** 9
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_LOCK = threading.RLock()
_FACT_ID = "f"  # every asserted fact has this id: its state holds one fact at a time


class _QuietHost(_durable.Host):
    """A host without dispatch timers: almp uses no timers, and they race with assert_fact."""

    def _run(self):
        return None


_HOST = _QuietHost()
_REGISTERED: dict[str, "DurableBackend"] = {}


def engine_version() -> str:
    """What made a decision on this path: almp's version and the rules engine's.

    durable-rules is vendored (third_party/durable_rules) and carries its own version, upstream
    release plus almp's patch level, e.g. ``2.0.28+almp.1``.
    """
    version = getattr(_durable_package, "__version__", None)
    if version is None:  # a PyPI durable-rules left in an older environment shadows the vendored one
        try:
            from importlib.metadata import version as installed
            version = installed("durable-rules")
        except Exception:  # noqa: BLE001 - metadata is informative only
            version = "unknown build"
    return f"almp {ENGINE_VERSION}; durable-rules {version}"


def encode(value):
    """A Python fact value as the engine sees it, or ``_MISSING`` when it cannot be exact."""
    if value is None:
        return _MISSING
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)):
        scaled = value * SCALE
        if scaled != int(scaled) or abs(value) >= _LIMIT:
            return _MISSING
        return int(scaled)
    if isinstance(value, dt.date):
        return value.toordinal()
    return _MISSING


_MISSING = object()


def _no_action(_closure):
    """The stock Host wants an action per rule; almp never dispatches them (it drains the C core's queue)."""


def _scaled_int(value):
    return value * SCALE if -_LIMIT < value < _LIMIT else _MISSING


def _same(value):
    return value


def _ordinal(value):
    return value.toordinal()


def _encoder(policy: Policy, name: str):
    fact = policy.dictionary.facts.get(name)
    kind = "int" if fact is None else fact.type.kind  # 'points' is the only non-fact name
    if kind in ("enum", "string", "bool"):
        return _same
    if kind == "int":
        return _scaled_int
    if kind == "date":
        return _ordinal
    return encode


def _writer(policy: Policy, name: str):
    """value -> its JSON literal as the engine sees it (``encode``), or None when it cannot be exact."""
    fact = policy.dictionary.facts.get(name)
    kind = "int" if fact is None else fact.type.kind
    if kind in ("enum", "string"):
        texts: dict[str, str] = {}

        def text(value):
            literal = texts.get(value)
            if literal is None:
                if not isinstance(value, str):
                    return _literal(encode(value))
                literal = json.dumps(value, ensure_ascii=False)
                if len(texts) < 4096:  # enum values: a small, fixed set
                    texts[value] = literal
            return literal
        return text
    if kind == "bool":
        return lambda value: "true" if value is True else "false" if value is False else _literal(encode(value))
    if kind == "int":
        def integer(value):
            if type(value) is int and -_LIMIT < value < _LIMIT:
                return str(value * SCALE)
            return _literal(encode(value))
        return integer
    if kind == "date":
        return lambda value: str(value.toordinal())
    return lambda value: _literal(encode(value))


def _literal(encoded):
    if encoded is _MISSING:
        return None
    if encoded is True or encoded is False:
        return "true" if encoded else "false"
    if isinstance(encoded, str):
        return json.dumps(encoded, ensure_ascii=False)
    return str(int(encoded))


class _Translator:
    """Translate a normalised condition into durable-rules JSON, lifting what it cannot express."""

    def __init__(self, ordinals: dict, lifted: list):
        self.ordinals = ordinals
        self.lifted = lifted  # (field, closure) pairs the backend computes before asserting

    def translate(self, node: n.Node):
        if isinstance(node, n.And):
            parts = [self.translate(i) for i in node.items]
            if any(p is False for p in parts):
                return False
            parts = [p for p in parts if p is not True]
            return True if not parts else parts[0] if len(parts) == 1 else {"$and": parts}
        if isinstance(node, n.Or):
            parts = [self.translate(i) for i in node.items]
            if any(p is True for p in parts):
                return True
            parts = [p for p in parts if p is not False]
            return False if not parts else parts[0] if len(parts) == 1 else {"$or": parts}
        if isinstance(node, n.Literal):
            return bool(node.value)
        native = self._native(node)
        return native if native is not None else self._lift(node)

    def _lift(self, node: n.Node):
        field = f"_a{len(self.lifted)}"
        self.lifted.append((field, compile_expr(node, self.ordinals)))
        return {field: True}

    def _native(self, node):
        atom = atom_of(node, self.ordinals)
        if isinstance(atom, a.Presence):
            return {"$ex" if atom.known else "$nex": {atom.name: 1}}
        if isinstance(atom, a.Member):
            values = [encode(v) for v in atom.values]
            if any(v is _MISSING for v in values):
                return None
            if not values:
                return None  # an empty list: let the closure decide
            if atom.negated:
                return {"$and": [{"$neq": {atom.name: v}} for v in values]}
            return {"$or": [{atom.name: v} for v in values]} if len(values) > 1 else {atom.name: values[0]}
        if isinstance(atom, a.Compare):
            value = encode(atom.value)
            if value is _MISSING:
                return None
            return {atom.name: value} if atom.op == "==" else {_OPS[atom.op]: {atom.name: value}}
        if isinstance(atom, a.CompareFields):
            ref = {"$m": atom.right}
            return {atom.left: ref} if atom.op == "==" else {_OPS[atom.op]: {atom.left: ref}}
        return None


class DurableBackend:
    """Evaluates a policy's rules on durable-rules. Thread-safe; one ruleset per content hash."""

    name = "durable-rules"

    def __init__(self, policy: Policy):
        self.ruleset = "almp_" + policy.content_hash.split(":")[-1][:24]
        self.lifted: dict[int, list] = {1: [], 2: []}
        # Inside the engine each rule is named by a short code: the core keeps and compares short
        # names, and the codes of one decision, as the core returns them, look up the fired keys
        # (``_fired``) with one dict look-up.
        keys = [rule.key for stage in (1, 2) for rule in stage_rules(policy, stage)]
        width = 1 if len(keys) + 2 <= len(_ALPHABET) else 2 if len(keys) + 2 <= len(_ALPHABET) ** 2 else 3
        codes = _codes(width)
        self._key_of: dict[str, str | None] = {}
        definition = {}
        for stage in (1, 2):
            translator = _Translator(policy.ordinals, self.lifted[stage])
            for rule in stage_rules(policy, stage):
                cond = translator.translate(rule.condition.node)
                if cond is False:
                    continue  # can never fire: it is simply absent from the fired set
                code = next(codes)
                self._key_of[code] = rule.key
                test = {"_stage": stage} if cond is True else {"$and": [{"_stage": stage}, cond]}
                definition[code] = {"all": [{"m": test}], "run": _no_action}
        # only the facts a stage's rules read cross into the engine, each with its type's encoder
        self.fields = {}
        for stage in (1, 2):
            names = sorted({name for rule in stage_rules(policy, stage) for name in rule.condition.reads})
            self.fields[stage] = tuple((name, _encoder(policy, name)) for name in names)
        # the same facts written straight to JSON text (``text``): per stage the head after the sid, the
        # fact names, and per fact a function value -> its piece ',"name":literal' ('' when left out)
        self._texts = {}
        for stage in (1, 2):
            names = tuple(name for name, _ in self.fields[stage] if name != "points")
            points = _piece(policy, "points") if any(name == "points" for name, _ in self.fields[stage]) else None
            self._texts[stage] = (f'","id":"{_FACT_ID}","_stage":{stage}', names, tuple(_piece(policy, name) for name in names), points)
        self._lifted_keys = {stage: tuple((f",{json.dumps(field)}:", fn) for field, fn in self.lifted[stage])
                             for stage in (1, 2)}
        self._fired: dict[str, frozenset] = {}  # joined codes -> fired keys; bounded (_FIRED_LIMIT)
        for stage in (1, 2):
            # Every fact must match at least one rule: the core answers an unmatched fact with code 1,
            # which ``match`` treats as a failure (and deleting the state of a sid for which no rule
            # matched aborts the whole process inside the C core, seen with 2.0.28).
            code = next(codes)
            self._key_of[code] = None
            definition[code] = {"all": [{"m": {"_stage": stage}}], "run": _no_action}
        with _LOCK:
            if self.ruleset in _REGISTERED:
                raise EvaluationError(f"ruleset {self.ruleset} already registered; use DurableBackend.for_policy")
            _HOST.register_rulesets({self.ruleset: definition})
            _REGISTERED[self.ruleset] = self
        self._handle = _HOST.get_ruleset(self.ruleset)
        self._core = self._handle._handle
        self._generation = -1
        self._abandon()  # the first state: s0

    @classmethod
    def for_policy(cls, policy: Policy) -> "DurableBackend":
        """The process-wide backend of this edition, created once."""
        name = "almp_" + policy.content_hash.split(":")[-1][:24]
        with _LOCK:
            backend = _REGISTERED.get(name)
            if backend is None:
                backend = cls(policy)
            return backend

    def event(self, stage: int, env: dict) -> dict:
        """The JSON fact asserted for ``env`` (also used by benchmarks to drive durable directly)."""
        fact = {"_stage": stage}
        for name, enc in self.fields[stage]:
            value = env.get(name)
            if value is not None:
                encoded = enc(value)
                if encoded is not _MISSING:
                    fact[name] = encoded
        for field, fn in self.lifted[stage]:
            fact[field] = bool(fn(env))
        return fact

    def text(self, stage: int, env: dict, sid: str, points: int | None = None) -> str:
        """``event`` as JSON text with its ``sid`` and fact id, written directly (no dict, no generic encoder).

        ``points``, when given, is the ``points`` fact (otherwise read from ``env``).
        """
        return '{"sid":"' + sid + self._body(stage, env, points)

    def _body(self, stage: int, env: dict, points: int | None) -> str:
        if _accel_body is not None:  # the same text written in C (engine/_accel.c); _python_body is the reference
            return _accel_body(self._texts[stage], self._lifted_keys[stage], env, points)
        return self._python_body(stage, env, points)

    def _python_body(self, stage: int, env: dict, points: int | None) -> str:
        head, names, pieces, points_piece = self._texts[stage]
        body = "".join(map(_lookup, pieces, map(env.get, names)))
        if points_piece is not None:
            body += points_piece[env.get("points") if points is None else points]
        lifted = self._lifted_keys[stage]
        if lifted:
            body += "".join([key + ("true" if fn(env) else "false") for key, fn in lifted])
        return head + body + "}"

    takes_points = True  # ``match(2, env, points)``: see ``evaluate.decide``

    def match(self, stage: int, env: dict, points: int | None = None) -> frozenset:
        text = self._body(stage, env, points)
        with _LOCK:
            try:
                # one call into the core: assert, complete every queued action keeping only its rule
                # code (no action message is written), retract - the state is empty again
                codes = _assert_drain_retract(self._core, '{"sid":"' + self._sid + text, self._retract)
            except Exception as exc:  # the C core reports errors as plain exceptions
                self._abandon()
                raise EvaluationError(f"durable-rules failed on {self.ruleset}: {exc}") from exc
        fired = self._fired.get(codes)
        if fired is None:
            fired = frozenset(key for key in map(self._key_of.__getitem__, codes.split("\n")[:-1]) if key is not None)
            if len(self._fired) < _FIRED_LIMIT:  # a handful of combinations per edition in practice
                self._fired[codes] = fired
        return fired

    def _abandon(self) -> None:
        """Decide on a new state from now on: the current one may hold a fact or a started action.

        It is left as it is, not deleted (deleting a state in an unknown condition can abort the
        process inside the C core); each abandoned state counts towards the core's 1,024 sids.
        """
        self._generation += 1
        self._sid = f"s{self._generation}"
        self._retract = '{"sid":"' + self._sid + '","id":"' + _FACT_ID + '"}'


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FIRED_LIMIT = 4096
_lookup = dict.__getitem__  # honours _Pieces.__missing__
_assert_drain_retract = _core.assert_drain_retract  # almp's addition to the vendored binding


def _codes(width: int):
    """Rule codes of ``width`` characters (JSON keys that need no escaping)."""
    return ("".join(chars) for chars in itertools.product(_ALPHABET, repeat=width))


def _piece(policy: Policy, name: str) -> "_Pieces":
    """value -> ',"name":literal' as ``event`` writes the fact, or '' when it is left out.

    A table, remembered per value: the values of a fact are few (enum values, ages, months) and
    the facts are typed by the fact reader, so a value is never a look-alike of another type.
    """
    fact = policy.dictionary.facts.get(name)
    kind = "int" if fact is None else fact.type.kind
    return _Pieces(f",{json.dumps(name)}:", _writer(policy, name), _KEPT.get(kind))


_KEPT = {"enum": str, "string": str, "bool": bool, "int": int, "date": dt.date}


class _Pieces(dict):
    """Fact value -> its piece; values of the fact's own type are remembered (at most 4,096)."""

    def __init__(self, key: str, write, kept: type | None):
        super().__init__({None: ""})
        self.key, self.write, self.kept = key, write, kept

    def __missing__(self, value):
        literal = self.write(value)
        piece = "" if literal is None else self.key + literal
        if type(value) is self.kept and len(self) < 4096:
            self[value] = piece
        return piece
