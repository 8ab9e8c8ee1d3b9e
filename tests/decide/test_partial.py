"""Partial evaluation: missing facts are unknown; decided answers hold for every completion, open answers
are witnessed by two completions that disagree; durable-rules, batch and reference paths agree."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decide.backends import ReferenceBackend
from engine.decide.evaluate import evaluate
from engine.decide.partial import (ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED, evaluate_available, evaluate_partial,
                                   partial_for, prepare_partial)

from ..strategies import AS_OF, persons

FIXTURE = [HealthCheck.function_scoped_fixture]


def state(result: dict) -> tuple:
    """A full decision in one value: not eligible, or eligible with its band."""
    if not result["eligible"]:
        return (NOT_ELIGIBLE, None)
    return (ELIGIBLE, result["band"]["id"] if result["band"] else None)


def without_backend(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "engine"}



@st.composite
def partial_person(draw):
    known = draw(persons)
    filler = draw(persons)
    dropped = draw(st.sets(st.sampled_from(sorted(known))))
    return {k: v for k, v in known.items() if k not in dropped}, filler


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE)
@given(case=partial_person())
def test_decided_answers_hold_for_every_completion_and_open_ones_are_witnessed(dul, case):
    known, filler = case
    answer = partial_for(dul, "reference").evaluate(prepare_partial(dul, known, AS_OF), AS_OF)
    completion = {**filler, **known}
    truth = state(evaluate(dul, completion, AS_OF, ReferenceBackend(dul)))
    if answer.state is not None:
        assert truth == answer.state  # decided: this (random) completion agrees
    else:
        assert truth in answer.outcomes  # open: the completion's outcome was foreseen
        assert len(answer.outcomes) >= 2
        # every outcome said possible is reached by the completion the search found for it
        for expected, witness in answer.witness_inputs().items():
            reached = state(evaluate(dul, {**filler, **known, **witness}, AS_OF, ReferenceBackend(dul)))
            assert reached == expected
        assert answer.witness_inputs().keys() == answer.outcomes


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE)
@given(case=partial_person())
def test_durable_batch_and_reference_paths_give_the_same_partial_answer(dul, case):
    known, _ = case
    answers = [without_backend(evaluate_available(dul, known, AS_OF, kind))
               for kind in ("durable", "batch", "reference")]
    assert answers[0] == answers[1] == answers[2]


@pytest.fixture
def dul2019(registry):
    return registry.get("lombardia/dote-unica-lavoro", "2019")


JUNE_2019 = dt.date(2019, 6, 1)
PERSON_2019 = {"birth_date": "1961-01-15", "gender": "F", "residence_region": "lombardia",
               "domicile_region": "lombardia", "workplace_region": "lombardia", "employment_status": "unemployed",
               "unemployed_since": "2018-04-01", "income_support": "none", "income_support_since": None,
               "solidarity_agreement": False, "police_or_armed_forces": False, "command_authorisation": False,
               "master_enrolled": False}


@pytest.mark.parametrize("kind", ["durable", "batch", "reference"])
def test_a_seventy_year_old_is_not_eligible_for_a_programme_capped_at_65(dul2019, kind):
    result = evaluate_partial(dul2019, {"birth_date": "1949-01-01"}, JUNE_2019, kind)
    assert result["outcome"] == NOT_ELIGIBLE and result["eligible"] is False
    assert [r["rule"] for r in result["reasons"]] == ["eta-massima"]
    assert "missing" not in result


def test_missing_one_deciding_fact_names_it_and_giving_it_decides(dul2019):
    person = {k: v for k, v in PERSON_2019.items() if k != "employment_status"}
    open_ = evaluate_available(dul2019, person, JUNE_2019)
    assert open_["outcome"] == UNDETERMINED and open_["eligible"] is None
    assert open_["missing"] == ["employment_status"]
    assert open_["ask_next"][0]["fact"] == "employment_status"
    assert set(open_["possible"]["outcomes"]) == {ELIGIBLE, NOT_ELIGIBLE}
    decided = evaluate_available(dul2019, {**person, "employment_status": "unemployed"}, JUNE_2019)
    assert decided["outcome"] == ELIGIBLE and decided["band"]["id"] == "4"
    assert decided == evaluate(dul2019, PERSON_2019, JUNE_2019, ReferenceBackend(dul2019)) | {
        "engine": decided["engine"], "regions": decided["regions"]}


def test_an_open_band_gives_the_range_still_possible(dul2019):
    person = {k: v for k, v in PERSON_2019.items() if k != "unemployed_since"}
    result = evaluate_available(dul2019, person, JUNE_2019)
    assert result["outcome"] == ELIGIBLE and result["band"] is None
    assert [b["id"] for b in result["possible"]["bands"]] == ["3", "4"]
    assert result["possible"]["amount"] == {"min": "2600.00", "max": "3000.00"}
    assert result["missing"] == ["unemployed_since"]


def test_null_is_known_missing_is_unknown(dul2019):
    """A nullable fact sent as null is a known 'does not apply'; left out, it is unknown."""
    person = {k: v for k, v in PERSON_2019.items() if k != "unemployed_since"}
    sent_null = evaluate_available(dul2019, {**person, "unemployed_since": None}, JUNE_2019)
    assert "missing" not in sent_null
    assert evaluate_available(dul2019, person, JUNE_2019)["missing"] == ["unemployed_since"]


def test_ask_next_puts_the_most_settling_fact_first(dul2019):
    result = evaluate_available(dul2019, {"employment_status": "unemployed", "residence_region": "lombardia"},
                                JUNE_2019)
    assert result["outcome"] == UNDETERMINED
    assert result["ask_next"][0]["fact"] == "birth_date"
    shares = [a["settles"] for a in result["ask_next"]]
    assert shares == sorted(shares, reverse=True)
    assert {a["fact"] for a in result["ask_next"]} == set(result["missing"])


EXAMPLES = [("lombardia/dote-unica-lavoro", "person-dul-2019.json", dt.date(2019, 6, 1)),
            ("lombardia/dote-unica-lavoro", "person-dul-2020.json", dt.date(2021, 3, 1)),
            ("lombardia/dote-unica-lavoro", "person-dul-2023.json", dt.date(2023, 9, 1)),
            ("basilicata/capitale-lavoro", "person-capitale-lavoro.json", dt.date(2018, 10, 1)),
            ("basilicata/destinazione-over-35", "person-destinazione-over-35.json", dt.date(2018, 9, 1))]


@pytest.mark.parametrize("policy_id, example, day", EXAMPLES)
@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE)
@given(data=st.data())
def test_every_outcome_said_possible_is_reached_and_a_decided_one_matches_the_full_person(registry, policy_id,
                                                                                         example, day, data):
    import json
    from ..conftest import REPO
    full = json.loads((REPO / "examples" / example).read_text())
    policy = registry.get(policy_id, None, day)
    dropped = data.draw(st.sets(st.sampled_from(sorted(full))))
    known = {k: v for k, v in full.items() if k not in dropped}
    answer = partial_for(policy, "reference").evaluate(prepare_partial(policy, known, day), day)
    truth = state(evaluate(policy, full, day, ReferenceBackend(policy)))
    if answer.state is not None:
        assert answer.state == truth
    else:
        assert truth in answer.outcomes and len(answer.outcomes) >= 2
        for expected, witness in answer.witness_inputs().items():
            assert state(evaluate(policy, {**full, **witness}, day, ReferenceBackend(policy))) == expected
