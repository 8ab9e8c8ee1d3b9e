"""The fact reader of one edition: one subject's facts checked and typed without generic dispatch.

``FactDictionary.prepare`` walks every fact through a generic coercion and then every
declared fact for derivations (about 8 µs a subject); on the one-at-a-time decision path
that is a third of almp's own time. A ``FactReader`` is built once per edition and fact
dictionary: per fact, one small specialised check (enum: membership of a frozen set;
boolean: the type; date: a look-up of the texts already read, else the ISO text), and the
derived facts of this subject (per evaluation date, a look-up of the values already derived).

It only ever *accepts*: any subject it cannot prove valid on the fast path (a missing,
unknown or derived fact, a wrong type, an out-of-range value, anything unusual) goes to
``FactDictionary.prepare``, whose answer - typed facts or every problem - is the one
returned. For an accepted subject the facts are exactly the ones ``prepare`` gives, less the
computed facts the edition does not read (``tests/policy/test_reader.py`` checks both on random and
hostile input, with dates and derived values remembered across reads).

``read`` runs ``_facts`` in C when engine._accel is built (``read_facts``: the same loop over the
same checks, tables and derivations, dispatched on ``_spec``); ``_facts`` is its reference and its
fallback, and ``tests/policy/test_accel.py`` checks that both answer alike on every shipped edition.
"""
from __future__ import annotations

import datetime as dt
import sys

from ..dates import months_until, years_until
from ..values import _DATE, FIRST_DATE, LAST_DATE
from .facts import DATE_DERIVATIONS, DERIVATIONS, Fact, FactDictionary

try:  # the same reading in C (engine/_accel.c); this module's Python is the reference and the fallback
    from .._accel import read_facts as _read_facts
except ImportError:  # pragma: no cover - a build without the extension
    _read_facts = None

_FAST_DERIVATIONS = {"completed_years": years_until, "completed_months": months_until}
_SLOW = object()
# Date texts already read, for every date fact (the reading does not depend on the fact; null is
# never kept). A text is looked up by equality, and only a str equals a str: the exact texts
# read_date accepts map to the dates it gives. Birth dates of a century are ~37,000 texts.
_DAYS: dict[str, dt.date] = {}
_DAYS_KEPT = 65_536


class _Derived(dict):
    """Source value -> derived value for one evaluation date, computed on first sight (null -> null).

    Keys are typed facts (dates), so equal keys are the same date; at most ``_DERIVED_KEPT`` kept.
    """

    def __init__(self, derive):
        super().__init__({None: None})
        self.derive = derive

    def __missing__(self, value):
        derived = self.derive(value)
        if len(self) < _DERIVED_KEPT:
            self[value] = derived
        return derived


_DERIVED_KEPT = 65_536


def _check(fact: Fact):
    """A function value -> typed value, or ``_SLOW`` when only the generic path can tell."""
    kind = fact.type.kind
    nullable = fact.nullable
    if kind == "enum":
        # a table lookup, no Python call: the allowed texts (and null, when allowed) map to themselves
        return _Choices({value: value for value in fact.type.values}, nullable).__getitem__
    if kind in ("boolean", "bool"):
        def boolean(value):
            if value is True or value is False:
                return value
            return None if value is None and nullable else _SLOW
        return boolean
    if kind == "int":
        low, high = fact.minimum, fact.maximum

        def integer(value):
            if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
                return value
            return None if value is None and nullable else _SLOW
        return integer
    coerce = FactDictionary._coerce
    if kind == "date":
        def date(value):
            day = _DAYS.get(value)  # an unhashable value raises TypeError: the generic path says why
            if day is not None:
                return day
            if type(value) is str and len(value) == 10 and _DATE.match(value):  # read_date's own test
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    return _SLOW
                if not FIRST_DATE <= day <= LAST_DATE:
                    return _SLOW
                if len(_DAYS) < _DAYS_KEPT:
                    _DAYS[value] = day
                return day
            return other(value)

    def other(value):  # dates, decimals, lists: the dictionary's own reading (still no dispatch by name)
        try:
            return coerce(fact, value)
        except ValueError:
            return _SLOW
    return date if kind == "date" else other


# the kinds of engine._accel's spec entries (engine/_accel.c)
_KIND_ENUM, _KIND_BOOL, _KIND_INT, _KIND_DATE, _KIND_CALL = range(5)


