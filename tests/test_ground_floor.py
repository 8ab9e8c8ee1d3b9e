"""Direct tests of the ground floor: money rounding, input values, suggestions, error codes."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from engine.errors import Code, PolicyError, SourceLocation
from engine.i18n import using
from engine.money import money_text, to_cents
from engine.suggest import suggest
from engine.values import SHOWN_CHARS, in_range, read_choice, read_date, read_decimal, read_whole, shown


@pytest.mark.parametrize("amount, cents", [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"),
                                           ("-0.005", "-0.01"), ("1800", "1800.00"), (1800, "1800.00")])
def test_money_rounds_half_up_to_the_cent(amount, cents):
    assert to_cents(Decimal(amount) if isinstance(amount, str) else amount) == Decimal(cents)


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        to_cents(0.1)


@given(st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=6))
def test_money_text_has_exactly_two_decimals_and_is_the_nearest_cent(amount):
    text = money_text(amount)
    assert text.split(".")[1].__len__() == 2
    assert abs(Decimal(text) - amount) <= Decimal("0.005")


@pytest.mark.parametrize("text", ["20140301", "2014-W09-6", "2014-3-1", "01/03/2014", " 2014-03-01", "2014-02-30"])
def test_dates_are_exactly_yyyy_mm_dd(text):
    with pytest.raises(ValueError, match="AAAA-MM-GG"):  # Italian by default (tests run with ALMP_LANG=it)
        read_date(text)
    with using("en"), pytest.raises(ValueError, match="YYYY-MM-DD"):
        read_date(text)


def test_a_valid_date_and_a_date_object_are_read():
    assert read_date("2014-03-01") == dt.date(2014, 3, 1) == read_date(dt.date(2014, 3, 1))


@pytest.mark.parametrize("value", [True, None, [1], "abc", "NaN", "Infinity"])
def test_decimals_refuse_non_numbers(value):
    with pytest.raises(ValueError):
        read_decimal(value, 2)


def test_decimals_keep_the_exact_text_and_refuse_extra_places():
    assert read_decimal("0.10", 2) == Decimal("0.10")
    assert read_decimal(3, 2) == 3
    with pytest.raises(ValueError, match="al massimo 2 cifre decimali"):
        read_decimal("0.125", 2)
    with using("en"), pytest.raises(ValueError, match="at most 2 decimal places"):
        read_decimal("0.125", 2)


def test_whole_numbers_are_not_booleans():
    assert read_whole(3) == 3
    with pytest.raises(ValueError):
        read_whole(True)


def test_ranges_name_the_bound():
    assert in_range(5, 0, 10) == 5
    with pytest.raises(ValueError, match="almeno 0"):
        in_range(-1, 0, None)
    with using("en"), pytest.raises(ValueError, match="at most 1"):
        in_range(Decimal("1.5"), None, 1)


def test_choice_suggests_the_closest_value():
    with pytest.raises(ValueError, match="intendevi 'unemployed'"):
        read_choice("unemplyed", ["unemployed", "employed"])
    with using("en"), pytest.raises(ValueError, match="did you mean 'unemployed'"):
        read_choice("unemplyed", ["unemployed", "employed"])


def test_echoed_values_are_cut_short():
    huge = "9" * 1_000_000
    with pytest.raises(ValueError) as info:
        read_date(huge)
    assert len(str(info.value)) < SHOWN_CHARS + 60
    assert shown("x" * 1000).endswith("…")


def test_suggest_finds_close_names_only():
    assert suggest("educaton_level", ["education_level", "age"]) == "did you mean 'education_level'?"
    assert suggest("zzz", ["education_level", "age"]) == ""


def test_error_codes_are_declared_once_and_stable():
    codes = {name: value for name, value in vars(Code).items() if name.isupper()}
    assert len(set(codes.values())) == len(codes)  # no two constants share a code
    assert all(value == name.lower() for name, value in codes.items())
    err = PolicyError(Code.POLICY_REF_ERROR, "bad", SourceLocation("p.yaml", 3, 5, ("a", 0)), "fix it")
    assert err.render() == "p.yaml:3:5: policy_ref_error: $.a[0]: bad (hint: fix it)"
