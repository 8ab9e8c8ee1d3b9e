"""POST /v1/plans and /v1/claims: stored as decisions of kind plan/claim, replayable, 422 by path."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import json

import pytest

from api import jsontext

from .conftest import DUL, PERSON, headers


@pytest.fixture
def costed(client, registry):
    if getattr(registry.get(DUL, "2013"), "costs", None) is None:
        pytest.skip("DUL 2013 declares no service basket in this checkout")
    return client


def post(client, path, body, **extra):
    return client.post(path, json=body, headers=headers("evaluate", **extra))


def plan_body(services=None, person=None):
    return {"policy": DUL, "as_of": "2014-03-01",
            "plan": {"person": person or PERSON, "services": services or [{"code": "a", "quantity": 2.5}]}}


def claim_body(services=None):
    return {"policy": DUL, "as_of": "2014-03-01",
            "claim": {"person": PERSON, "start_date": "2014-03-01",
                      "services": services or [{"code": "a", "date": "2014-03-10", "quantity": 2}]}}


def test_plan_is_costed_stored_and_replays_identically(costed, registry):
    from engine.costs.plans import cost_plan
    response = post(costed, "/v1/plans", plan_body())
    assert response.status_code == 200, response.text
    body = response.json()
    plan = {"person": PERSON, "services": [{"code": "a", "quantity": Decimal("2.5")}]}
    expected = cost_plan(registry.get(DUL, "2013"), plan, dt.date(2014, 3, 1))
    assert {k: v for k, v in body.items() if k != "decision_id"} == json.loads(jsontext.dumps(expected))
    stored = costed.get(f"/v1/decisions/{body['decision_id']}", headers=headers("audit")).json()
    assert stored["kind"] == "plan"
    assert stored["input"]["plan"]["services"] == [{"code": "a", "quantity": 2.5}]
    report = costed.post(f"/v1/decisions/{body['decision_id']}/replay", headers=headers("audit")).json()
    assert report["identical"] is True


def test_plan_errors_are_422_under_body_plan(costed):
    response = post(costed, "/v1/plans", plan_body(services=[{"code": "a", "hours": 2}]))
    assert response.status_code == 422
    assert ["body", "plan", "services", 0, "hours"] in [i["loc"] for i in response.json()["detail"]]
    person = {k: v for k, v in PERSON.items() if k != "education_level"}
    response = post(costed, "/v1/plans", plan_body(person=person))
    assert response.status_code == 422
    assert ["body", "plan", "person", "education_level"] in [i["loc"] for i in response.json()["detail"]]


def test_plan_needs_the_evaluate_role(costed):
    assert costed.post("/v1/plans", json=plan_body(), headers=headers("audit")).status_code == 403
    assert costed.post("/v1/plans", json=plan_body()).status_code == 401


def test_claim_is_priced_stored_and_replays_identically(costed):
    response = post(costed, "/v1/claims", claim_body())
    assert response.status_code == 200, response.text
    decision_id = response.json()["decision_id"]
    assert costed.get(f"/v1/decisions/{decision_id}", headers=headers("audit")).json()["kind"] == "claim"
    report = costed.post(f"/v1/decisions/{decision_id}/replay", headers=headers("audit")).json()
    assert report["identical"] is True


def test_claim_errors_are_422_under_body_claim(costed):
    response = post(costed, "/v1/claims", claim_body(services=[{"code": "a", "date": "10/03/2014"}]))
    assert response.status_code == 422
    assert ["body", "claim", "services", 0, "date"] in [i["loc"] for i in response.json()["detail"]]
    response = costed.post("/v1/claims", json={**claim_body(), "claims": {}}, headers=headers("evaluate"))
    assert response.status_code == 422 and ["body", "claims"] in [i["loc"] for i in response.json()["detail"]]


def test_plan_idempotency(costed):
    first = post(costed, "/v1/plans", plan_body(), **{"Idempotency-Key": "p1"})
    again = post(costed, "/v1/plans", plan_body(), **{"Idempotency-Key": "p1"})
    assert first.json()["decision_id"] == again.json()["decision_id"]
    other = post(costed, "/v1/plans", plan_body(services=[{"code": "a", "quantity": 1}]), **{"Idempotency-Key": "p1"})
    assert other.status_code == 409
