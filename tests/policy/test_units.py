"""Direct tests of the policy package's pieces: fact dictionary, schema, model, catalogue, band checks."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.errors import Code, InputErrors, PolicyErrors
from engine.policy import Registry, load_text
from engine.policy.facts import build_dictionary
from engine.policy.model import Figure, Reference
from engine.policy.schema import validate_document

FACTS = """
schema: almp/facts/1
enums:
  levels: {label: L, ordered: true, values: [low, mid, high]}
facts:
  birth_date: {type: date, label: Nascita, description: d}
  age: {type: integer, label: Età, description: d, derived: {function: completed_years, from: birth_date}}
  level: {type: enum, values: levels, label: Livello, description: d}
  since: {type: date, nullable: true, label: Dal, description: d}
  index: {type: decimal, minimum: 0, maximum: 1, label: Indice, description: d}
"""


@pytest.fixture
def dictionary():
    return build_dictionary(load_text(FACTS, "facts.yaml"))


def test_prepare_types_values_and_derives_age_in_completed_years(dictionary):
    env = dictionary.prepare({"birth_date": "1960-03-02", "level": "mid", "since": None, "index": "0.5"},
                             {"age", "level", "since", "index"}, dt.date(2020, 3, 1))
    assert env["age"] == 59  # the birthday falls on the day after
    assert env["since"] is None and env["index"] == Decimal("0.5") and env["level"] == "mid"


def test_prepare_names_every_problem_with_its_path(dictionary):
    with pytest.raises(InputErrors) as info:
        dictionary.prepare({"birth_date": "02/03/1960", "level": "medium", "index": "1.5", "age": 40, "extra": 1},
                           {"age", "level", "since", "index"}, dt.date(2020, 3, 1))
    by_field = {p.path[-1]: p.code for p in info.value.problems}
    assert by_field == {"birth_date": "invalid_value", "level": "invalid_value", "index": "invalid_value",
                        "age": "derived_fact", "extra": "unknown_fact", "since": "missing_fact"}


def test_a_dictionary_with_an_unknown_enum_list_is_refused_at_its_line():
    with pytest.raises(PolicyErrors) as info:
        build_dictionary(load_text(FACTS.replace("values: levels", "values: levelz"), "facts.yaml"))
    assert "facts.yaml:" in str(info.value)


def test_schema_rejects_unknown_keys_with_a_suggestion(minimal):
    doc = load_text(minimal().replace("valid_to:", "valid_too:"), "p.yaml")
    errors = validate_document(doc)
    assert errors and errors[0].code == Code.POLICY_SCHEMA_ERROR
    assert "valid_to" in errors[0].hint or "valid_to" in errors[0].message


def test_figure_and_reference_render_their_provenance():
    fig = Figure(Decimal("1800.00"), "placeholder", None, "the Avviso table", ("bands", 0), None)
    assert fig.provisional and fig.as_dict() == {"value": "1800.00", "status": "placeholder",
                                                 "missing": "the Avviso table"}
    assert Reference("a", "", "Avviso", "").as_dict() == {"act": "a", "title": "Avviso"}


BANDS = """
points:
  - {id: p, label: P, when: 'age >= 40', points: {value: 2, source: src, status: confirmed}, reference: {act: act}}
bands:
  - {id: "1", label: bassa, when: 'points < 2', reference: {act: act}}
  - {id: "2", label: alta, when: 'points >= {low}', reference: {act: act}}
"""


@pytest.mark.parametrize("low, code", [("2", None), ("0", Code.POLICY_BAND_OVERLAP), ("3", Code.POLICY_BAND_GAP)])
def test_band_checks_find_overlaps_and_gaps(policy_tree, minimal, low, code):
    """Reachable totals are 0 and 2 (age below or from 40): a threshold of 0 overlaps, 3 leaves a gap."""
    policy_tree("test/prog/2020.yaml", minimal() + BANDS.replace("{low}", low))
    if code is None:
        assert Registry.load(policy_tree.root).get("test/prog", "2020").bands
        return
    with pytest.raises(PolicyErrors) as info:
        Registry.load(policy_tree.root)
    assert code in {e.code for e in info.value.errors}


def test_catalogue_services_are_the_national_letters(registry):
    adr = registry.get("national/assegno-di-ricollocazione", "2018")
    catalogue = adr.costs.catalogue
    assert set("abcdefghilm") <= set(catalogue.services)
    assert "basilicata" in catalogue.region_groups["less_developed"].regions
