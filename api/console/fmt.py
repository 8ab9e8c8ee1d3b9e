"""it-IT formats for the console's pages (Babel): 1.800,00 €, 15/04/2019, 12,5%."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = "it_IT"
STATUS = {"draft": "bozza", "active": "pubblicata", "closed": "chiusa"}
FIGURE_STATUS = {"confirmed": "confermato", "uncertain": "incerto", "placeholder": "segnaposto"}


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
    return "—" if number is None else format_currency(number, "EUR", locale=LOCALE)


def number(value) -> str:
    n = _decimal(value)
    return "—" if n is None else format_decimal(n, locale=LOCALE)


def percent(value) -> str:
    n = _decimal(value)
    return "—" if n is None else format_percent(n, "#,##0.0%", locale=LOCALE)


def date(value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10]) if len(value) <= 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return format_datetime(value, "dd/MM/yyyy HH:mm", locale=LOCALE)
    return format_date(value, "dd/MM/yyyy", locale=LOCALE)


def status(value: str) -> str:
    return STATUS.get(value, value)


def figure_status(value: str) -> str:
    return FIGURE_STATUS.get(value, value)


FILTERS = {"euro": euro, "numero": number, "percento": percent, "data": date, "stato": status,
           "stato_cifra": figure_status}
