"""Reading one input value (from JSON or a CSV cell) into its typed form, or a ValueError saying why.

The one place where input values are checked: the fact dictionary (requests), population
files (simulation) and plan/claim readers (costs) all call these, so a date, a number or a
choice is accepted or refused the same way everywhere. Messages never echo more than a short
prefix of what was sent (inputs may be personal data, or huge).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from .suggest import suggest

SHOWN_CHARS = 40
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def shown(value) -> str:
    """``repr(value)``, cut to a short prefix."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def read_date(value) -> dt.date:
    """A date, or text written exactly YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {shown(value)}")


def read_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {shown(value)}")


def read_whole(value) -> int:
    """An integer (not a boolean)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected a whole number, got {shown(value)}")


def read_decimal(value, places: int) -> Decimal:
    """An exact, finite number with at most ``places`` decimals (numbers, or their text)."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise ValueError(f"expected a number, got {shown(value)}")
    try:
        # A float arrives only from callers that parsed JSON lossily; its shortest text is what was sent.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"expected a number, got {shown(value)}") from None
    if not number.is_finite():
        raise ValueError("expected a finite number")
    if number.as_tuple().exponent < -places:
        raise ValueError(f"at most {places} decimal places are accepted, got {shown(value)}")
    return number


def read_choice(value, options) -> str:
    """One of ``options`` (text), with the closest option suggested when it is not."""
    if isinstance(value, str) and value in options:
        return value
    hint = suggest(str(value)[:SHOWN_CHARS], options)
    raise ValueError(f"{shown(value)} is not one of {list(options)}" + (f"; {hint}" if hint else ""))


def in_range(number, minimum=None, maximum=None):
    """``number`` when within the bounds (either may be None), else a ValueError naming the bound."""
    if minimum is not None and number < minimum:
        raise ValueError(f"must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"must be at most {maximum}, got {number}")
    return number


def plain(value):
    """Data as JSON-ready values: dates as ISO text, Decimals as their text, tuples as lists (deep)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
