"""Columnar preparation (the batch path) gives exactly the row path's values, problems and decisions."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from engine.decide.batch import compile_decider
from engine.decide.columns import ColumnDecider
from engine.errors import InputErrors
from engine.decide.evaluate import prepare_facts

from ..strategies import AS_OF, examples, persons

PATH = ("persons",)
# values the row path must reject (or accept) with care: wrong types that compare equal to good
# ones (1 == True), ISO forms of other lengths, impossible days, nulls, containers, floats
HOSTILE = st.sampled_from([None, 1, 0, True, False, 1.0, "", "lombardia", "2014-W10-1", "2014-02-30", "20140301",
                           "2014-3-1", "1980-02-29", [], ["F"], {}, "F", "unemployed", -1, 10 ** 20, "none"])
FACTS = ["birth_date", "gender", "residence_region", "domicile_region", "workplace_region", "employment_status",
         "unemployed_since", "education_level", "income_support", "solidarity_agreement", "last_cigd_period"]


@st.composite
def damaged(draw):
    """A valid person, sometimes with one fact changed, removed, or an extra (unknown or derived) one."""
    person = dict(draw(persons))
    what = draw(st.sampled_from(["keep", "keep", "change", "remove", "extra"]))
    if what == "change":
        person[draw(st.sampled_from(FACTS))] = draw(HOSTILE)
    elif what == "remove":
        del person[draw(st.sampled_from(FACTS))]
    elif what == "extra":
        person[draw(st.sampled_from(["age", "agee", "unemployment_months", "citizenship"]))] = draw(HOSTILE)
    return person


def row_path(policy, people):
    decide = compile_decider(policy)
    out, problems = [], {}
    for i, person in enumerate(people):
        try:
            env = prepare_facts(policy, person, AS_OF, PATH + (i,))
        except InputErrors as exc:
            problems[i] = exc.problems
            out.append(None)
            continue
        out.append(decide(env))
    return out, problems


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(persons, min_size=1, max_size=40))
def test_valid_chunks_decide_as_the_row_path(dul, people):
    expected, problems = row_path(dul, people)
    assert not problems
    decider = ColumnDecider(dul)
    by_rows, chunk = decider.decide_rows(people, AS_OF)
    assert by_rows == expected and not chunk.problems
    columns = {name: [p[name] for p in people] for name in people[0]}
    by_columns, chunk = decider.decide_columns(columns, AS_OF)
    assert by_columns == expected and not chunk.problems


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(damaged(), min_size=1, max_size=30))
def test_bad_rows_get_the_row_paths_problems_and_good_rows_their_decisions(dul, people):
    expected, problems = row_path(dul, people)
    results, chunk = ColumnDecider(dul).decide_rows(people, AS_OF)
    assert chunk.problems == problems
    assert results == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(damaged(), min_size=1, max_size=20), column=st.sampled_from(FACTS), value=HOSTILE)
def test_columns_with_a_bad_value_match_the_row_path(dul, people, column, value):
    people = [{name: p.get(name) for name in FACTS} for p in people]  # columns: every fact, in column order
    people[-1][column] = value
    expected, problems = row_path(dul, people)
    columns = {name: [p[name] for p in people] for name in FACTS}
    results, chunk = ColumnDecider(dul).decide_columns(columns, AS_OF)
    assert chunk.problems == problems
    assert results == expected


def test_a_bad_row_names_its_index_and_fact(dul):
    people = [dict(p) for p in examples(persons, 3)]
    people[1]["birth_date"] = "1980-02-30"
    results, chunk = ColumnDecider(dul).decide_rows(people, AS_OF)
    assert results[1] is None and results[0] is not None and results[2] is not None
    [problem] = chunk.problems[1]
    assert problem.path == ("persons", 1, "birth_date") and problem.code == "invalid_value"
    assert chunk.errors().problems == [problem]


def test_derived_facts_use_the_evaluation_date(dul):
    person = dict(examples(persons, 1)[0], birth_date="1984-03-01", unemployed_since="2013-09-01")
    decider = ColumnDecider(dul)
    for as_of, age, months in ((dt.date(2014, 2, 28), 29, 5), (dt.date(2014, 3, 1), 30, 6)):
        chunk = decider.preparer.from_rows([person], as_of)
        assert chunk.columns["age"] == [age] and chunk.columns["unemployment_months"] == [months]


def test_the_callers_columns_are_left_as_they_were(dul):
    people = [dict(p) for p in examples(persons, 4)]
    people[2]["gender"] = "X"
    columns = {name: [p[name] for p in people] for name in FACTS}
    before = {name: list(col) for name, col in columns.items()}
    results, chunk = ColumnDecider(dul).decide_columns(columns, AS_OF)
    assert columns == before and results[2] is None and list(chunk.problems) == [2]
