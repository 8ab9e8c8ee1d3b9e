"""Columnar fact preparation: check and prepare a whole chunk of subjects at once, per edition.

The row path (``FactDictionary.prepare``) costs a few µs per subject in generic per-fact
dispatch, which is most of the batch path's time. Here a chunk is handled a column at a time:

- each column's value *types* are checked in one pass (``set(map(type, column))``);
- each *distinct* value is checked and converted once, by the row path's own coercion, so a
  value is accepted, rejected and typed exactly as ``prepare`` would (a population has a few
  thousand distinct birth dates, not one per person);
- derived facts (age, months since a date) are computed once per distinct source value with
  the same calendar functions (``engine.dates``), then mapped onto the column;
- only the columns the edition's rules read are materialised.

A row the fast path cannot prove valid (a bad value, a missing or unknown fact, an odd
type) is handed whole to ``FactDictionary.prepare``: its problems are exactly the row
path's, with the row's index in their path, and a valid odd row gets exactly the row path's
values. ``tests/test_columns.py`` checks both paths agree on random chunks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter

from ..dates import months_until, years_until
from ..errors import InputErrors, InputProblem
from ..policy.facts import DATE_DERIVATIONS, DERIVATIONS, Fact, FactDictionary
from ..policy.model import Policy
from .backends import stage_rules

_NONE = type(None)
# derivations for one evaluation date, in integer arithmetic (same results, see engine.dates)
_FAST = {DERIVATIONS["completed_years"]: years_until, DERIVATIONS["completed_months"]: months_until}


@dataclass
class Chunk:
    """Prepared columns of a chunk of ``size`` subjects.

    ``columns`` holds one list per fact the edition's rules read (derived facts included),
    aligned with the input rows; ``problems`` maps the index of each rejected row to its
    problems (that row's entries in ``columns`` are None and it must not be decided).
    """

    size: int
    columns: dict[str, list]
    problems: dict[int, list[InputProblem]] = field(default_factory=dict)

    def errors(self) -> InputErrors | None:
        """Every problem of the chunk as one ``InputErrors`` (row order), or None."""
        if not self.problems:
            return None
        return InputErrors([p for row in sorted(self.problems) for p in self.problems[row]])


class ColumnPreparer:
    """The fact reader of one edition, compiled once: which facts, how each is checked and derived."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.dictionary: FactDictionary = policy.dictionary
        self.subject = policy.subject
        self.needed = frozenset(policy.needed_inputs)
        self.required = frozenset(n for n in self.dictionary.closure(set(self.needed)) if n in self.dictionary)
        reads = set()
        for stage in (1, 2):
            for rule in stage_rules(policy, stage):
                reads |= rule.condition.reads
        reads.discard("points")
        self.reads = tuple(sorted(reads))
        facts = self.dictionary.facts
        self.inputs = {name: fact for name, fact in facts.items() if fact.of(self.subject) and not fact.computed}
        # derived facts by source: (derived name, function) for those the rules read; and those
        # computed from the evaluation date alone (the same value for every row)
        self.derived: dict[str, list] = {}
        self.dated: list[tuple[str, object]] = []
        for fact in facts.values():
            if fact.computed and fact.of(self.subject) and fact.name in reads:
                if fact.derived_from is None:
                    self.dated.append((fact.name, DATE_DERIVATIONS[fact.derivation]))
                else:
                    self.derived.setdefault(fact.derived_from, []).append((fact.name, DERIVATIONS[fact.derivation]))

    # -- input forms -------------------------------------------------------------------------
    def from_rows(self, rows: list, as_of: dt.date, path: tuple = ("persons",)) -> Chunk:
        """Prepare a list of fact objects (one dict per subject, as the row path takes them)."""
        n = len(rows)
        if n == 0:
            return Chunk(0, {name: [] for name in self.reads})
        first = rows[0]
        odd: set[int] = set()
        columns: dict[str, list] | None = None
        if type(first) is dict and all(type(r) is dict for r in rows) and set(map(len, rows)) == {len(first)}:
            try:  # every row has the first row's facts (and as many): one C-level pass per fact
                columns = {name: list(map(itemgetter(name), rows)) for name in first}
            except KeyError:
                columns = None
        if columns is None:  # rows with different facts, or not objects: the exact way
            keys: dict[str, None] = {}
            for row in rows:
                if type(row) is dict:
                    keys.update(dict.fromkeys(row))
            odd.update(i for i, row in enumerate(rows) if type(row) is not dict or len(row) != len(keys))
            columns = {name: [r.get(name, _ABSENT) if type(r) is dict else _ABSENT for r in rows] for name in keys}
        return self._prepare(n, columns, odd, as_of, path, lambda i: rows[i])

    def from_columns(self, columns: dict, as_of: dt.date, path: tuple = ("persons",)) -> Chunk:
        """Prepare a chunk given as columns: fact name -> list of raw values, all of one length."""
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        columns = {name: col if type(col) is list else list(col) for name, col in columns.items()}
        return self._prepare(n, columns, set(), as_of, path,
                             lambda i: {name: col[i] for name, col in columns.items()})

    # -- the work ----------------------------------------------------------------------------
    def _prepare(self, n: int, columns: dict, odd: set, as_of: dt.date, path: tuple, row_of) -> Chunk:
        out: dict[str, list] = {}
        borrowed: set[str] = set()
        for name in self.required:
            if name not in columns:
                odd.update(range(n))  # every row lacks a required fact: the row path says which
        for name, column in columns.items():
            fact = self.inputs.get(name)
            if fact is None:  # unknown, derived, or another subject's fact: every row that has it is odd
                odd.update(i for i, v in enumerate(column) if v is not _ABSENT)
                continue
            if fact.type.kind == "date":
                done = self._dates(fact, name, column, as_of, out)
                if done is not None:
                    if done:
                        odd.update(i for i, v in enumerate(column) if v in done)
                    continue
            checked = self._check(fact, column)
            if checked is None:  # not provably exact by distinct value: check value by value
                values, bad = self._each(fact, column)
                if fact.not_after_as_of:  # a birth after as_of: the row path names it
                    bad += [i for i, v in enumerate(values) if v is not None and v > as_of]
                odd.update(bad)
                if name in self.reads:
                    out[name] = values
                for derived, function in self.derived.get(name, ()):
                    derive = _deriver(function, as_of)
                    out[derived] = [None if v is None else derive(v) for v in values]
                continue
            typed, bad = checked
            if bad:
                odd.update(i for i, v in enumerate(column) if v in bad)
            if name in self.reads:
                if typed is None:
                    out[name] = column  # the caller's list: copied below before any row is changed
                    borrowed.add(name)
                else:
                    out[name] = list(map(typed.get, column))
            for derived, function in self.derived.get(name, ()):
                derive = _deriver(function, as_of)
                keys = [raw for raw in typed if raw not in bad and typed[raw] is not None]
                memo = dict(zip(keys, map(derive, map(typed.__getitem__, keys))))
                out[derived] = list(map(memo.get, column))
        for name, function in self.dated:
            out[name] = [function(as_of)] * n
        for name in self.reads:
            if name not in out:  # read by a rule but not sent: only possible on odd rows (or unknown facts)
                out[name] = [None] * n
        problems: dict[int, list[InputProblem]] = {}
        if odd:
            for name in borrowed:
                out[name] = list(out[name])
        for i in sorted(odd):
            try:
                env = self.dictionary.prepare(row_of(i), set(self.needed), as_of, self.subject, path + (i,))
            except InputErrors as exc:
                problems[i] = exc.problems
                for column in out.values():
                    column[i] = None
                continue
            for name, column in out.items():
                column[i] = env.get(name)
        return Chunk(n, out, problems)

    def _dates(self, fact: Fact, name: str, column: list, as_of: dt.date, out: dict):
        """A date column in one pass per output (the date itself if read, each derived fact).

        Each distinct raw value is parsed (and derived) once, when first met (``_Memo``);
        returns the raw values the row path rejects, or None when some value is not hashable.
        """
        wanted = [(derived, _deriver(function, as_of)) for derived, function in self.derived.get(name, ())]
        if name in self.reads or not wanted:
            wanted.append((name, None))
        bad: set = set()
        latest = as_of if fact.not_after_as_of else None
        for target, derive in wanted:
            memo = _Memo(fact, derive, bad, latest)
            try:
                values = list(map(memo.__getitem__, column))
            except TypeError:  # an unhashable value (a list, an object): the value-by-value path
                return None
            if target in self.reads:
                out[target] = values
        return bad

    @staticmethod
    def _check(fact: Fact, column: list):
        """``(typed, bad)`` for a column checked by its distinct values, or None when that is unsafe.

        ``typed`` maps each distinct raw value to its typed value (None: the raw values are
        their own typed form); ``bad`` holds the raw values the row path rejects. Grouping by
        equality is exact only where equal raw values always coerce to equal results: text,
        dates, and whole numbers or booleans once every value's type is known
        (``1 == True == 1.0`` would otherwise hide a wrong type).
        """
        kind = fact.type.kind
        if kind in ("int", "boolean", "bool"):
            types = set(map(type, column))
            types.discard(_NONE if fact.nullable else _Absent)
            types.discard(_Absent)
            if not types <= ({int} if kind == "int" else {bool}):
                return None
            if kind != "int" or (fact.minimum is None and fact.maximum is None):
                return None, ()
        try:
            distinct = set(column)
        except TypeError:  # lists or other unhashable values
            return None
        distinct.discard(_ABSENT)
        if kind == "enum":
            allowed = set(fact.type.values)
            if fact.nullable:
                allowed.add(None)
            return None, distinct - allowed  # only text equals text: anything else is in the difference
        if kind not in ("int", "date") and any(type(v) is not str for v in distinct):
            return None  # decimals given as numbers: 1, 1.0 and Decimal("1.00") are equal but differ
        typed, bad = {}, set()
        coerce = FactDictionary._coerce
        for value in distinct:
            try:
                typed[value] = coerce(fact, value)
            except ValueError:
                bad.add(value)
        return (None if kind == "int" else typed), bad

    @staticmethod
    def _each(fact: Fact, column: list):
        values, bad = [], []
        coerce = FactDictionary._coerce
        for i, value in enumerate(column):
            try:
                values.append(coerce(fact, value))
            except (ValueError, TypeError):
                values.append(None)
                bad.append(i)
        return values, bad


def _deriver(function, as_of: dt.date):
    fast = _FAST.get(function)
    return fast(as_of) if fast else (lambda start: function(start, as_of))


class _Memo(dict):
    """Raw date value -> typed (or derived) value, computed on first sight of each distinct value.

    Keys compare exactly: text only equals text, a date only a date, and ``None`` only itself,
    so equal raw values always get the row path's one result. Rejected values go to ``bad``.
    """

    __slots__ = ("fact", "derive", "bad", "latest")

    def __init__(self, fact: Fact, derive, bad: set, latest: dt.date | None = None):
        super().__init__()
        self.fact, self.derive, self.bad, self.latest = fact, derive, bad, latest

    def __missing__(self, raw):
        try:  # the dictionary's own reading of a date: one definition of what is accepted
            value = FactDictionary._coerce(self.fact, raw)
        except ValueError:
            value = _BAD
        if self.latest is not None and value is not _BAD and value is not None and value > self.latest:
            value = _BAD  # a birth after as_of: the row path names it
        if value is _BAD:
            self.bad.add(raw)
            value = None
        elif value is not None and self.derive is not None:
            value = self.derive(value)
        self[raw] = value
        return value


class _Absent:
    __slots__ = ()

    def __repr__(self):
        return "<absent>"


_ABSENT = _Absent()
_BAD = object()


class ColumnDecider:
    """An edition's batch path over chunks: columnar preparation, then the compiled decision.

    ``decide_rows`` / ``decide_columns`` return ``(results, chunk)``: one
    ``(eligible, band id or None, points or None)`` per subject, None for a rejected row
    (its problems are in ``chunk.problems``).
    """

    def __init__(self, policy: Policy):
        from .batch import compile_column_decider, compile_decider
        self.policy = policy
        self.preparer = ColumnPreparer(policy)
        self.decide = compile_decider(policy, positional=True)
        self.decide_all = compile_column_decider(policy)  # one comprehension per chunk, when possible
        if self.decide.reads != self.preparer.reads:  # both list what the rules read; a mismatch is a bug
            raise AssertionError(f"decider reads {self.decide.reads}, preparer {self.preparer.reads}")

    def decide_rows(self, rows: list, as_of: dt.date, path: tuple = ("persons",)):
        chunk = self.preparer.from_rows(rows, as_of, path)
        return self.run(chunk), chunk

    def decide_columns(self, columns: dict, as_of: dt.date, path: tuple = ("persons",)):
        chunk = self.preparer.from_columns(columns, as_of, path)
        return self.run(chunk), chunk

    def run(self, chunk: Chunk) -> list:
        columns = [chunk.columns[name] for name in self.decide.reads]
        if not columns:  # no rule reads a fact: one answer for everybody
            return [None if i in chunk.problems else self.decide() for i in range(chunk.size)]
        if not chunk.problems:
            if self.decide_all is not None:
                return self.decide_all(*columns)
            return list(map(self.decide, *columns))
        keep = [i not in chunk.problems for i in range(chunk.size)]
        decided = iter(map(self.decide, *(compress(c, keep) for c in columns)))
        return [next(decided) if k else None for k in keep]
