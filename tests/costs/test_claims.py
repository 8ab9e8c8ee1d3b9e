"""Claims: every reason code for an unpaid euro, instalments, the CLI, and properties."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from almp.cli import main
from engine.costs.claims import price_claim
from engine.errors import InputErrors
from engine.policy.registry import Registry

from .fixtures import make_tree, older, young


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp("claims"))
    return Registry.load(root).get("test/costs", "2020")


def claim(person, services=(), outcome=None, start="2020-02-01", **extra):
    return {"person": person, "start_date": start, "services": list(services), "outcome": outcome, **extra}


def reasons(entry):
    return {r["code"]: r["amount"] for r in entry["not_paid"]}


def test_caps_pay_best_rate_first_and_report_the_rest(scratch):
    # a: cap 4 h. 3 h group (12) then 3 h individual (32): the individual hours are paid first.
    result = price_claim(scratch, claim(older(), [
        {"code": "a", "date": "2020-02-03", "quantity": 3, "delivery": "group"},
        {"code": "a", "date": "2020-02-10", "quantity": 3}]))
    group, individual = result["lines"]
    assert individual["payable"] == "96.00" and individual["not_paid"] == []
    assert group["payable"] == "12.00" and reasons(group) == {"over_cap": "24.00"}
    assert result["payable"] == "108.00" and result["not_paid"] == {"over_cap": "24.00"}


def test_amount_cap_flat_rate_free_and_lump_sum(scratch):
    result = price_claim(scratch, claim(older(), [
        {"code": "c", "date": "2020-02-03", "quantity": 9},          # 360 > 300 per person
        {"code": "spese-generali", "date": "2020-02-04"},            # 10% of the paid base (300)
        {"code": "b", "date": "2020-02-05", "quantity": 2},          # free
        {"code": "g", "date": "2020-02-06", "quantity": 2}]))        # lump sum, 1 unit at most
    c, flat, free, lump = result["lines"]
    assert (c["payable"], reasons(c)) == ("300.00", {"over_cap": "60.00"})
    assert flat["payable"] == "30.00" and flat["base"] == "300.00"
    assert free["payable"] == "0.00" and free["not_paid"] == []
    assert (lump["payable"], reasons(lump)) == ("500.00", {"over_cap": "500.00"})
    assert result["payable"] == "830.00"


def test_validity_band_and_eligibility(scratch):
    # band 1 (young): 6 months from 2020-02-01 -> last day 2020-07-31; c is for band 2 only
    result = price_claim(scratch, claim(young(), [
        {"code": "a", "date": "2020-08-01", "quantity": 1},
        {"code": "a", "date": "2020-07-31", "quantity": 1},
        {"code": "c", "date": "2020-03-01", "quantity": 1},
        {"code": "zz", "date": "2020-03-01"}]))
    late, last_day, band, unknown = result["lines"]
    assert reasons(late) == {"outside_validity": "32.00"} and last_day["payable"] == "32.00"
    assert reasons(band) == {"not_allowed_for_band": "40.00"}
    assert reasons(unknown) == {"service_not_in_basket": None}
    assert result["validity"] == {"from": "2020-02-01", "to": "2020-07-31", "extended": False}
    ineligible = price_claim(scratch, claim(young(employment_status="employed"),
                                            [{"code": "a", "date": "2020-02-03", "quantity": 1}]))
    assert reasons(ineligible["lines"][0]) == {"not_eligible": "32.00"} and ineligible["payable"] == "0.00"


def test_over_dote_spends_the_dote_in_date_order_outcome_last(scratch):
    # band 1: dote 1000. 4 h x 32 + 500 = 628 of services, then the open-ended outcome of 400 -> 372 paid
    result = price_claim(scratch, claim(young(), [
        {"code": "a", "date": "2020-02-03", "quantity": 4}, {"code": "g", "date": "2020-02-04"}],
        {"contract_type": "open_ended", "start": "2020-04-01", "job_region": "lazio"}))
    assert result["payable"] == "1000.00"
    assert reasons(result["outcome"]) == {"over_dote": "28.00"}
    assert [i["amount"] for i in result["outcome"]["instalments"]] == ["186.00", "186.00"]
    assert [i["due"] for i in result["outcome"]["instalments"]] == ["2020-10-01", "2021-04-01"]


@pytest.mark.parametrize("outcome, detail", [
    ({"contract_type": "fixed_term", "start": "2020-03-01", "duration_months": 2, "job_region": "puglia"},
     "contract_too_short"),
    ({"contract_type": "fixed_term", "start": "2020-03-01", "duration_months": 4, "job_region": "veneto"},
     "region_not_eligible"),
    ({"contract_type": "open_ended", "start": "2020-03-01", "part_time_share": "0.49", "job_region": "veneto"},
     "part_time_below_threshold"),
    ({"contract_type": "apprenticeship", "start": "2020-03-01", "job_region": "veneto"}, "contract_type_not_paid"),
])
def test_outcome_not_qualifying_says_why(scratch, outcome, detail):
    result = price_claim(scratch, claim(older(), [], outcome))
    (reason,) = result["outcome"]["not_paid"]
    assert reason["code"] == "outcome_not_qualifying" and reason["detail"] == detail
    assert result["payable"] == "0.00"


def test_formula_outcome_in_a_less_developed_region(scratch):
    # m 100, M 300, p 0.8: 100 + 0.3 * 2 * 200 = 220
    result = price_claim(scratch, claim(older(), [], {"contract_type": "fixed_term", "start": "2020-03-01",
                                                      "end": "2020-06-30", "job_region": "calabria"}))
    assert result["outcome"]["payable"] == "220.00"
    assert result["outcome"]["instalments"] == [{"due_after_months": 0, "amount": "220.00",
                                                 "label": "single payment"}]


def test_outcome_outside_validity(scratch):
    result = price_claim(scratch, claim(older(), [], {"contract_type": "open_ended", "start": "2020-05-01",
                                                      "job_region": "lazio"}))
    assert reasons(result["outcome"]) == {"outside_validity": "800.00"}   # band 2: 3 months


@pytest.mark.parametrize("bad, path", [
    ({"extended": "yes"}, "$.extended"),
    ({"outcome": {"contract_type": "permanent", "start": "2020-03-01", "job_region": "lazio"}},
     "$.outcome.contract_type"),
    ({"outcome": {"contract_type": "fixed_term", "start": "2020-03-01", "job_region": "lazio"}}, "$.outcome.end"),
    ({"outcome": {"contract_type": "open_ended", "start": "2020-03-01", "job_region": "lombardy"}},
     "$.outcome.job_region"),
    ({"outcome": {"contract_type": "open_ended", "start": "2020-03-01", "job_region": "lazio",
                  "part_time_share": 2}}, "$.outcome.part_time_share"),
    ({"services": [{"code": "a"}]}, "$.services[0].date"),
    ({"start_date": "2020-02-30"}, "$.start_date"),
])
def test_bad_claim_input_names_the_field(scratch, bad, path):
    with pytest.raises(InputErrors) as exc:
        price_claim(scratch, {**claim(older()), **bad})
    assert path in [p.as_dict()["path"] for p in exc.value.problems]


# -- CLI -------------------------------------------------------------------------------------------
ADR_CLAIM = {"person": {"employment_status": "unemployed", "unemployed_since": "2017-10-01", "income_support": "naspi",
                        "patto_di_servizio": True, "accordo_ricollocazione_24bis": False, "profiling_index": 0.8},
             "start_date": "2018-06-01", "services": [],
             "outcome": {"contract_type": "open_ended", "start": "2018-09-01", "job_region": "lombardia"}}


def test_cli_claim_and_cost(tmp_path, capsys):
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(ADR_CLAIM))
    assert main(["claim", "national/assegno-di-ricollocazione", "--claim", str(path), "--backend", "reference"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["payable"] == "3400.00" and out["policy"]["version"] == "2018"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"person": ADR_CLAIM["person"], "services": [{"code": "f"}]}))
    assert main(["cost", "national/assegno-di-ricollocazione", "--plan", str(plan), "--as-of", "2018-06-01"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == "3400.00"


def test_cli_bad_input_exits_2_with_the_path(tmp_path, capsys):
    path = tmp_path / "claim.json"
    path.write_text(json.dumps({**ADR_CLAIM, "outcome": {**ADR_CLAIM["outcome"], "region": "lombardia"}}))
    assert main(["claim", "national/assegno-di-ricollocazione", "--claim", str(path)]) == 2
    assert "$.outcome.region: unknown field" in capsys.readouterr().err
    path.write_text("{")
    assert main(["claim", "national/assegno-di-ricollocazione", "--claim", str(path)]) == 2


# -- properties ------------------------------------------------------------------------------------
quantities = st.integers(min_value=1, max_value=40).map(lambda q: Decimal(q) / 4)
delivered = st.tuples(st.sampled_from(["a", "c", "g", "spese-generali", "b", "e", "zz"]), st.integers(0, 150),
                      quantities, st.sampled_from(["individual", "group"]))
outcomes = st.one_of(st.none(), st.fixed_dictionaries({
    "contract_type": st.sampled_from(["open_ended", "fixed_term", "apprenticeship"]),
    "start": st.integers(0, 200).map(lambda d: f"2020-{2 + d // 30:02d}-{1 + d % 28:02d}"),
    "duration_months": st.integers(1, 24),
    "part_time_share": st.sampled_from([None, "0.3", "0.5", "1"]),
    "job_region": st.sampled_from(["lazio", "calabria", "lombardia"])}))


def as_services(items):
    return [{"code": c, "date": f"2020-{2 + d // 30:02d}-{1 + d % 28:02d}", "quantity": q, "delivery": dv}
            for c, d, q, dv in items]


def money_ok(text):
    return text is None or Decimal(text).as_tuple().exponent == -2


@settings(max_examples=150, deadline=None)
@given(items=st.lists(delivered, max_size=8), outcome=outcomes, band_older=st.booleans())
def test_a_claim_never_pays_more_than_the_caps_allow(scratch, items, outcome, band_older):
    result = price_claim(scratch, claim(older() if band_older else young(), as_services(items), outcome))
    payable = Decimal(result["payable"])
    assert payable <= Decimal(result["dote"])
    costs = scratch.costs
    for svc in costs.services:
        paid = [x for x in result["lines"] if x["code"] == svc.code]
        if svc.max_quantity is not None:
            assert sum(Decimal(x.get("paid_quantity", "0")) for x in paid) <= svc.max_quantity.value
        if svc.max_amount is not None:
            assert sum(Decimal(x["payable"]) for x in paid) <= svc.max_amount.value
    entries = result["lines"] + ([result["outcome"]] if result["outcome"] else [])
    assert payable == sum(Decimal(x["payable"]) for x in entries)
    for entry in entries:
        assert money_ok(entry["payable"]) and money_ok(entry["claimed"])
        assert all(money_ok(r["amount"]) for r in entry["not_paid"])
        if entry["claimed"] is not None and entry.get("cost_option") != "flat_rate":
            # every euro claimed and not paid has a reason
            unpaid = sum(Decimal(r["amount"]) for r in entry["not_paid"] if r["amount"] is not None)
            assert Decimal(entry["claimed"]) == Decimal(entry["payable"]) + unpaid


@settings(max_examples=150, deadline=None)
@given(items=st.lists(delivered, max_size=6), extra=delivered, outcome=outcomes, band_older=st.booleans())
def test_adding_a_delivered_service_never_lowers_the_payable_total(scratch, items, extra, outcome, band_older):
    person = older() if band_older else young()
    before = price_claim(scratch, claim(person, as_services(items), outcome))
    after = price_claim(scratch, claim(person, as_services(items + [extra]), outcome))
    assert Decimal(after["payable"]) >= Decimal(before["payable"])


@settings(max_examples=80, deadline=None)
@given(hours=st.lists(st.integers(1, 12).map(lambda q: Decimal(q) / 2), max_size=5), p=st.integers(0, 100))
def test_adr_fee_for_service_never_exceeds_three_hours(registry, hours, p):
    policy = registry.get("national/assegno-di-ricollocazione", "2019")
    person = {"employment_status": "unemployed", "income_support": "rdc", "rdc_patto_per_il_lavoro": True,
              "active_measures": [], "accordo_ricollocazione_24bis": False, "profiling_index": Decimal(p) / 100}
    result = price_claim(policy, {"person": person, "start_date": "2020-02-03", "services": [
        {"code": "presa-in-carico-f4s", "date": "2020-02-05", "quantity": h} for h in hours]})
    assert Decimal(result["payable"]) == min(sum(hours, Decimal(0)), Decimal(3)) * Decimal("35.50")
