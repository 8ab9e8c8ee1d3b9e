"""A decision's trace as a compact record, rendered when it is read.

The trace lists every rule of the edition with whether it fired and the facts it read. All of it
but the fired flags and the fact values is the same for every decision of an edition, and the
fired flags are the same for every decision with the same fired rules (a few hundred combinations
per edition at most). So a decision keeps only its record - the edition's trace plan, its fact
values as a tuple in the plan's order, and the shared ``Marks`` of its fired rules - and the trace
is rendered from it: as the list of entries (``entries``), or straight as canonical JSON text
(``canonical``: sorted keys, no spaces, the form stored decisions are hashed over) from
per-edition pieces. Both renderings are checked against the entries of the explanation built rule
by rule before (``tests/decide/test_trace.py``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from operator import itemgetter

from .. import jsonwrite

_string = jsonwrite.string
_MARKS_LIMIT = 4096  # combinations of fired rules remembered per edition (a few hundred in practice)
PLAN_FORMAT = 1  # the stored plan text's layout (``TracePlan.text``)


class TracePlan:
    """Per edition, in trace order: per rule its key, the static part of its entry, the facts it
    reads (name and place in ``names``) and its points (``None`` for rules that give none), with
    the canonical text around the per-decision parts (fact values and fired flags)."""

    def __init__(self, stage1: list[tuple], bands: list[tuple], names: tuple[str, ...]):
        self.names = tuple(names)
        place = {name: i for i, name in enumerate(self.names)}
        self.stage1 = tuple((key, static, tuple((name, place[name]) for name in reads), points)
                            for key, static, reads, points in stage1)
        self.bands = tuple((key, static, tuple((name, place[name]) for name in reads), None)
                           for key, static, reads, _ in bands)
        rules = self.stage1 + self.bands
        pieces = [_pieces(static, tuple(name for name, _ in reads), points) for _, static, reads, points in rules]
        self.flags = tuple((on, off) for _, _, _, (on, off), _ in pieces)
        # The canonical text is one list of static texts per shape (bands reached or not) with a
        # place (None) after each but the last, filled from [fact texts..., flag texts...] by one getter.
        facts = len(self.names)
        self.templates = {}
        for with_bands in (False, True):
            parts, slots, text = [], [], "["
            for r in range(len(rules) if with_bands else len(self.stage1)):
                head, keys, before, _, after = pieces[r]
                text += ("," if r else "") + head
                for k, (key_text, (_, i)) in enumerate(zip(keys, rules[r][2])):
                    parts += [text + ("," if k else "") + key_text, None]
                    slots.append(i)
                    text = ""
                parts += [text + before, None]
                slots.append(facts + r)
                text = after
            parts.append(text + "]")
            self.templates[with_bands] = (parts, _getter(slots))
        self._marks: dict[tuple, Marks] = {}
        self._text: str | None = None
        self._hash: str | None = None

    def text(self) -> str:
        """The plan's static part as canonical JSON text: per rule its static entry, the facts it reads and its
        points (stage 1), then the bands; with the fact names. ``from_text`` builds a plan rendering the same
        traces from it, with each rule keyed by its place in the trace."""
        if self._text is None:
            self._text = canonical({
                "format": PLAN_FORMAT, "names": list(self.names),
                "stage1": [[static, [name for name, _ in reads], points] for _, static, reads, points in self.stage1],
                "bands": [[static, [name for name, _ in reads]] for _, static, reads, _ in self.bands]})
        return self._text

    @property
    def hash(self) -> str:
        """``sha256:`` and the hex sha256 of ``text()``: the plan's name in a stored trace record."""
        if self._hash is None:
            self._hash = text_hash(self.text())
        return self._hash

    @classmethod
    def from_text(cls, text: str) -> "TracePlan":
        """The plan a ``text()`` describes; its rules are keyed by their place in the trace (0, 1, ...), as a
        trace record names the rules that fired. Raises ValueError for a text of another form."""
        data = json.loads(text, parse_float=Decimal)
        if type(data) is not dict or data.get("format") != PLAN_FORMAT:
            raise ValueError("not a trace plan text of a known format")
        try:
            names = tuple(data["names"])
            stage1 = [(i, static, tuple(reads), points) for i, (static, reads, points) in enumerate(data["stage1"])]
            bands = [(len(stage1) + j, static, tuple(reads), None) for j, (static, reads) in enumerate(data["bands"])]
            if not all(type(static) is dict for _, static, _, _ in stage1 + bands):
                raise TypeError("a rule's static entry is not an object")
            return cls(stage1, bands, names)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed trace plan text: {exc}") from None

    def render(self, fired: list, values: list, with_bands: bool) -> str:
        """The canonical text of a trace stored as a record (``Trace.record``) of a plan built by ``from_text``:
        the places of the rules that fired, the fact values as JSON-ready data. ValueError if they do not fit."""
        if type(with_bands) is not bool or len(values) != len(self.names) \
                or not all(type(i) is int and 0 <= i < len(self.stage1) + len(self.bands) for i in fired):
            raise ValueError("the trace record does not fit its plan")
        marks = self.marks(frozenset(fired), frozenset(fired), with_bands)
        texts = [value_text(value) for value in values]
        texts += marks.texts
        parts, fill = self.templates[with_bands]
        parts = parts.copy()
        parts[1::2] = fill(texts)
        return "".join(parts)

    def marks(self, fired: frozenset, banded: frozenset, with_bands: bool) -> "Marks":
        """The (shared) marks of a set of fired rules."""
        key = (fired, banded, with_bands)
        found = self._marks.get(key)
        if found is None:
            found = Marks(self, fired, banded, with_bands)
            if len(self._marks) < _MARKS_LIMIT:
                self._marks[key] = found
        return found


