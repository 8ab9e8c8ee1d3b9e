"""Formats for the console's pages in the request's language, from engine.i18n (the one place for formats):
it-IT 1.800,00 €, 15/04/2019, 12,5%; English €1,800.00, 15 Apr 2019; and the words for statuses."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from engine import i18n

from .texts import t

STATUS = ("draft", "active", "closed")
FIGURE_STATUS = ("confirmed", "uncertain", "placeholder")
# Italian readers know dd/mm/yyyy; an English reader is not left guessing which number is the month
DATE_PATTERN = {"it": "dd/MM/yyyy", "en": "d MMM y"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def euro(value) -> str:
    number = _decimal(value)
    return "—" if number is None else i18n.money(number)


def number(value) -> str:
    n = _decimal(value)
    return "—" if n is None else i18n.number(n)


def percent(value) -> str:
    n = _decimal(value)
    return "—" if n is None else i18n.percent(n)


def _day(day: dt.date) -> str:
    from babel.dates import format_date
    lang = i18n.language()
    return format_date(day, DATE_PATTERN.get(lang, DATE_PATTERN["it"]), locale=i18n._locale(lang))


def date(value) -> str:
    """A date (15/04/2019; 15 Apr 2019), or a moment with its time (… HH:MM, UTC as stored)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            value = dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return f"{_day(value.date())} {value:%H:%M}"
    return _day(value)


def status(value: str) -> str:
    return t(f"console.status.{value}") if value in STATUS else value


def figure_status(value: str) -> str:
    return t(f"console.figure_status.{value}") if value in FIGURE_STATUS else value


FILTERS = {"euro": euro, "numero": number, "percento": percent, "data": date, "stato": status,
           "stato_cifra": figure_status}
