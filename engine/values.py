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

from .i18n import _
from .suggest import closest

SHOWN_CHARS = 40
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# A number written the Italian way ("0,75", "1.234,5"): refused like any text that is not a number
# (a comma is never read as a decimal point: "1,234" would be ambiguous), but told how to write it.
_DECIMAL_COMMA = re.compile(r"^\s*-?[0-9]{1,3}(\.[0-9]{3})*,[0-9]+\s*$|^\s*-?[0-9]+,[0-9]+\s*$")
# Dates an input may hold: wide enough for any birth, contract or programme date, narrow enough that
# date arithmetic on them (validity windows, ages, months added) can never leave Python's calendar.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)
# Numbers an input may hold: beyond this no fact, quantity or amount means anything, and products of
# such numbers would exceed the precision Decimal arithmetic works to (then quantize fails).
LARGEST = Decimal(10) ** 15
_LARGEST_TEXT = f"{LARGEST:.0E}"


class BadValue(ValueError):
    """A value refused: ``str()`` shows a short prefix of it, ``expected`` says what was wanted without it
    (for values that are personal data, never to be echoed)."""

    def __init__(self, expected: str, value=None, *, echo: bool = True, message: str | None = None):
        self.expected = expected
        super().__init__(message or (_("{expected}, got {value}", expected=expected, value=shown(value))
                                     if echo else expected))


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
            raise BadValue(_("expected a date YYYY-MM-DD"), value) from None
    else:
        raise BadValue(_("expected a date YYYY-MM-DD"), value)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadValue(_("expected a date from {first} to {last}", first=FIRST_DATE.isoformat(),
                         last=LAST_DATE.isoformat()), value)
    return day


def read_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raise BadValue(_("expected true or false"), value)


def read_whole(value) -> int:
    """An integer (not a boolean) smaller in size than LARGEST."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -LARGEST < value < LARGEST:
            return value
        raise BadValue(_("expected a whole number smaller than {largest}", largest=_LARGEST_TEXT), echo=False)
    raise BadValue(_("expected a whole number"), value)


def read_decimal(value, places: int) -> Decimal:
    """An exact, finite number with at most ``places`` decimals (numbers, or their text), smaller than LARGEST."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise BadValue(_("expected a number"), value)
    if isinstance(value, str) and len(value) > 64:
        raise BadValue(_("expected a number"), value)
    try:
        # A float arrives only from callers that parsed JSON lossily; its shortest text is what was sent.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        if isinstance(value, str) and _DECIMAL_COMMA.match(value):
            # the example is fixed, never the value: a fact's value is not echoed
            raise BadValue(_("expected a number with a point as the decimal separator and no thousands "
                             "separator, e.g. 0.75 or 1234.5 (not 0,75 or 1.234,5)"), value) from None
        raise BadValue(_("expected a number"), value) from None
    if not number.is_finite():
        raise BadValue(_("expected a finite number"), echo=False)
    if not -LARGEST < number < LARGEST:
        raise BadValue(_("expected a number smaller than {largest}", largest=_LARGEST_TEXT), echo=False)
    if number.as_tuple().exponent < -places:
        raise BadValue(_("at most {places} decimal places are accepted", places=places), value)
    return number


def read_choice(value, options) -> str:
    """One of ``options`` (text), with the closest option suggested when it is not."""
    if isinstance(value, str) and value in options:
        return value
    near = closest(str(value)[:SHOWN_CHARS], options)
    hint = _("did you mean '{name}'?", name=near) if near else ""
    choices = f"{list(options)}" + (f"; {hint}" if hint else "")
    raise BadValue(_("expected one of {choices}", choices=choices),
                   message=_("{value} is not one of {choices}", value=shown(value), choices=choices))


def in_range(number, minimum=None, maximum=None):
    """``number`` when within the bounds (either may be None), else a ValueError naming the bound."""
    if minimum is not None and number < minimum:
        raise BadValue(_("must be at least {minimum}", minimum=minimum), number)
    if maximum is not None and number > maximum:
        raise BadValue(_("must be at most {maximum}", maximum=maximum), number)
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
