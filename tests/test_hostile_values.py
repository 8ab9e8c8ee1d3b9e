"""Odd values thrown at the input readers (issue 19, defect 4): only the readers' own refusals come out.

Each reader either returns a typed value or raises its refusal (``ValueError`` from ``engine.values``,
``InputErrors`` from the fact dictionary and the plan/claim readers): never InvalidOperation,
OverflowError, UnicodeEncodeError, RecursionError or anything else a request would turn into a 500.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import values
from engine.costs.claims import read_claim, validity
from engine.costs.plans import read_plan
from engine.errors import InputErrors
from engine.money import to_cents

# text with lone surrogates, huge and tiny numbers (as JSON parses them: int or Decimal), odd dates
odd_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["\udfff", "\ud800", "9999-12-31", "0001-01-01", "20140301", "2014-W09-6", "2014-02-30", "1e400", "NaN",
     "-Infinity", "1" * 5000, "", " 2014-03-01"])
odd_number = st.one_of(
    st.integers(), st.integers(min_value=-10 ** 400, max_value=10 ** 400),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1E+400"), Decimal("-1E+400"), Decimal("1E-400"), Decimal("sNaN"), 10 ** 4000]),
    st.floats())
odd_scalar = st.one_of(st.none(), st.booleans(), odd_text, odd_number,
                       st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
odd_value = st.recursive(odd_scalar, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(odd_text, inner, max_size=4), max_leaves=12)

REFUSALS = (ValueError, InputErrors)


def _only_refusals(read, *args):
    try:
        read(*args)
    except REFUSALS:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(value=odd_value, places=st.integers(0, 6))
def test_value_readers_only_refuse(value, places):
    for read, args in ((values.read_date, ()), (values.read_bool, ()), (values.read_whole, ()),
                       (values.read_decimal, (places,)), (values.read_choice, (("F", "M"),))):
        _only_refusals(read, value, *args)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(value=odd_value)
def test_accepted_dates_and_numbers_stay_in_bounds(value):
    try:
        day = values.read_date(value)
    except ValueError:
        pass
    else:
        assert values.FIRST_DATE <= day <= values.LAST_DATE
    try:
        number = values.read_decimal(value, 6)
    except ValueError:
        pass
    else:
        assert number.is_finite() and abs(number) < values.LARGEST
        # what costing does with it: a product rounded to the cent
        assert (number * Decimal("9999.99")).quantize(Decimal("0.01")).is_finite()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(facts=st.dictionaries(odd_text, odd_value, max_size=8) | odd_value, as_of=st.dates(
    min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_the_fact_dictionary_only_refuses(dul, facts, as_of):
    dictionary = dul.dictionary
    try:
        env = dictionary.prepare(facts, set(), as_of)
    except InputErrors as exc:
        for problem in exc.problems:  # every message can be written as UTF-8 (into a 422 body)
            problem.message.encode("utf-8")
    else:
        json.dumps(values.plain(env), default=str).encode("utf-8")


PERSON = {"birth_date": "1960-05-01", "gender": "F", "residence_region": "lombardia", "domicile_region": "lombardia",
          "workplace_region": "lombardia", "employment_status": "unemployed", "unemployed_since": "2012-11-01",
          "education_level": "lower_secondary", "income_support": "none", "solidarity_agreement": False,
          "last_cigd_period": False}
line = st.dictionaries(st.sampled_from(["code", "quantity", "delivery", "date"]) | odd_text, odd_value, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(services=st.lists(line, max_size=4) | odd_value, start=odd_value,
       outcome=st.none() | st.dictionaries(st.sampled_from(["contract_type", "start", "end", "duration_months",
                                                            "part_time_share", "job_region"]), odd_value))
@example(services=[{"code": "a", "quantity": Decimal("1E+400")}], start="2014-03-01", outcome=None)
@example(services=[], start="9999-12-01", outcome=None)
def test_plan_and_claim_readers_only_refuse(dul, services, start, outcome):
    """What the readers accept survives the arithmetic done on it: amounts rounded to the cent, validity windows."""
    try:
        _person, lines = read_plan({"person": PERSON, "services": services})
    except InputErrors:
        pass
    else:
        for _index, _code, quantity, _delivery in lines:
            to_cents(quantity * Decimal("9999.99"))
    try:
        claim = read_claim(dul, {"person": PERSON, "start_date": start, "services": services, "outcome": outcome})
    except InputErrors:
        pass
    else:
        validity(dul, dul.costs, {"benefit": {"duration_months": 120}}, claim["start_date"], True)
        for item in claim["services"]:
            to_cents(item["quantity"] * Decimal("9999.99"))
