"""it-IT formats for the console's pages, from engine.i18n (the one place for formats): 1.800,00 €,
15/04/2019, 12,5%; and the Italian words for statuses."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from engine import i18n

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
    return "—" if number is None else i18n.money(number, "it")


def number(value) -> str:
    n = _decimal(value)
    return "—" if n is None else i18n.number(n, "it")


def percent(value) -> str:
    n = _decimal(value)
    return "—" if n is None else i18n.percent(n, "it")


def date(value) -> str:
    """A date (dd/mm/yyyy), or a moment with its time (dd/mm/yyyy HH:MM, UTC as stored)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            value = dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return f"{i18n.date(value.date(), 'it')} {value:%H:%M}"
    return i18n.date(value, "it")


def status(value: str) -> str:
    return STATUS.get(value, value)


def figure_status(value: str) -> str:
    return FIGURE_STATUS.get(value, value)


FILTERS = {"euro": euro, "numero": number, "percento": percent, "data": date, "stato": status,
           "stato_cifra": figure_status}
