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
# Dates an input may hold: wide enough for any birth, contract or programme date, narrow enough that
# date arithmetic on them (validity windows, ages, months added) can never leave Python's calendar.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)
# Numbers an input may hold: beyond this no fact, quantity or amount means anything, and products of
# such numbers would exceed the precision Decimal arithmetic works to (then quantize fails).
LARGEST = Decimal(10) ** 15


class BadValue(ValueError):
    """A value refused: ``str()`` shows a short prefix of it, ``expected`` says what was wanted without it
    (for values that are personal data, never to be echoed)."""

    def __init__(self, expected: str, value=None, *, echo: bool = True, message: str | None = None):
        self.expected = expected
        super().__init__(message or (f"{expected}, got {shown(value)}" if echo else expected))


def shown(value) -> str:
    """``repr(value)``, cut to a short prefix (any text, even a lone surrogate, stays printable)."""
    text = repr(value)[:SHOWN_CHARS + 1].encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def read_date(value) -> dt.date:
    """A date, or text written exactly YYYY-MM-DD, between FIRST_DATE and LAST_DATE."""
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise BadValue("expected a date YYYY-MM-DD", value) from None
    else:
        raise BadValue("expected a date YYYY-MM-DD", value)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadValue(f"expected a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}", value)
    return day


def read_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raise BadValue("expected true or false", value)


def read_whole(value) -> int:
    """An integer (not a boolean) smaller in size than LARGEST."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -LARGEST < value < LARGEST:
            return value
        raise BadValue(f"expected a whole number smaller than {LARGEST:.0E}", echo=False)
    raise BadValue("expected a whole number", value)


def read_decimal(value, places: int) -> Decimal:
    """An exact, finite number with at most ``places`` decimals (numbers, or their text), smaller than LARGEST."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise BadValue("expected a number", value)
    if isinstance(value, str) and len(value) > 64:
        raise BadValue("expected a number", value)
    try:
        # A float arrives only from callers that parsed JSON lossily; its shortest text is what was sent.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BadValue("expected a number", value) from None
    if not number.is_finite():
        raise BadValue("expected a finite number", echo=False)
    if not -LARGEST < number < LARGEST:
        raise BadValue(f"expected a number smaller than {LARGEST:.0E}", echo=False)
    if number.as_tuple().exponent < -places:
        raise BadValue(f"at most {places} decimal places are accepted", value)
    return number


def read_choice(value, options) -> str:
    """One of ``options`` (text), with the closest option suggested when it is not."""
    if isinstance(value, str) and value in options:
        return value
    hint = suggest(str(value)[:SHOWN_CHARS], options)
    choices = f"one of {list(options)}" + (f"; {hint}" if hint else "")
    raise BadValue(f"expected {choices}", message=f"{shown(value)} is not {choices}")


def in_range(number, minimum=None, maximum=None):
    """``number`` when within the bounds (either may be None), else a ValueError naming the bound."""
    if minimum is not None and number < minimum:
        raise BadValue(f"must be at least {minimum}", number)
    if maximum is not None and number > maximum:
        raise BadValue(f"must be at most {maximum}", number)
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