def _spec(fact: Fact, check, required: bool) -> tuple:
    """The C reader's entry for ``check`` (``_check(fact)``): (kind, table or check, low, high, nullable, required).

    Each kind does what ``check`` does: enum subscripts its ``_Choices``, bool and int test in C with
    the same bounds, date looks up ``_DAYS`` and otherwise calls ``check``, any other kind calls it.
    """
    kind = fact.type.kind
    nullable = bool(fact.nullable)
    if kind == "enum":
        return (_KIND_ENUM, check.__self__, None, None, nullable, required)
    if kind in ("boolean", "bool"):
        return (_KIND_BOOL, None, None, None, nullable, required)
    if kind == "int":
        return (_KIND_INT, None, fact.minimum, fact.maximum, nullable, required)
    if kind == "date":
        return (_KIND_DATE, check, _DAYS, None, nullable, required)
    return (_KIND_CALL, check, None, None, nullable, required)


class _Choices(dict):
    """Allowed value -> itself; anything else -> ``_SLOW`` (an unhashable value raises TypeError)."""

    def __init__(self, allowed: dict, nullable: bool):
        super().__init__(allowed)
        if nullable:
            self[None] = None

    def __missing__(self, value):
        return _SLOW


class FactReader:
    """``read(raw, as_of, path)``: the typed and derived facts of one subject of an edition."""

    def __init__(self, dictionary: FactDictionary, needed, subject: str = "person"):
        self.dictionary = dictionary
        self.needed = frozenset(needed)
        self.subject = subject
        self.required = frozenset(n for n in dictionary.closure(set(self.needed)) if n in dictionary)
        self.checks = {name: _check(fact) for name, fact in dictionary.facts.items()
                       if fact.of(subject) and not fact.computed}
        # the computed facts the edition reads, as prepare computes them (in dictionary order); the
        # others (exact durations in Decimal, ...) would cost more than the whole decision
        self.derived = tuple((fact.name, fact.derived_from, fact.derivation) for fact in dictionary.facts.values()
                             if fact.computed and fact.of(subject) and fact.name in self.needed)
        self._at: tuple = (None, ())
        self.not_after = tuple(name for name in self.checks if dictionary.facts[name].not_after_as_of)
        # names interned: a raw key that is a literal (interned too) is then found by identity
        self._spec = {sys.intern(name): _spec(dictionary.facts[name], check, name in self.required)
                      for name, check in self.checks.items()}
        # what engine._accel.read_facts reads besides (raw, as_of, self._at), in one attribute
        self._reading = (self._spec, self.required, _SLOW, self.not_after, self._derivations)

    def _derivations(self, as_of: dt.date):
        at, functions = self._at
        if at != as_of:  # a table per derived fact (value -> derived value) while as_of stays the same
            functions = tuple((name, source, DATE_DERIVATIONS[how](as_of) if source is None else
                               _Derived(_FAST_DERIVATIONS[how](as_of)) if how in _FAST_DERIVATIONS
                               else _Derived((lambda f: lambda start: f(start, as_of))(DERIVATIONS[how])))
                              for name, source, how in self.derived)
            self._at = (as_of, functions)
        return functions

    def read(self, raw, as_of: dt.date, path: tuple | None = None) -> dict:
        """Typed facts plus derived facts; raises ``InputErrors`` (the dictionary's) on any problem.

        ``path`` names the input in problems (default: the subject).
        """
        if _read_facts is not None:  # ``_facts`` in C (engine/_accel.c)
            env = _read_facts(raw, as_of, self._at, self._reading)
        else:
            env = self._facts(raw, as_of)
        if env is None:
            return self.dictionary.prepare(raw, set(self.needed), as_of, self.subject,
                                           path if path is not None else (self.subject,))
        return env

    def _facts(self, raw, as_of: dt.date) -> dict | None:
        """The typed and derived facts, or None when only the dictionary can read ``raw``.

        The reference of engine._accel.read_facts, and its fallback.
        """
        env = self._fast(raw) if type(raw) is dict else None
        if env is None:
            return None
        for name in self.not_after:
            day = env.get(name)
            if day is not None and day > as_of:
                return None  # a birth after as_of: the dictionary says so
        for name, source, derived in self._derivations(as_of):
            if source is None:  # computed from the evaluation date alone: ``derived`` is the value
                env[name] = derived
            elif source in env:
                env[name] = derived[env[source]]
        return env

    def _fast(self, raw: dict):
        checks = self.checks
        env = {}
        try:
            for key, value in raw.items():
                check = checks.get(key)
                if check is None:
                    return None  # unknown or derived fact: the dictionary names the problem
                typed = check(value)
                if typed is _SLOW:
                    return None
                env[key] = typed
        except TypeError:  # a list or object where a choice is expected
            return None
        if len(env) < len(self.required) or not self.required.issubset(env):
            return None
        return env
