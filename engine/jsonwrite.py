"""The reference JSON writer: exact Decimals, dates as ISO text, canonical or plain layout.

Canonical text (sorted keys, no spaces) is what stored decisions are hashed over, so the same
value must always give the same bytes. The service's fast writers (the C encoder, orjson) and
the per-edition trace templates are each checked byte for byte against this one.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Callable

string = json.encoder.encode_basestring  # the C encoder's text writer (as json.dumps with ensure_ascii=False)


def dumps(value, *, canonical: bool = True, special: Callable[[object], str | None] | None = None) -> str:
    """JSON text of plain data; ``special`` gives the raw text of any other object it knows (else ``None``)."""
    out: list[str] = []
    write(value, out, canonical, special)
    return "".join(out)


def write(value, out: list, canonical: bool = True, special=None) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as JSON")
        out.append(str(value))
    elif isinstance(value, float):
        # nothing in a money path is float; anything else (e.g. a timing) keeps its shortest repr
        out.append(json.dumps(value))
    elif isinstance(value, (dt.date, dt.datetime)):
        out.append(string(value.isoformat()))
    elif isinstance(value, dict):
        items = sorted(value.items()) if canonical else value.items()
        sep, colon = (",", ":") if canonical else (", ", ": ")
        out.append("{")
        for i, (key, item) in enumerate(items):
            if i:
                out.append(sep)
            out.append(string(str(key)))
            out.append(colon)
            write(item, out, canonical, special)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append("," if canonical else ", ")
            write(item, out, canonical, special)
        out.append("]")
    else:
        text = special(value) if special is not None else None
        if text is None:
            raise TypeError(f"{type(value).__name__} is not JSON data")
        out.append(text)
