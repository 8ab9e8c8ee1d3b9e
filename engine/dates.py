"""Calendar arithmetic used by derived facts and date functions (Italian 'età compiuta')."""
from __future__ import annotations

import datetime as dt


def completed_months(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end``; a month is complete on the same day-of-month.

    A start on the 31st completes a month on the last day of a shorter month. Negative
    spans count backwards the same way.
    """
    if end < start:
        return -completed_months(end, start)
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day and not _is_month_end(end, start.day):
        months -= 1
    return months


def completed_years(start: dt.date, end: dt.date) -> int:
    """Age in completed years: a birthday on 29 February is reached on 28 February."""
    return completed_months(start, end) // 12 if end >= start else -(completed_months(end, start) // 12)


def _is_month_end(day: dt.date, wanted_day: int) -> bool:
    nxt = day + dt.timedelta(days=1)
    return nxt.month != day.month and day.day < wanted_day


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = start.year * 12 + start.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for day in (start.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise ValueError("unreachable")
