"""Comparisons to the day and rules amended inside an edition's window (issue 13).

Exact durations: "more than four months" holds from the day after the 4-month anniversary,
never on it. Dated rules compare the application date (a fact almp derives from ``as_of``)
with a date parameter, so a decision taken before an amendment replays as it was taken.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from engine.dates import add_months, completed_months, completed_years, elapsed_days, elapsed_months, elapsed_years
from engine.decide.backends import ReferenceBackend
from engine.decide.durable import DurableBackend
from engine.decide.evaluate import evaluate
from engine.errors import InputErrors, PolicyErrors

D = dt.date
DAYS = st.dates(D(1930, 1, 1), D(2060, 12, 31))


@given(DAYS, DAYS)
def test_exact_months_exceed_n_only_after_the_nth_anniversary(start, end):
    if end < start:
        start, end = end, start
    value = elapsed_months(start, end)
    whole = completed_months(start, end)
    anniversary = add_months(start, whole)
    assert int(value) == whole
    assert (value == whole) == (end == anniversary)
    assert value > whole or end == anniversary
    assert value < whole + 1


@given(DAYS, DAYS)
def test_exact_years_exceed_n_only_after_the_nth_birthday(birth, day):
    if day < birth:
        birth, day = day, birth
    value = elapsed_years(birth, day)
    years = completed_years(birth, day)
    assert int(value) == years
    assert (value > years) == (day > add_months(birth, 12 * years))


@given(DAYS, st.integers(1, 400))
def test_exact_months_grow_with_every_day(start, span):
    end = start + dt.timedelta(days=span)
    assert elapsed_months(start, end) > elapsed_months(start, end - dt.timedelta(days=1))


def test_exact_durations_examples():
    assert elapsed_months(D(2019, 1, 10), D(2019, 5, 10)) == Decimal("4")
    assert elapsed_months(D(2019, 1, 10), D(2019, 5, 11)) == Decimal("4.032258")  # 1 day of a 31-day month
    assert elapsed_months(D(2018, 1, 31), D(2018, 5, 31)) == Decimal("4")
    assert elapsed_years(D(1983, 9, 1), D(2018, 9, 1)) == Decimal("35")
    assert elapsed_years(D(1983, 9, 1), D(2018, 9, 2)) > 35
    assert elapsed_days(D(2023, 6, 1), D(2023, 11, 28)) == 180
    assert elapsed_months(D(2019, 5, 10), D(2019, 1, 10)) == Decimal("-4")


def test_the_application_date_is_derived_for_every_subject_and_cannot_be_sent(registry):
    dictionary = registry.dictionary
    env = dictionary.prepare({}, set(), D(2019, 4, 15), "partnership", ("partnership",))
    assert env["application_date"] == D(2019, 4, 15)
    with pytest.raises(InputErrors) as exc:
        dictionary.prepare({"application_date": "2019-04-15"}, set(), D(2019, 4, 15))
    assert exc.value.problems[0].code == "derived_fact"


NASPI_6_MONTHS = {"birth_date": "1984-01-20", "gender": "M", "residence_region": "lombardia",
                  "domicile_region": "lombardia", "workplace_region": "lombardia", "employment_status": "unemployed",
                  "unemployed_since": "2018-11-20", "income_support": "naspi", "income_support_since": "2018-11-25",
                  "solidarity_agreement": False, "police_or_armed_forces": False, "command_authorisation": False,
                  "master_enrolled": False}


@pytest.mark.parametrize("backend", [ReferenceBackend, DurableBackend.for_policy])
def test_dul_iii_amendment_of_15_april_2019_applies_from_that_day(registry, backend):
    policy = registry.get("lombardia/dote-unica-lavoro", "2019")
    before = evaluate(policy, NASPI_6_MONTHS, D(2019, 4, 14), backend(policy))
    after = evaluate(policy, NASPI_6_MONTHS, D(2019, 4, 15), backend(policy))
    assert [r["rule"] for r in before["reasons"]] == ["esclusione-naspi"]
    assert after["eligible"] is True
    rule = next(t for t in after["trace"] if t["rule"] == "esclusione-naspi")
    assert rule["facts"]["application_date"] == "2019-04-15"
    assert rule["parameters"]["data_naspi_oltre_4_mesi"] == "2019-04-15"
    assert "$.parameters.data_naspi_oltre_4_mesi" in after["provisional"]


def test_the_batch_path_agrees_on_a_dated_rule(registry):
    from engine.decide.batch import compile_decider
    policy = registry.get("lombardia/dote-unica-lavoro", "2019")
    decide = compile_decider(policy)
    for day in (D(2019, 4, 14), D(2019, 4, 15)):
        env = policy.dictionary.prepare(NASPI_6_MONTHS, set(policy.needed_inputs), day)
        eligible = decide(env)[0]
        assert eligible is evaluate(policy, NASPI_6_MONTHS, day)["eligible"]


def test_a_derivation_must_declare_the_type_it_gives(policy_tree):
    from engine.policy.facts import load_dictionary
    path = policy_tree.root / "national" / "facts.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  unemployment_days:\n    type: integer", "  unemployment_days:\n    type: decimal")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyErrors) as exc:
        load_dictionary(path)
    assert "gives a integer" in str(exc.value) or "gives a int" in str(exc.value)
