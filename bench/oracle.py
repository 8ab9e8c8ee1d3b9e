"""An independent oracle for Dote Unica Lavoro 2013: written from the call's text, shares no almp code.

``bench.compare`` checks every answer of every engine against it. Its calendar is written
differently from ``engine/dates.py`` on purpose (anniversaries found by stepping dates,
not by month arithmetic): a birthday on 29 February is reached on 28 February, a month
from the 31st ends on a shorter month's last day.
"""
from __future__ import annotations

import calendar
import datetime as dt


def _anniversary(start: dt.date, months: int) -> dt.date:
    """``start`` moved on by ``months`` whole months, on the month's last day when it is shorter."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def whole_months(start: dt.date, end: dt.date) -> int:
    """How many whole months have passed from ``start`` to ``end`` (``start <= end``)."""
    guess = (end.year - start.year) * 12 + end.month - start.month
    while guess > 0 and _anniversary(start, guess) > end:
        guess -= 1
    return guess


def answer(person: dict, as_of: dt.date) -> tuple[bool, str | None]:
    """(eligible, fascia or None) for a raw person as sent to almp (ISO dates, null when absent)."""
    age = whole_months(dt.date.fromisoformat(person["birth_date"]), as_of) // 12
    since = person["unemployed_since"]
    months = whole_months(dt.date.fromisoformat(since), as_of) if since else None
    status, support = person["employment_status"], person["income_support"]
    in_lombardy = "lombardia" in (person["residence_region"], person["domicile_region"])
    works_in_lombardy = person["workplace_region"] == "lombardia"
    groups = [
        age <= 29 and status == "unemployed" and in_lombardy,  # "inoccupati": with a DID (d.lgs. 181/2000)
        status == "unemployed" and in_lombardy,
        status == "unemployed" and support == "mobility" and works_in_lombardy,
        status == "suspended" and support in ("cigd", "cigs") and works_in_lombardy,
        person["solidarity_agreement"] and works_in_lombardy,
        person["last_cigd_period"] and works_in_lombardy,
    ]
    if not any(groups):
        return False, None
    if person["solidarity_agreement"] or person["last_cigd_period"]:
        return True, "4"
    points = 0
    if months is not None:
        points += 3 if months >= 12 else 2 if months >= 6 else 0
    points += (age <= 29) + 2 * (age >= 55)
    points += person["education_level"] in ("none", "primary", "lower_secondary")
    points += person["gender"] == "F" and age > 35
    return True, "1" if points < 2 else "2" if points < 4 else "3"
