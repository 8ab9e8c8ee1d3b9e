"""Populations of job seekers as CSV: a synthetic generator and a checking reader.

Columns are the person facts of the fact dictionary that callers send (derived facts
such as ``age`` are computed at the simulation date), plus an optional ``person_id``.
Cells: dates ``YYYY-MM-DD``, booleans ``true``/``false``, an empty cell is null, lists
are ``;``-separated. A real anonymised extract with the same columns reads the same way.
Synthetic populations are written by ``synthetic.py``.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from ..values import BadValue, in_range, read_choice, read_date, read_decimal
from ..errors import AlmpError
from ..i18n import _
from ..policy.facts import DATE_DERIVATIONS, DECIMAL_PLACES, DERIVATIONS, FactDictionary

ID_COLUMN = "person_id"
LIST_SEPARATOR = ";"
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
SEEN_LIMIT = 100_000  # distinct texts remembered per column (bounds a reader's memory)
_UNSEEN = object()

class PopulationError(AlmpError):
    """A population file that cannot be read (bad header or a bad row); names file and line.

    The words are the officer's language (``engine.i18n``); a cell's value is never shown (a population
    is people: a birth date or a region of residence is personal data), only what was expected.
    """

    def __init__(self, message: str, where=None):
        # one argument when unpickled from a worker process: the text as it was built there
        super().__init__(message if where is None else f"{where}: {message}")


# -- reading ------------------------------------------------------------------------------------
class RowReader:
    """Turns CSV rows into typed evaluation environments (facts plus derived facts at ``as_of``).

    Only the columns a policy needs are converted (the rest are checked for presence only),
    because conversion is the hot loop of a million-person simulation.
    """

    def __init__(self, dictionary: FactDictionary, header: list[str], needed: set[str], as_of: dt.date,
                 file: str = "<population>"):
        self.file = file
        inputs = {n: f for n, f in dictionary.facts.items() if f.of("person") and not f.computed}
        unknown = [c for c in header if c not in inputs and c != ID_COLUMN]
        if unknown:
            from ..suggest import closest
            near = [closest(c, list(inputs)) for c in unknown]
            hints = "".join("; " + _("did you mean '{name}'?", name=n) for n in near if n)
            raise PopulationError(_("unknown column(s) {columns}{hints} (columns are person facts of the "
                                    "dictionary: {facts})", columns=unknown, hints=hints, facts=", ".join(inputs)),
                                  f"{file}:1")
        if len(set(header)) != len(header):
            dupes = sorted({c for c in header if header.count(c) > 1})
            raise PopulationError(_("duplicate column(s) {columns}", columns=dupes), f"{file}:1")
        wanted = dictionary.closure(needed)
        missing = sorted(wanted - set(header))
        if missing:
            raise PopulationError(_("missing column(s) {columns} needed by the policy", columns=missing), f"{file}:1")
        self.converters = [(i, name, _converter(inputs[name])) for i, name in enumerate(header) if name in wanted]
        self.derived = [(f.name, f.derived_from, DERIVATIONS[f.derivation])
                        for f in dictionary.facts.values()
                        if f.derived_from and f.of("person") and f.derived_from in wanted]
        self.dated = [(f.name, DATE_DERIVATIONS[f.derivation]) for f in dictionary.facts.values()
                      if f.computed and not f.derived_from and f.of("person")]
        self.width = len(header)
        self.as_of = as_of
        # a cell's value is a pure function of its text, a derived fact of its source value (at the
        # one as_of): each distinct text is converted, and each distinct source derived, once per reader
        # (a million people carry a few thousand distinct dates); a bad cell is never remembered, so
        # it raises with its own line every time
        self.seen = {name: {} for _, name, _ in self.converters}
        self.derived_seen = {name: {} for name, _, _ in self.derived}
        self.constant = {name: derive(as_of) for name, derive in self.dated}

    def env(self, row: list[str], line: int) -> dict:
        if len(row) != self.width:
            raise PopulationError(_("expected {width} cells, found {found}", width=self.width, found=len(row)),
                                  f"{self.file}:{line}")
        env = {}
        seen = self.seen
        for index, name, convert in self.converters:
            text = row[index]
            known = seen[name]
            value = known.get(text, _UNSEEN)
            if value is _UNSEEN:
                try:
                    value = convert(text)
                except ValueError as exc:  # what was expected, never the cell's text
                    raise PopulationError(_("column '{name}': {expected}", name=name,
                                            expected=getattr(exc, "expected", exc)), f"{self.file}:{line}") from None
                if len(known) < SEEN_LIMIT:
                    known[text] = value
            env[name] = value
        as_of = self.as_of
        for name, source, derive in self.derived:
            value = env[source]
            if value is None:
                env[name] = None
                continue
            known = self.derived_seen[name]
            derived = known.get(value, _UNSEEN)
            if derived is _UNSEEN:
                derived = derive(value, as_of)
                if len(known) < SEEN_LIMIT:
                    known[value] = derived
            env[name] = derived
        env.update(self.constant)
        return env


    def columns(self, records: list) -> dict | None:
        """The converted and derived columns of a chunk of ``(line, cells)`` records, computed a column at
        a time (each distinct text once); None when some record is bad, so the caller reads row by row
        and reports the first bad cell exactly as ``env`` does."""
        if not records:
            return {}
        width = self.width
        if any(len(cells) != width for _, cells in records):
            return None
        return self.converted(list(zip(*[c for _, c in records])))

    def converted(self, cells: list) -> dict | None:
        """``columns`` from the chunk's cells given a column at a time (``cells[i]``: column i's texts)."""
        out: dict[str, list] = {}
        try:
            for index, name, convert in self.converters:
                out[name] = _mapped(cells[index], self.seen[name], convert)
        except ValueError:
            return None
        as_of = self.as_of
        for name, source, derive in self.derived:
            out[name] = _mapped(out[source], self.derived_seen[name], lambda v, d=derive: None if v is None else d(v, as_of))
        return out


def _mapped(column, known: dict, convert) -> list:
    """``[convert(v) for v in column]``, each distinct value converted once and remembered in ``known``
    (up to SEEN_LIMIT values; beyond that, for this column only)."""
    new = set(column).difference(known)
    if not new:
        return list(map(known.__getitem__, column))
    if len(known) + len(new) <= SEEN_LIMIT:
        table = known
    else:
        table = {v: known[v] for v in set(column) if v in known}
    for value in new:
        table[value] = convert(value)
    return list(map(table.__getitem__, column))


def _converter(fact):
    kind, nullable, name = fact.type.kind, fact.nullable, fact.name

    def null():
        if nullable:
            return None
        raise BadValue(_("'{name}' may not be null", name=name), echo=False)

    if kind == "date":
        def convert(text):
            return read_date(text) if text else null()
    elif kind in ("boolean", "bool"):
        def convert(text):
            if not text:
                return null()
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise BadValue(_("expected true or false"), text)
    elif kind == "int":
        def convert(text):
            if not text:
                return null()
            try:
                number = int(text)
            except ValueError:
                raise BadValue(_("expected a whole number"), text) from None
            return in_range(number, fact.minimum, fact.maximum)
    elif kind == "decimal":
        def convert(text):
            return in_range(read_decimal(text, DECIMAL_PLACES), fact.minimum, fact.maximum) if text else null()
    elif kind == "enum":
        values = fact.type.values

        def convert(text):
            return read_choice(text, values) if text else null()
    elif kind == "list":
        allowed = fact.type.item.values

        def convert(text):
            items = [t for t in text.split(LIST_SEPARATOR) if t] if text else []
            return tuple(sorted({read_choice(item, allowed) for item in items}))
    else:  # the dictionary is checked on load; a new type needs a converter here
        raise PopulationError(_("fact '{name}' has type {kind}, which population files cannot carry",
                                name=name, kind=kind))
    return convert


def read_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(_skip_comments(fh)), None)
    except OSError as exc:
        raise PopulationError(exc.strerror, path) from None
    except UnicodeDecodeError:
        raise PopulationError(_("not UTF-8 text"), path) from None
    if not header:
        raise PopulationError(_("empty file (expected a header row of fact names)"), f"{path}:1")
    return [h.strip() for h in header]


def _skip_comments(fh):
    for line in fh:
        if not line.startswith("#"):
            yield line


def input_columns(dictionary: FactDictionary) -> list[str]:
    return [n for n, f in dictionary.facts.items() if f.of("person") and not f.computed]


def read_meta(path: Path) -> dict:
    meta = Path(str(path) + ".meta.json")
    if not meta.is_file():
        return {}
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PopulationError(_("not a readable population sidecar ({reason})", reason=exc), meta) from None