class Marks:
    """Which rules fired, and their flags' texts in trace order; shared by the decisions alike."""

    __slots__ = ("fired", "banded", "with_bands", "texts", "record_head")

    def __init__(self, plan: TracePlan, fired: frozenset, banded: frozenset, with_bands: bool):
        self.fired, self.banded, self.with_bands = fired, banded, with_bands
        keys = [(key, fired) for key, _, _, _ in plan.stage1]
        if with_bands:
            keys += [(key, banded) for key, _, _, _ in plan.bands]
        self.texts = tuple(on if key in hit else off for (key, hit), (on, off) in zip(keys, plan.flags))
        places = ",".join(str(i) for i, (key, hit) in enumerate(keys) if key in hit)
        # a trace record's text up to its values (keys in canonical order: fired, plan, values, with_bands)
        self.record_head = '{"fired":[' + places + '],"plan":' + _string(plan.hash) + ',"values":['


class Trace:
    """The trace of one decision: its fact values as read (in ``plan.names`` order; ``points`` is
    ``None`` unless the bands are in the trace), made JSON-ready (``plain``) when rendered, and its
    marks. ``entries()`` gives fresh dicts on every call."""

    __slots__ = ("plan", "values", "marks")

    def __init__(self, plan: TracePlan, values: tuple, marks: Marks):
        self.plan, self.values, self.marks = plan, values, marks

    @property
    def facts(self) -> dict:
        """The facts the trace shows, by name (a fresh dict)."""
        with_bands = self.marks.with_bands
        return {name: value for name, value in zip(self.plan.names, self._plain_values())
                if with_bands or name != "points"}

    @property
    def fired(self) -> frozenset:
        return self.marks.fired

    @property
    def banded(self) -> frozenset:
        return self.marks.banded

    @property
    def with_bands(self) -> bool:
        return self.marks.with_bands

    def _plain_values(self) -> tuple:
        return tuple(value if type(value) in _AS_IS else plain(value) for value in self.values)

    def entries(self) -> list[dict]:
        values, marks = self._plain_values(), self.marks
        fired = marks.fired
        out = []
        for key, static, reads, points in self.plan.stage1:
            entry = {**static, "fired": key in fired, "facts": {name: values[i] for name, i in reads}}
            if points is not None:
                entry["points"] = points
            out.append(entry)
        if marks.with_bands:
            banded = marks.banded
            for key, static, reads, _ in self.plan.bands:
                out.append({**static, "fired": key in banded, "facts": {name: values[i] for name, i in reads}})
        return out

    def _value_texts(self) -> list:
        return [_string(value) if (kind := type(value)) is str else int.__repr__(value) if kind is int
                else _literal(value) for value in self.values]

    def record(self) -> str:
        """The trace as stored: the canonical JSON text of ``{"fired": [places in the trace of the rules that
        fired], "plan": plan hash, "values": [fact values as JSON-ready data, in plan order], "with_bands"}``.
        ``TracePlan.render`` on the plan built from ``plan.text()`` gives back ``canonical()``, byte for byte."""
        marks = self.marks
        return (marks.record_head + ",".join(self._value_texts()) + '],"with_bands":'
                + ("true" if marks.with_bands else "false") + "}")

    def canonical(self) -> str:
        """``entries()`` as canonical JSON text (what ``api.jsontext.canonical`` writes for them)."""
        marks = self.marks
        texts = self._value_texts()
        texts += marks.texts
        parts, fill = self.plan.templates[marks.with_bands]
        parts = parts.copy()
        parts[1::2] = fill(texts)
        return "".join(parts)


