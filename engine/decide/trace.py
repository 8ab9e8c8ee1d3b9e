"""A decision's trace as a compact record, rendered when it is read.

The trace lists every rule of the edition with whether it fired and the facts it read. All of it
but the fired flags and the fact values is the same for every decision of an edition, so a
decision keeps only its record - the edition's trace plan, its facts as JSON-ready values, the
fired rule keys of each stage and whether the bands were reached - and the trace is rendered
from it: as the list of entries (``entries``), or straight as canonical JSON text (``canonical``:
sorted keys, no spaces, the form stored decisions are hashed over) from per-edition pieces.
Both renderings are checked against the entries of the explanation built rule by rule before
(``tests/decide/test_trace.py``).
"""
from __future__ import annotations

from .. import jsonwrite

_string = jsonwrite.string


class TracePlan:
    """Per edition, in trace order: per rule its key, the static part of its entry, the facts it
    reads and its points (``None`` for rules that give none), with the canonical text around the
    per-decision parts (``facts`` and ``fired``)."""

    def __init__(self, stage1: list[tuple], bands: list[tuple]):
        self.stage1 = tuple((key, static, reads, points) for key, static, reads, points in stage1)
        self.bands = tuple((key, static, reads, None) for key, static, reads, _ in bands)
        # The canonical text is one template per shape (bands reached or not), its slots filled
        # with the facts' literal texts (by fact name) and each rule's fired piece (by rule number).
        rules = [(i, key, _pieces(static, reads, points)) for i, (key, static, reads, points)
                 in enumerate(self.stage1 + self.bands)]
        self.fired_pieces = tuple((i, key, on, off) for i, key, (_, _, on, off) in rules[:len(self.stage1)])
        self.band_pieces = tuple((i, key, on, off) for i, key, (_, _, on, off) in rules[len(self.stage1):])
        self.nulls = {name: "null" for _, _, reads, _ in self.stage1 + self.bands for name in reads}
        self.templates = {}
        for with_bands in (False, True):
            # static texts with a place (None) after each but the last, one slot naming what goes there
            parts, slots, text = [], [], "["
            for n, (i, key, (head, keys, _, _)) in enumerate(rules if with_bands else rules[:len(self.stage1)]):
                text += ("," if n else "") + head
                for k, (key_text, name) in enumerate(zip(keys, (self.stage1 + self.bands)[i][2])):
                    parts += [text + ("," if k else "") + key_text, None]
                    slots.append(name)
                    text = ""
                parts += [text, None]
                slots.append(i)
                text = ""
            parts.append(text + "]")
            self.templates[with_bands] = (parts, tuple(slots))


class Trace:
    """The trace of one decision. ``entries()`` gives fresh dicts on every call."""

    __slots__ = ("plan", "facts", "fired", "banded", "with_bands")

    def __init__(self, plan: TracePlan, facts: dict, fired: frozenset, banded: frozenset, with_bands: bool):
        self.plan, self.facts, self.fired, self.banded, self.with_bands = plan, facts, fired, banded, with_bands

    def entries(self) -> list[dict]:
        facts, fired = self.facts, self.fired
        out = []
        for key, static, reads, points in self.plan.stage1:
            entry = {**static, "fired": key in fired, "facts": {name: facts.get(name) for name in reads}}
            if points is not None:
                entry["points"] = points
            out.append(entry)
        if self.with_bands:
            banded = self.banded
            for key, static, reads, _ in self.plan.bands:
                out.append({**static, "fired": key in banded, "facts": {name: facts.get(name) for name in reads}})
        return out

    def canonical(self) -> str:
        """``entries()`` as canonical JSON text (what ``api.jsontext.canonical`` writes for them)."""
        plan = self.plan
        texts = dict(plan.nulls)
        for name, value in self.facts.items():
            kind = type(value)
            texts[name] = _string(value) if kind is str else str(value) if kind is int else _literal(value)
        fired = self.fired
        for i, key, on, off in plan.fired_pieces:
            texts[i] = on if key in fired else off
        if self.with_bands:
            banded = self.banded
            for i, key, on, off in plan.band_pieces:
                texts[i] = on if key in banded else off
        parts, slots = plan.templates[self.with_bands]
        parts = parts.copy()
        parts[1::2] = map(texts.__getitem__, slots)
        return "".join(parts)


def _pieces(static: dict, reads: tuple, points) -> tuple:
    """(text up to the facts' first key, the facts' key texts, the rest when fired, when not)."""
    def rest(fired: bool) -> str:
        entry = {**static, "fired": fired, "facts": _FACTS}
        if points is not None:
            entry["points"] = points
        text = canonical(entry)
        return text[text.index(_FACTS_TEXT) + len(_FACTS_TEXT):]

    sample = canonical({**static, "fired": True, "facts": _FACTS, **({} if points is None else {"points": points})})
    head = sample[:sample.index(_FACTS_TEXT)] + "{"
    keys = tuple(_string(name) + ":" for name in reads)
    return head, keys, "}" + rest(True), "}" + rest(False)


class _Placeholder:
    pass


_FACTS = _Placeholder()
_FACTS_TEXT = '"\x00facts\x00"'


def _literal(value) -> str:
    """A JSON-ready fact value as canonical JSON text."""
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return canonical(value)


def canonical(value) -> str:
    """Canonical JSON text of plain data (and the facts slot of a template), as ``engine.jsonwrite``."""
    return jsonwrite.dumps(value, special=_slot)


def _slot(value) -> str | None:
    return _FACTS_TEXT if value is _FACTS else None
