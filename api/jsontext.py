"""JSON text for the service: numbers parsed and written exactly (Decimal), one canonical form.

Money and decimal facts must never pass through float, and a stored decision's hash is
taken over its canonical text, so the same value always gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal


def _no_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def loads(text: str | bytes):
    """Parse JSON keeping every fraction as ``Decimal``; NaN and Infinity are rejected."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def dumps(value, *, canonical: bool = False) -> str:
    """JSON text; ``canonical`` sorts keys and drops spaces (the form hashes are taken over)."""
    out: list[str] = []
    _write(value, out, canonical)
    return "".join(out)


def _write(value, out: list, canonical: bool) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        out.append(str(value))
    elif isinstance(value, float):
        # Nothing in a money path is float; anything else (e.g. a timing) keeps its shortest repr.
        out.append(json.dumps(value))
    elif isinstance(value, (dt.date, dt.datetime)):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, dict):
        items = sorted(value.items()) if canonical else value.items()
        sep = "," if canonical else ", "
        colon = ":" if canonical else ": "
        out.append("{")
        for i, (key, item) in enumerate(items):
            if i:
                out.append(sep)
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(colon)
            _write(item, out, canonical)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append("," if canonical else ", ")
            _write(item, out, canonical)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON data")


def canonical(value) -> str:
    return dumps(value, canonical=True)