def text_hash(text: str) -> str:
    """A plan text's name: ``sha256:`` and the hex sha256 of its UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def value_text(value) -> str:
    """Canonical JSON text of a JSON-ready fact value as read back from a stored record."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return canonical(value)


def _getter(places: list[int]):
    """A function giving the items at ``places`` of a list as a tuple (whatever their number)."""
    if len(places) >= 2:
        return itemgetter(*places)
    return lambda items: tuple(items[i] for i in places)


def _pieces(static: dict, reads: tuple, points) -> tuple:
    """(text up to the facts' first key, the facts' key texts, the text after the facts up to the
    fired flag, the flag's text when fired and when not, the rest of the entry)."""
    def rest(fired: bool) -> str:
        entry = {**static, "fired": fired, "facts": _FACTS}
        if points is not None:
            entry["points"] = points
        text = canonical(entry)
        return "}" + text[text.index(_FACTS_TEXT) + len(_FACTS_TEXT):]

    sample = canonical({**static, "fired": True, "facts": _FACTS, **({} if points is None else {"points": points})})
    head = sample[:sample.index(_FACTS_TEXT)] + "{"
    keys = tuple(_string(name) + ":" for name in reads)
    on, off = rest(True), rest(False)
    same = 0  # the texts when fired and when not differ only in the flag
    while on[same] == off[same]:
        same += 1
    tail = 0
    while tail < min(len(on), len(off)) - same and on[-1 - tail] == off[-1 - tail]:
        tail += 1
    return head, keys, on[:same], (on[same:len(on) - tail], off[same:len(off) - tail]), on[len(on) - tail:]


class _Placeholder:
    pass


_FACTS = _Placeholder()
_FACTS_TEXT = '"\x00facts\x00"'


_AS_IS = frozenset({str, int, bool, type(None)})  # JSON-ready as they are (``plain`` returns them)


def plain(value):
    """A fact value made JSON-ready: dates as ISO text, tuples as lists, any other kind as its text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _literal(value) -> str:
    """A fact value as read, made JSON-ready (``plain``), as canonical JSON text."""
    return value_text(value if type(value) in _AS_IS else plain(value))


def canonical(value) -> str:
    """Canonical JSON text of plain data (and the facts slot of a template), as ``engine.jsonwrite``."""
    return jsonwrite.dumps(value, special=_slot)


def _slot(value) -> str | None:
    return _FACTS_TEXT if value is _FACTS else None
