"""Every figure checked against its unit, so that an officer's natural writing never becomes wrong money.

An Italian writes one thousand eight hundred as ``1.800`` and YAML reads 1.8; ``"1800,00"``,
``"€ 1800"`` and ``"8.000.000"`` are text, not numbers. Each figure's unit is its declared
``unit:`` or follows from where it stands (a band's ``amount`` is euro, ``duration_months``
months, ``max_doti`` a count; a parameter takes the unit of the facts it is compared with),
and the value must be written the way that unit is written in a policy:

- euro: a number with two decimals or none (``1800`` or ``1800.00``); ``1.800`` is refused
  as ambiguous, never guessed;
- years, months, days, count: a whole number;
- share: a number from 0 to 1 (``0.125``, not ``12,5%``);
- any figure: a number (or a date for a date parameter), never text.

``check(value, unit)`` returns the problem as (message, hint) or None; the hint names the
value most likely meant ("did you mean 1800.00?"), read with Babel's it-IT number parser.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..i18n import N_, _, money

UNITS = ("euro", "years", "months", "days", "count", "share", "date")
_WHOLE = ("years", "months", "days", "count")
_EURO_KEYS = {"amount", "rate", "group_rate", "min", "max", "fixed", "max_amount"}
_MONTH_KEYS = {"duration_months", "months", "extension_months"}
_COUNT_KEYS = {"max_doti", "points"}
_SHARE_KEYS = {"share", "part_time_min"}
_FACT_UNITS = {"years": "years", "months": "months", "days": "days", "count": "count", "percent": "share",
               "euro": "euro"}


def unit_of(path: tuple, raw, parameter_units: dict | None = None) -> str | None:
    """The unit of the figure at ``path``: declared, else by its place in the document, else unknown."""
    if isinstance(raw, dict) and isinstance(raw.get("unit"), str):
        return raw["unit"]
    if len(path) == 2 and path[0] == "parameters":
        return (parameter_units or {}).get(path[1])
    strings = [p for p in path if isinstance(p, str)]
    last = strings[-1] if strings else None
    if "by_band" in path:
        return "euro"
    if last in _EURO_KEYS:
        return "euro"
    if last in _MONTH_KEYS:
        return "months"
    if last in _COUNT_KEYS:
        return "count"
    if last in _SHARE_KEYS:
        return "share"
    return None


def parameter_units(data: dict, dictionary) -> dict[str, str]:
    """Each parameter's unit, from the facts it is compared with in the policy's conditions."""
    from ..expr import nodes as n
    from ..expr.parser import ExprSyntaxError, parse
    params = set((data.get("parameters") or {}) if isinstance(data.get("parameters"), dict) else ())
    facts = getattr(dictionary, "facts", {})
    out: dict[str, str] = {}
    for text in _conditions(data):
        try:
            tree = parse(text)
        except (ExprSyntaxError, RecursionError):
            continue
        for node in n.walk(tree):
            if isinstance(node, n.Compare) and isinstance(node.left, n.Name) and isinstance(node.right, n.Name):
                for a, b in ((node.left.name, node.right.name), (node.right.name, node.left.name)):
                    fact = facts.get(b)
                    unit = _FACT_UNITS.get(getattr(fact, "unit", None) or "")
                    if a in params and unit:
                        out.setdefault(a, unit)
    return out


def _conditions(data: dict):
    for section in ("eligibility", "points", "bands"):
        for item in data.get(section) or []:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("when"), str):
                yield item["when"]
            for alt in item.get("any_of") or []:
                if isinstance(alt, dict) and isinstance(alt.get("when"), str):
                    yield alt["when"]


def read_italian(text: str) -> Decimal | None:
    """The number an Italian most likely meant by ``text`` ('1.800' -> 1800, '2.600,00 €' -> 2600.00)."""
    from babel.numbers import NumberFormatError, parse_decimal
    cleaned = re.sub(r"(?i)(€|eur(o)?|%|\s)", "", str(text)).strip("'\"")
    if not cleaned:
        return None
    try:
        number = parse_decimal(cleaned, locale="it_IT", strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            return None
    if not number.is_finite():
        return None
    if "%" in str(text):
        number = number / 100
    return number


def _meant(value, unit: str) -> str:
    if unit == "euro":
        return f"{value.quantize(Decimal('0.01'))}"
    if unit in _WHOLE:
        return f"{value.quantize(Decimal(1))}" if value == value.to_integral_value() else f"{value}"
    return f"{value.normalize():f}"


def check(value, unit: str | None) -> tuple[str, str] | None:
    """The problem with ``value`` as a figure in ``unit`` (message, hint), or None when it is right."""
    if value is None or isinstance(value, dt.date) and unit in (None, "date"):
        return None
    if isinstance(value, bool):
        return _("{value} is not a number", value=str(value).lower()), ""
    if isinstance(value, str):
        meant = read_italian(value)
        if meant is None and unit not in ("euro", "share", *_WHOLE):
            return None  # a text figure of no numeric unit (a rounding rule's name, a date): the compiler judges it
        if meant is None:
            return _("'{value}' is not a number", value=value), \
                _("write the figure as a plain number, e.g. 1800.00") if unit == "euro" else \
                _("write the figure as a plain number")
        return (_("'{value}' is written as text, not as a number", value=value),
                _("did you mean {meant}? (no quotes, no € or %, no thousands separator, a dot before the "
                  "decimals)", meant=_meant(meant, unit or "")))
    if not isinstance(value, (int, Decimal)):
        return _("not a number"), ""
    exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
    if unit == "euro" and exponent not in (0, -2):
        if exponent == -3 and value == value.quantize(Decimal("0.001")):
            meant = value.scaleb(3)
            return (_("'{value}' is ambiguous for a euro amount: read as {read}, but an Italian '{value}' "
                      "means {meant_money}", value=str(value), read=money(value.quantize(Decimal("0.01"))),
                      meant_money=money(meant)),
                    _("did you mean {meant}? (a euro amount has two decimals or none)",
                      meant=_meant(meant, "euro")))
        return (_("'{value}' is not a euro amount: write two decimals or none", value=str(value)),
                _("did you mean {meant}?", meant=_meant(value, "euro")))
    if unit in _WHOLE and (exponent < 0 and value != value.to_integral_value()):
        meant = value.scaleb(-exponent) if exponent == -3 else value.to_integral_value()
        return (_("'{value}' is not a whole number of {unit}", value=str(value), unit=_(_UNIT_WORDS[unit])),
                _("did you mean {meant}?", meant=_meant(meant, unit)))
    if unit == "share" and not Decimal(0) <= value <= Decimal(1):
        meant = value / 100 if Decimal(1) < value <= Decimal(100) else None
        return (_("'{value}' is not a share between 0 and 1", value=str(value)),
                _("did you mean {meant}?", meant=_meant(meant, "share")) if meant is not None else "")
    return None


_UNIT_WORDS = {"years": N_("years"), "months": N_("months"), "days": N_("days"), "count": N_("items")}
