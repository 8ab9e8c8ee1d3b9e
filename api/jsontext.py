"""JSON text for the service: numbers parsed and written exactly (Decimal), one canonical form.

Money and decimal facts must never pass through float, and a stored decision's hash is
taken over its canonical text, so the same value always gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import orjson as _orjson

from engine import jsonwrite
from engine.decide.trace import Trace


def _no_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def loads(text: str | bytes):
    """Parse JSON keeping every fraction as ``Decimal``; NaN and Infinity are rejected."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def dumps(value, *, canonical: bool = False) -> str:
    """JSON text; ``canonical`` sorts keys and drops spaces (the form hashes are taken over).

    The text is produced by the standard library's C encoder (about 70x faster than walking the
    value in Python, which dominated the request path): each Decimal is written as a marker string
    that is then replaced by the number's exact text. Whenever a marker could be confused with the
    caller's own text (a string holding a NUL, or the escaped text of one), the reference writer
    the reference writer (``engine.jsonwrite``) is used instead; both give the same bytes for JSON data (objects with text
    keys), which a property test checks.
    """
    numbers: list[str] = []

    def default(item):
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} cannot be written as JSON")
            numbers.append(str(item))
            return _MARK
        if isinstance(item, (dt.date, dt.datetime)):
            return item.isoformat()
        if isinstance(item, Trace):  # a decision's trace record: its entries
            return item.entries()
        raise TypeError(f"{type(item).__name__} is not JSON data")

    try:
        text = (_CANONICAL if canonical else _PLAIN).encode(value, default)
    except TypeError:
        return _slow_dumps(value, canonical)  # raises the precise error (or writes odd keys as str(key))
    if text.count(_ESCAPED_NUL) != 2 * len(numbers):
        return _slow_dumps(value, canonical)  # a string of the caller's holds a NUL: no marker is trusted
    if numbers:
        pieces = text.split(_MARK_TEXT)
        text = pieces[0] + "".join(number + piece for number, piece in zip(numbers, pieces[1:]))
    return text


_MARK = "\x00#\x00"  # written by the encoder as "\u0000#\u0000", quotes included
_MARK_TEXT = '"\\u0000#\\u0000"'
_ESCAPED_NUL = "\\u0000"


class _Encoder:
    """The C encoder with a per-call ``default`` (keys must be text, as in any JSON object)."""

    def __init__(self, canonical: bool):
        self.options = dict(ensure_ascii=False, sort_keys=canonical,
                            separators=(",", ":") if canonical else (", ", ": "))

    def encode(self, value, default) -> str:
        return json.JSONEncoder(default=default, **self.options).encode(value)


_CANONICAL = _Encoder(True)
_PLAIN = _Encoder(False)


def _slow_dumps(value, canonical: bool) -> str:
    return jsonwrite.dumps(value, canonical=canonical, special=lambda item: _trace_text(item, canonical))


def _trace_text(item, canonical: bool) -> str | None:
    """A decision's trace record written as its entries (the reference writer's only non-JSON value)."""
    return _slow_dumps(item.entries(), canonical) if isinstance(item, Trace) else None


def canonical(value) -> str:
    """The canonical text (sorted keys, no spaces) hashes are taken over.

    Written by orjson (Rust; Decimals inserted as raw number fragments, traces as their own
    canonical text) when every part of ``value`` is of a type whose bytes are the same from both
    writers: dict, list, tuple, text, int, bool, None, Decimal, date, datetime and ``Trace``.
    Anything else - floats (orjson writes NaN as null and tiny ones unlike ``repr``), enums, UUIDs,
    subclasses - and whatever orjson refuses (text with lone surrogates, integers beyond 64 bits,
    keys that are not text, deep nesting) is written by ``dumps``, which raises the precise error
    where there is one. ``tests/api/test_jsontext_fast.py`` checks the bytes against the reference
    writer ``engine.jsonwrite``.
    """
    if type(value) is Trace:  # a stored decision's trace: written from the edition's pieces
        return value.canonical()
    if _plain_data(value):
        try:
            return _orjson.dumps(value, default=_orjson_default, option=_ORJSON_OPTIONS).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError: refused; the other writer says why, or writes it
            pass
    return dumps(value, canonical=True)


_LEAVES = frozenset({str, int, bool, type(None), Decimal, dt.date, dt.datetime, Trace})
_ORJSON_OPTIONS = _orjson.OPT_SORT_KEYS | _orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS \
    | _orjson.OPT_PASSTHROUGH_SUBCLASS


def _plain_data(value) -> bool:
    """Whether ``value`` holds only the types orjson writes as ``dumps`` does (see ``canonical``)."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    leaves = _LEAVES
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind not in leaves:
            return False
    return True


def _orjson_default(item):
    kind = type(item)
    if kind is Decimal:
        if not item.is_finite():
            raise TypeError("not finite")  # dumps raises the ValueError
        return _orjson.Fragment(str(item))
    if kind is dt.date or kind is dt.datetime:
        return item.isoformat()
    if kind is Trace:
        return _orjson.Fragment(item.canonical())
    raise TypeError(kind.__name__)
