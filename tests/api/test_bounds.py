"""Hostile input (issue 19, defects 1, 2, 4 and 9): bounded, answered 413/422 with the field path, never 500,
never silently accepted, and never stalling the other requests of the worker."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import text

from .conftest import DUL, PERSON, eligibility_body, headers

PLAN_PERSON = PERSON


def post_text(client, path: str, text_body: str | bytes, role: str = "evaluate"):
    return client.post(path, content=text_body, headers=headers(role, **{"Content-Type": "application/json"}))


def stored_decisions(client) -> int:
    with client.app.state.service.store.reading() as session:
        return session.execute(text("SELECT count(*) FROM decisions")).scalar()


def locs(response) -> list:
    return [item["loc"] for item in response.json()["detail"]]


# -- defect 1: body size, fact count, error count, the event loop ----------------------------------------
def test_a_3_mb_person_of_100000_unknown_keys_is_refused_unread_with_413(client):
    person = {**PERSON, **{f"k{i:06d}": i for i in range(100_000)}}
    body = json.dumps(eligibility_body(person))
    assert len(body) > 1_500_000
    response = post_text(client, "/v1/eligibility", body)
    assert response.status_code == 413
    assert "nulla è stato letto né registrato" in response.json()["detail"]
    assert stored_decisions(client) == 0


def test_a_person_of_more_keys_than_the_dictionary_has_facts_is_one_422_problem(client):
    # ~0.9 MB, under the body limit: refused by counting the keys, before any key is looked up
    person = {**PERSON, **{f"k{i}": 0 for i in range(70_000)}}
    response = post_text(client, "/v1/eligibility", json.dumps(eligibility_body(person)))
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "person"] and item["type"] == "too_many_items"


def test_a_hundred_bad_lines_report_fifty_problems_and_how_many_more(client):
    claim = {"person": PERSON, "start_date": "2014-03-01",
             "services": [{"code": "e", "date": "2014-03-10", "quantity": -1}] * 100}
    response = client.post("/v1/claims", json={"policy": DUL, "as_of": "2014-03-01", "claim": claim},
                           headers=headers("evaluate"))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == 51
    assert detail[-1]["type"] == "too_many_errors" and "altri 50 problemi" in detail[-1]["msg"]
    assert detail[0]["loc"] == ["body", "claim", "services", 0, "quantity"]


def test_health_answers_while_a_decision_is_being_computed(client, monkeypatch):
    """CPU-bound work runs off the event loop: a decision that computes for as long as it likes does not
    hold /v1/health (before, the health check waited for the whole decision)."""
    import api.service as service_module

    entered, release = threading.Event(), threading.Event()
    real = service_module.run_engine

    def slow_engine(*args, **kwargs):
        entered.set()
        release.wait(30)  # stands for a long computation holding the thread it runs on
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "run_engine", slow_engine)
    answers: dict = {}
    with client:  # one event loop for every request, as in a server worker
        decision = threading.Thread(target=lambda: answers.setdefault(
            "decision", client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate"))))
        decision.start()
        try:
            assert entered.wait(30), "the decision never started"
            health = threading.Thread(target=lambda: answers.setdefault("health", client.get("/v1/health")))
            health.start()
            health.join(10)
            answered_while_computing = not health.is_alive()
        finally:
            release.set()
            decision.join(30)
            if "health" not in answers:
                health.join(30)
    assert answered_while_computing, "/v1/health waited for a decision being computed"
    assert answers["health"].status_code == 200
    assert answers["decision"].status_code == 200


# -- defect 2: every list bounded ---------------------------------------------------------------------
def test_a_plan_of_200000_services_is_422_with_the_path_and_not_stored(client):
    plan = {"person": PLAN_PERSON, "services": [{}] * 200_000}  # 0.6 MB: under the body limit
    response = client.post("/v1/plans", json={"policy": DUL, "as_of": "2014-03-01", "plan": plan},
                           headers=headers("evaluate"))
    assert response.status_code == 422
    assert locs(response) == [["body", "plan", "services"]]
    assert response.json()["detail"][0]["type"] == "too_many_items"
    assert stored_decisions(client) == 0


def test_a_plan_of_200000_real_lines_is_413(client):
    plan = {"person": PLAN_PERSON, "services": [{"code": "a", "quantity": 1}] * 200_000}
    response = client.post("/v1/plans", json={"policy": DUL, "as_of": "2014-03-01", "plan": plan},
                           headers=headers("evaluate"))
    assert response.status_code == 413
    assert stored_decisions(client) == 0


def test_a_list_fact_longer_than_its_values_is_refused(client, registry):
    policy = registry.get(DUL, "2013")
    lists = [f for f in policy.dictionary.facts.values() if f.type.kind == "list" and f.of("person")]
    if not lists:
        pytest.skip("no list fact in the dictionary")
    fact = lists[0]
    value = [fact.type.item.values[0]] * (len(fact.type.item.values) + 1)
    response = client.post("/v1/eligibility", json=eligibility_body({**PERSON, fact.name: value}),
                           headers=headers("evaluate"))
    assert response.status_code == 422
    assert ["body", "person", fact.name] in locs(response)


# -- defect 4: hostile values are 422 with the path, never 500 --------------------------------------------
def test_a_quantity_of_1e400_is_422_at_its_path(client):
    body = ('{"policy": "%s", "as_of": "2014-03-01", "plan": {"person": %s, "services": '
            '[{"code": "a", "quantity": 1e400}]}}' % (DUL, json.dumps(PLAN_PERSON)))
    response = post_text(client, "/v1/plans", body)
    assert response.status_code == 422, response.text
    assert locs(response) == [["body", "plan", "services", 0, "quantity"]]


def test_a_claim_starting_9999_12_01_is_422_at_its_path(client):
    claim = {"person": PERSON, "start_date": "9999-12-01",
             "services": [{"code": "e", "date": "2014-03-10", "quantity": 2}]}
    response = client.post("/v1/claims", json={"policy": DUL, "as_of": "2014-03-01", "claim": claim},
                           headers=headers("evaluate"))
    assert response.status_code == 422, response.text
    assert ["body", "claim", "start_date"] in locs(response)


@pytest.mark.parametrize("where", ["fact name", "fact value", "service code"])
def test_a_lone_surrogate_is_422_at_its_path(client, where):
    person = json.dumps(PERSON)[:-1]
    if where == "fact name":
        path, body = "/v1/eligibility", '{"policy": "%s", "as_of": "2014-03-01", "person": %s, "\\udfff": 1}}' % (
            DUL, person)
        expected = ["body", "person", "\\udfff"]
    elif where == "fact value":
        path, body = "/v1/eligibility", '{"policy": "%s", "as_of": "2014-03-01", "person": %s, "gender": "\\udfff"}}' % (
            DUL, json.dumps({k: v for k, v in PERSON.items() if k != "gender"})[:-1])
        expected = ["body", "person", "gender"]
    else:
        path = "/v1/plans"
        body = ('{"policy": "%s", "as_of": "2014-03-01", "plan": {"person": %s, "services": [{"code": "\\udfff"}]}}'
                % (DUL, json.dumps(PERSON)))
        expected = ["body", "plan", "services", 0, "code"]
    response = post_text(client, path, body)
    assert response.status_code == 422, response.text
    assert locs(response) == [expected]
    assert response.json()["detail"][0]["type"] == "invalid_text"


def test_a_batch_line_with_a_lone_surrogate_is_answered_422_and_the_others_decided(client):
    good = json.dumps({"ref": "ok", "policy": DUL, "as_of": "2014-03-01", "person": PERSON})
    bad = '{"ref": "bad", "policy": "%s", "as_of": "2014-03-01", "person": {"\\udfff": 1}}' % DUL
    response = client.post("/v1/eligibility/batch", content=(good + "\n" + bad + "\n").encode(),
                           headers=headers("evaluate", **{"Content-Type": "application/x-ndjson"}))
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["status"] for line in lines] == [200, 422]
    assert lines[1]["detail"][0]["loc"] == ["line", 2, "person", "\\udfff"]


# -- defect 9: the contract says what is accepted, and only that is -----------------------------------------
@pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"policy": 1' + b"[" * 100_000, b'{"n": 1' + b"0" * 5000 + b"}"])
def test_a_body_that_is_not_json_text_is_a_documented_422_never_400(client, body):
    response = post_text(client, "/v1/eligibility", body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list) and response.json()["detail"][0]["loc"][0] == "body"


def test_every_post_documents_422_and_413(client):
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        if "post" in operations and path.startswith("/v1/"):
            assert {"422", "413"} <= set(operations["post"]["responses"]), path


@pytest.mark.parametrize("body", ["1.5", "0.0", "null", "[]", '"2013"'])
def test_replay_refuses_a_body_that_is_not_an_object(client, body):
    decision = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate")).json()
    response = post_text(client, f"/v1/decisions/{decision['decision_id']}/replay", body, role="audit")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_replay_with_no_body_or_an_empty_object_is_exact(client):
    decision = client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate")).json()
    url = f"/v1/decisions/{decision['decision_id']}/replay"
    assert client.post(url, headers=headers("audit")).json()["identical"] is True
    assert post_text(client, url, "{}", role="audit").json()["identical"] is True


@pytest.mark.parametrize("as_of", ["20140301", "2014-W09-6", "2014-060", "2014-03-01T00:00", "9999-12-31"])
def test_as_of_is_strictly_yyyy_mm_dd(client, as_of):
    response = client.post("/v1/eligibility", json=eligibility_body(as_of=as_of), headers=headers("evaluate"))
    assert response.status_code == 422, response.text
    assert locs(response) == [["body", "as_of"]]


@pytest.mark.parametrize("born", ["9999-01-01", "2014-03-02", "2020-01-01"])
def test_a_birth_date_after_as_of_is_refused_not_decided(client, born):
    response = client.post("/v1/eligibility", json=eligibility_body({**PERSON, "birth_date": born}),
                           headers=headers("evaluate"))
    assert response.status_code == 422, response.text
    assert locs(response) == [["body", "person", "birth_date"]]
    assert stored_decisions(client) == 0


def test_a_birth_on_as_of_is_a_person_aged_zero_not_an_error(client):
    response = client.post("/v1/eligibility", json=eligibility_body({**PERSON, "birth_date": "2014-03-01"}),
                           headers=headers("evaluate"))
    assert response.status_code == 200, response.text



def test_the_openapi_person_lists_every_fact_and_says_none_is_required(client, registry):
    import jsonschema
    spec = client.get("/openapi.json").json()
    person = spec["components"]["schemas"]["Person"]
    request = spec["components"]["schemas"]["EligibilityRequest"]["properties"]["person"]
    assert request["$ref"] == "#/components/schemas/Person" and "x-almp-required-for-decided" in request["description"]
    assert person["required"] == [] and person["additionalProperties"] is False
    inputs = {n for n, f in registry.dictionary.facts.items() if f.of("person") and not f.computed}
    assert set(person["properties"]) == inputs | {"codice_fiscale"}
    jsonschema.validate(PERSON, person)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**PERSON, "eta": 54}, person)  # a derived or unknown fact is not part of it
    plan = spec["components"]["schemas"]["Plan"]
    assert plan["required"] == ["person", "services"] and "Every fact the edition reads is required" in \
        plan["properties"]["person"]["description"]


def test_a_body_sent_in_chunks_is_refused_as_soon_as_it_passes_the_limit(client):
    chunk = b" " * 65536
    sent = []

    def body():
        yield b'{"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": {}'
        for _ in range(64):  # 4 MiB of spaces, without a Content-Length
            sent.append(1)
            yield chunk
        yield b"}"
    response = client.post("/v1/eligibility", content=body(),
                           headers=headers("evaluate", **{"Content-Type": "application/json"}))
    assert response.status_code == 413
    assert "nulla è stato letto né registrato" in response.json()["detail"]
