import datetime as dt

from hypothesis import given, strategies as st

from engine.dates import add_months, completed_months, completed_years

D = dt.date


def test_eta_compiuta():
    assert completed_years(D(1960, 5, 1), D(2014, 4, 30)) == 53
    assert completed_years(D(1960, 5, 1), D(2014, 5, 1)) == 54
    assert completed_years(D(2000, 2, 29), D(2001, 2, 28)) == 1  # a 29 February birthday counts on 28 Feb


def test_completed_months_month_ends():
    assert completed_months(D(2013, 1, 31), D(2013, 2, 28)) == 1
    assert completed_months(D(2013, 1, 31), D(2013, 2, 27)) == 0
    assert completed_months(D(2012, 11, 1), D(2014, 3, 1)) == 16
    assert completed_months(D(2012, 11, 2), D(2014, 3, 1)) == 15


@given(st.dates(D(1900, 1, 1), D(2100, 1, 1)), st.integers(0, 600))
def test_adding_months_completes_exactly_that_many(start, months):
    end = add_months(start, months)
    assert completed_months(start, end) == months
    assert completed_months(start, end - dt.timedelta(days=1)) in (months - 1, months) if months else True


@given(st.dates(D(1900, 1, 1), D(2100, 1, 1)), st.dates(D(1900, 1, 1), D(2100, 1, 1)))
def test_months_grow_with_the_end_date(a, b):
    if a <= b:
        assert completed_months(a, b) <= completed_months(a, b + dt.timedelta(days=1))
        assert completed_years(a, b) == completed_months(a, b) // 12


@given(start=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), end=st.dates(dt.date(1900, 1, 1),
                                                                                dt.date(2100, 12, 31)))
def test_fixed_end_arithmetic_agrees_with_the_calendar_functions(start, end):
    from engine.dates import completed_months, completed_years, months_until, years_until
    assert months_until(end)(start) == completed_months(start, end)
    assert years_until(end)(start) == completed_years(start, end)
