"""Plan costing: worked prices, every violation code, policy checks of the basket, and properties."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from engine.policy.compiler import compile_bundle
from engine.costs.plans import cost_plan
from engine.errors import InputErrors, PolicyErrors
from engine.policy.registry import Registry

from .fixtures import PROGRAMME, make_tree, older, young

DAY = dt.date(2020, 3, 1)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp("costs"))
    return Registry.load(root).get("test/costs", "2020")


def codes(result):
    return sorted(v["code"] for v in result["violations"])


def test_plan_prices_each_option_from_the_basket(scratch):
    plan = {"person": older(), "services": [
        {"code": "a", "quantity": 3}, {"code": "a", "quantity": 1, "delivery": "group"},
        {"code": "c", "quantity": "2.5"}, {"code": "g"}, {"code": "spese-generali"}, {"code": "b", "quantity": 2},
        {"code": "e"}]}
    result = cost_plan(scratch, plan, DAY)
    amounts = [line["amount"] for line in result["lines"]]
    # 3 x 32 | 1 x 12 (group rate) | 2.5 x 40 | lump sum 500 | 10% of (96 + 12 + 100) | free | band-2 outcome 800
    assert amounts == ["96.00", "12.00", "100.00", "500.00", "20.80", "0.00", "800.00"]
    assert result["total"] == "1528.80" and result["dote"] == "2000.00" and result["remaining"] == "471.20"
    assert result["approved"] is True and result["violations"] == []
    assert result["lines"][0]["priced_by"]["cost_reference"]["article"] == "67(1)(b)"
    assert result["band"]["id"] == "2"


def test_not_allowed_for_band_and_mandatory_missing(scratch):
    result = cost_plan(scratch, {"person": young(), "services": [{"code": "c", "quantity": 1}]}, DAY)
    assert codes(result) == ["mandatory_missing", "not_allowed_for_band"]
    assert result["violations"][0]["path"] in ("$.services[0].code", "$.services")
    assert not result["approved"]


def test_over_cap_on_hours_and_on_amount(scratch):
    # c: 8 h x 40 = 320 > 300 per person (amount cap) ; a: 5 h > 4 h (hour cap)
    result = cost_plan(scratch, {"person": older(), "services": [{"code": "a", "quantity": 5},
                                                                 {"code": "c", "quantity": 8}]}, DAY)
    assert codes(result) == ["over_cap", "over_cap"]
    assert {v["service"] for v in result["violations"]} == {"a", "c"}


def test_over_dote(scratch):
    # band 1: dote 1000. 4 h x 32 + 500 + 400 (open-ended outcome reserved) = 1028
    result = cost_plan(scratch, {"person": young(), "services": [{"code": "a", "quantity": 4}, {"code": "g"},
                                                                 {"code": "e"}]}, DAY)
    assert result["total"] == "1028.00" and codes(result) == ["over_dote"]
    assert result["violations"][0]["excess"] == "28.00"


def test_not_eligible_and_not_in_basket(scratch):
    result = cost_plan(scratch, {"person": young(employment_status="employed"),
                                 "services": [{"code": "a", "quantity": 1}, {"code": "z"}]}, DAY)
    assert codes(result) == ["not_eligible", "service_not_in_basket"]
    assert result["dote"] is None


def test_group_delivery_without_group_rate(scratch):
    result = cost_plan(scratch, {"person": older(), "services": [{"code": "a", "quantity": 1},
                                                                 {"code": "c", "quantity": 1, "delivery": "group"}]},
                       DAY)
    assert codes(result) == ["not_allowed_for_delivery"]


@pytest.mark.parametrize("plan, path", [
    ({"person": {}, "services": [], "extra": 1}, "$.extra"),
    ({"person": {}, "services": [{"code": "a", "hours": 2}]}, "$.services[0].hours"),
    ({"person": {}, "services": [{"code": "a", "quantity": "1.234"}]}, "$.services[0].quantity"),
    ({"person": {}, "services": [{"code": "a", "quantity": -1}]}, "$.services[0].quantity"),
    ({"person": {}, "services": [{"code": "a", "delivery": "grup"}]}, "$.services[0].delivery"),
    ({"services": []}, "$.person"),
    ({"person": {"birth_date": "x"}, "services": []}, "$.person.birth_date"),
])
def test_bad_plan_input_names_the_field(scratch, plan, path):
    with pytest.raises(InputErrors) as exc:
        cost_plan(scratch, plan, DAY)
    assert path in [p.as_dict()["path"] for p in exc.value.problems]


def test_policy_without_basket_is_an_input_error(registry):
    policy = registry.get("lombardia/dote-unica-lavoro", "2019") if any(
        p.version == "2019" for p in registry.editions("lombardia/dote-unica-lavoro")) else None
    if policy is None or policy.costs is not None:
        pytest.skip("no edition without a basket")
    with pytest.raises(InputErrors):
        cost_plan(policy, {"person": {}, "services": []}, dt.date(2019, 6, 1))


@pytest.mark.parametrize("old, new, message", [
    ("    - code: c\n", "    - code: cc\n", "'cc' non è un codice del catalogo nazionale"),
    ("      region_group: less_developed\n", "      region_group: less_developd\n", "gruppo di regioni sconosciuto"),
    ('bands: ["2"]', 'bands: ["3"]', "fascia sconosciuta '3'"),
    ("(profiling_index - 0.5)", '(employment_status - 0.5)', "must be a number"),
    ("(profiling_index - 0.5)", "(age_x - 0.5)", "'age_x' non è né un fatto di questa policy né uno dei suoi parametri"),
    ("base: [a, c]", "base: [a, q]", "la base forfettaria 'q'"),
    ("      cost: {option: outcome}\n", "      cost: {option: unit_cost, rate: 3}\n", "deve avere cost: {option: outcome}"),
    ("outcomes:\n  service: e\n", "outcomes:\n  service: g\n", "nessuna sezione outcomes: lo indica"),
    ("rate: 32.00, group_rate", "rate: {value: null, status: placeholder, missing: x}, group_rate",
     "un importo richiede un valore"),
])
def test_basket_errors_point_at_the_field(tmp_path, old, new, message):
    assert old in PROGRAMME
    root = make_tree(tmp_path, PROGRAMME.replace(old, new, 1))
    with pytest.raises(PolicyErrors) as exc:
        Registry.load(root)
    rendered = "\n".join(e.render() for e in exc.value.errors)
    assert message in rendered
    assert all(e.location.line > 0 for e in exc.value.errors)


def test_basket_errors_are_english_on_request(tmp_path):
    from engine.i18n import using
    root = make_tree(tmp_path, PROGRAMME.replace("    - code: g\n", "    - code: gg\n", 1))
    with using("en"), pytest.raises(PolicyErrors) as exc:
        Registry.load(root)
    assert any("'gg' is not a code of the national catalogue" in e.message and "did you mean 'g'" in e.hint
               for e in exc.value.errors)


def test_suggests_a_close_service_code(tmp_path):
    root = make_tree(tmp_path, PROGRAMME.replace("    - code: g\n", "    - code: gg\n", 1))
    with pytest.raises(PolicyErrors) as exc:
        Registry.load(root)
    assert any("intendevi 'g'" in e.hint for e in exc.value.errors)


def test_replay_from_bundle_keeps_basket_and_hash(scratch):
    again = compile_bundle(json.loads(json.dumps(scratch.bundle)))
    assert again.content_hash == scratch.content_hash
    assert set(scratch.bundle["shared"]) == {"national/services.yaml", "national/region-groups.yaml"}
    plan = {"person": older(), "services": [{"code": "a", "quantity": 2}, {"code": "e"}]}
    assert cost_plan(again, plan, DAY) == cost_plan(scratch, plan, DAY)


def test_catalogue_change_changes_the_hash(tmp_path, scratch):
    root = make_tree(tmp_path)
    path = root / "national" / "services.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("Promozione di prestazioni di lavoro socialmente utile", "Lavoro socialmente utile")
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    assert Registry.load(root).get("test/costs", "2020").content_hash != scratch.content_hash


# -- properties ----------------------------------------------------------------------------------
quantities = st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4)
lines = st.lists(st.tuples(st.sampled_from(["a", "c", "g", "spese-generali", "b", "e"]), quantities,
                           st.sampled_from(["individual", "group"])), max_size=8)


@settings(max_examples=150, deadline=None)
@given(items=lines, band_older=st.booleans())
def test_an_approved_plan_never_exceeds_its_dote(scratch, items, band_older):
    person = older() if band_older else young()
    plan = {"person": person, "services": [{"code": c, "quantity": q, "delivery": d} for c, q, d in items]}
    result = cost_plan(scratch, plan, DAY)
    total = Decimal(result["total"])
    assert total == sum(Decimal(x["amount"]) for x in result["lines"])
    if result["approved"]:
        assert total <= Decimal(result["dote"])
    elif total > Decimal(result["dote"]):
        assert "over_dote" in codes(result)
    for line in result["lines"]:
        assert Decimal(line["amount"]).as_tuple().exponent == -2
