"""Calendar arithmetic used by derived facts and date functions (Italian 'età compiuta')."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal


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


# Exact durations: "more than four months" or "more than 35 years" are comparisons to the day,
# which whole months or years cannot express (4 months and 0 days is not more than 4 months,
# 4 months and 1 day is). These give the whole units plus the elapsed share of the unit in
# progress, so that ``duration > 4`` holds exactly from the day after the 4-month anniversary
# and ``duration == 4`` only on that anniversary. Shares are cut (never rounded up) to
# FRACTION_PLACES; the smallest non-zero share (1/366) stays above zero.
FRACTION_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-FRACTION_PLACES)


def elapsed_months(start: dt.date, end: dt.date):
    """Months from ``start`` to ``end`` as a ``Decimal``: completed months plus the share of the next."""
    return _elapsed(start, end, completed_months(start, end) if end >= start else None, 1)


def elapsed_years(start: dt.date, end: dt.date):
    """Years from ``start`` to ``end`` as a ``Decimal``: completed years plus the share of the next."""
    return _elapsed(start, end, completed_years(start, end) if end >= start else None, 12)


def elapsed_days(start: dt.date, end: dt.date) -> int:
    """Calendar days from ``start`` to ``end`` (0 on the same day; negative before it)."""
    return (end - start).days


def days_until(day: dt.date, as_of: dt.date) -> int:
    """Calendar days from ``as_of`` to a later ``day`` (negative when ``day`` is earlier)."""
    return (day - as_of).days


def _elapsed(start: dt.date, end: dt.date, whole, months_per_unit: int):
    if whole is None:  # end before start: mirror, so the value is the negative of the span
        return -_elapsed(end, start, completed_months(end, start) // months_per_unit, months_per_unit)
    last = add_months(start, whole * months_per_unit)
    following = add_months(start, (whole + 1) * months_per_unit)
    share = Decimal((end - last).days) / Decimal((following - last).days)
    return (Decimal(whole) + share).quantize(_QUANTUM, rounding=ROUND_DOWN)


def months_until(end: dt.date):
    """``completed_months(start, end)`` for many starts and one ``end``, in integer arithmetic.

    For ``start <= end`` a month is short exactly when ``start.day > end.day`` and ``end`` is
    not the last day of its month; later starts use ``completed_months`` itself.
    """
    end_index = end.year * 12 + end.month
    end_day = end.day
    month_end = (end + dt.timedelta(days=1)).month != end.month

    def months(start: dt.date) -> int:
        if start > end:
            return completed_months(start, end)
        return end_index - (start.year * 12 + start.month) - (start.day > end_day and not month_end)
    return months


def years_until(end: dt.date):
    """``completed_years(start, end)`` for many starts and one ``end`` (see ``months_until``)."""
    end_index = end.year * 12 + end.month
    end_day = end.day
    month_end = (end + dt.timedelta(days=1)).month != end.month

    def years(start: dt.date) -> int:  # months_until's months, inlined: one call per subject
        if start > end:
            return completed_years(start, end)
        return (end_index - (start.year * 12 + start.month) - (start.day > end_day and not month_end)) // 12
    return years
