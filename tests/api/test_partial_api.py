"""The API from the data a caller has: partial answers, screening, batches, fact contracts, Italian codes."""
from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
from fastapi.testclient import TestClient
from stdnum.it import codicefiscale

from .conftest import DUL, KEYS, PERSON, POLICIES, headers

JUNE_2019 = "2019-06-01"
PERSON_2019 = {"birth_date": "1961-01-15", "gender": "F", "residence_region": "lombardia",
               "domicile_region": "lombardia", "workplace_region": "lombardia", "employment_status": "unemployed",
               "unemployed_since": "2018-04-01", "income_support": "none", "income_support_since": None,
               "solidarity_agreement": False, "police_or_armed_forces": False, "command_authorisation": False,
               "master_enrolled": False}


def code_for(born: dt.date, gender: str) -> str:
    body = f"BNCLCU{born.year % 100:02d}{'ABCDEHLMPRST'[born.month - 1]}{born.day + (40 if gender == 'F' else 0):02d}F205"
    return body + codicefiscale.calc_check_digit(body)


def eligibility(client, person, as_of=JUNE_2019, version="2019", **extra):
    body = {"policy": DUL, "as_of": as_of, "version": version, "person": person, **extra}
    return client.post("/v1/eligibility", json=body, headers=headers("evaluate"))


def decision(response) -> dict:
    """The answer without what differs between two stored decisions of the same request."""
    return {k: v for k, v in response.json().items() if k != "decision_id"}


def test_a_seventy_year_old_with_only_birth_date_is_not_eligible_with_the_age_reason(client):
    response = eligibility(client, {"birth_date": "1949-01-01"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "not_eligible" and body["eligible"] is False
    assert [r["rule"] for r in body["reasons"]] == ["eta-massima"]
    stored = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers("audit")).json()
    assert stored["result"]["outcome"] == "not_eligible"
    replay = client.post(f"/v1/decisions/{body['decision_id']}/replay", headers=headers("audit"), json={})
    assert replay.json()["identical"] is True


def test_missing_one_deciding_fact_is_undetermined_naming_it_then_decided_with_it(client):
    person = {k: v for k, v in PERSON_2019.items() if k != "employment_status"}
    open_ = eligibility(client, person).json()
    assert open_["outcome"] == "undetermined" and open_["missing"] == ["employment_status"]
    assert open_["ask_next"][0] == {"fact": "employment_status", "label": "Condizione occupazionale",
                                    "settles": 1.0}
    decided = eligibility(client, {**person, "employment_status": "unemployed"}).json()
    assert decided["outcome"] == "eligible" and decided["band"]["id"] == "4" and "missing" not in decided


@pytest.mark.parametrize("field", ["residence_region", "domicile_region"])
def test_lombardia_03_and_lowercase_give_identical_decisions(client, field):
    answers = [decision(eligibility(client, {**PERSON_2019, field: form})) for form in ("Lombardia", "03", "lombardia")]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["regions"][field] == {"code": "lombardia", "istat": "03", "name": "Lombardia"}


def test_an_unknown_region_is_a_422_naming_the_field_and_the_closest_names(client):
    response = eligibility(client, {**PERSON_2019, "residence_region": "Lombardy"})
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "person", "residence_region"] and "'Lombardia'" in item["msg"]


def test_a_wrong_codice_fiscale_check_character_is_a_422_naming_the_field(client):
    code = code_for(dt.date(1961, 1, 15), "F")
    wrong = code[:-1] + ("Z" if code[-1] != "Z" else "Y")
    response = eligibility(client, {**PERSON_2019, "codice_fiscale": wrong})
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["body", "person", "codice_fiscale"] and "carattere di controllo" in item["msg"]
    assert wrong not in response.text


def test_the_codice_fiscale_gives_birth_date_and_gender_and_is_not_stored_in_clear(client):
    code = code_for(dt.date(1961, 1, 15), "F")
    person = {k: v for k, v in PERSON_2019.items() if k not in ("birth_date", "gender")}
    response = eligibility(client, {**person, "codice_fiscale": code})
    assert response.status_code == 200, response.text
    assert decision(response) == decision(eligibility(client, PERSON_2019))
    stored = client.get(f"/v1/decisions/{response.json()['decision_id']}", headers=headers("audit"))
    assert stored.json()["input"]["person"]["birth_date"] == "1961-01-15"
    assert code not in stored.text
    from api.pseudonym import of_codice_fiscale
    with client.app.state.service.store.reading() as session:
        from api.store.repository import get_decision
        assert get_decision(session, response.json()["decision_id"]).subject == of_codice_fiscale(code)
    service = client.app.state.service
    from sqlalchemy import text
    with service.store.engine.connect() as conn:
        for row in conn.execute(text("SELECT * FROM decisions")):
            assert code not in json.dumps([str(v) for v in row])


def test_a_codice_fiscale_contradicting_the_birth_date_names_birth_date(client):
    response = eligibility(client, {**PERSON_2019, "codice_fiscale": code_for(dt.date(1970, 3, 3), "F")})
    assert response.status_code == 422
    assert [i["loc"] for i in response.json()["detail"]] == [["body", "person", "birth_date"]]


# -- screening ----------------------------------------------------------------------------------------
@pytest.fixture
def full_client(db_url, keyring):
    """The service over every shipped programme."""
    from api.app import create_app
    from engine.policy.registry import Registry
    app = create_app(database_url=db_url, keys=keyring, migrate=False, registry=Registry.load(POLICIES))
    yield TestClient(app)
    app.state.service.store.close()


def test_screening_returns_every_programme_in_force_that_day_eligible_first(full_client):
    from engine.policy.registry import Registry
    registry = Registry.load(POLICIES)
    day = dt.date(2019, 6, 1)
    in_force = {(p.id, p.version) for p in registry.policies
                if p.status != "draft" and p.subject == "person" and p.in_force(day)}
    response = full_client.post("/v1/screening", json={"as_of": JUNE_2019, "person": PERSON_2019},
                                headers=headers("evaluate"))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert {(r["policy"], r["version"]) for r in results} == in_force and len(results) == len(in_force)
    order = {"eligible": 0, "undetermined": 1, "not_eligible": 2}
    assert [order[r["outcome"]] for r in results] == sorted(order[r["outcome"]] for r in results)
    dul = next(r for r in results if r["policy"] == DUL)
    assert dul["outcome"] == "eligible" and dul["band"]["id"] == "4"
    for r in results:  # each programme is a decision of its own, like a single request's
        stored = full_client.get(f"/v1/decisions/{r['decision_id']}", headers=headers("audit")).json()
        assert stored["policy_id"] == r["policy"] and stored["result"]["outcome"] == r["outcome"]


def test_screening_by_authority_and_an_unknown_authority(full_client):
    body = {"as_of": JUNE_2019, "person": PERSON_2019, "authority": "basilicata"}
    results = full_client.post("/v1/screening", json=body, headers=headers("evaluate")).json()["results"]
    assert results and all(r["policy"].startswith("basilicata/") for r in results)
    wrong = full_client.post("/v1/screening", json={**body, "authority": "basilicta"}, headers=headers("evaluate"))
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "authority"] and "basilicata" in wrong.json()["detail"][0]["msg"]


# -- batch --------------------------------------------------------------------------------------------
def batch(client, lines, **extra_headers):
    payload = "\n".join(json.dumps(line) if not isinstance(line, str) else line for line in lines) + "\n"
    return client.post("/v1/eligibility/batch", content=payload.encode(),
                       headers=headers("evaluate", **{"Content-Type": "application/x-ndjson", **extra_headers}))


def test_a_batch_answers_each_line_as_the_single_endpoint_does_and_stores_it(client):
    persons = [PERSON_2019, {"birth_date": "1949-01-01"}, {k: v for k, v in PERSON_2019.items() if k != "gender"},
               {**PERSON_2019, "residence_region": "03", "employment_status": "employed"}]
    lines = [{"ref": f"p{i}", "policy": DUL, "as_of": JUNE_2019, "version": "2019", "person": p}
             for i, p in enumerate(persons)]
    lines.insert(2, "{not json")
    lines.insert(3, {"ref": "bad", "policy": DUL, "as_of": JUNE_2019, "person": {"birth_date": "yesterday"}})
    response = batch(client, lines)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    answers = [json.loads(line) for line in response.text.splitlines()]
    assert [a["line"] for a in answers] == list(range(1, len(lines) + 1))
    assert [a["status"] for a in answers] == [200, 200, 422, 422, 200, 200]
    assert answers[3]["detail"][0]["loc"] == ["line", 4, "person", "birth_date"]
    good = [a for a in answers if a["status"] == 200]
    for answer, person in zip(good, persons):
        single = decision(eligibility(client, person))
        assert answer["engine"]["backend"] == "batch"
        assert {k: v for k, v in answer.items() if k not in ("line", "ref", "status", "decision_id", "engine")} == \
            {k: v for k, v in single.items() if k not in ("trace", "engine")}
        stored = client.get(f"/v1/decisions/{answer['decision_id']}", headers=headers("audit")).json()
        assert stored["kind"] == "batch"
        replay = client.post(f"/v1/decisions/{answer['decision_id']}/replay", headers=headers("audit"), json={})
        assert replay.json()["identical"] is True


def test_a_batch_retried_with_the_same_key_stores_nothing_twice(client):
    lines = [{"policy": DUL, "as_of": JUNE_2019, "version": "2019", "person": PERSON_2019}] * 3
    first = [json.loads(x)["decision_id"] for x in batch(client, lines, **{"Idempotency-Key": "night-1"}).text.splitlines()]
    again = [json.loads(x)["decision_id"] for x in batch(client, lines, **{"Idempotency-Key": "night-1"}).text.splitlines()]
    assert first == again and len(set(first)) == 3


def test_a_batch_over_the_limit_is_refused_before_anything_is_stored(client, monkeypatch):
    from api import batch as batch_module
    monkeypatch.setattr(batch_module, "MAX_LINES", 2)
    lines = [{"policy": DUL, "as_of": JUNE_2019, "person": PERSON_2019}] * 3
    response = batch(client, lines)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]


# -- fact contracts -----------------------------------------------------------------------------------
def test_the_fact_contract_describes_the_edition_and_accepts_what_the_engine_accepts(client):
    contract = client.get(f"/v1/policies/{DUL}/2019/facts").json()
    jsonschema.Draft202012Validator.check_schema(contract)
    props = contract["properties"]
    assert props["employment_status"]["title"] == "Condizione occupazionale"
    assert {"const": "unemployed", "title": "disoccupato"} in props["employment_status"]["anyOf"]
    assert "null" in props["unemployed_since"]["type"]
    assert "birth_date" in contract["x-almp-required-for-decided"] and "age" in contract["x-almp-derived"]
    validator = jsonschema.Draft202012Validator(contract, format_checker=jsonschema.FormatChecker())
    for form in ("Lombardia", "03", "lombardia"):
        assert not list(validator.iter_errors({**PERSON_2019, "residence_region": form}))
    assert list(validator.iter_errors({**PERSON_2019, "residence_region": "Lombardy"}))
    assert list(validator.iter_errors({**PERSON_2019, "age": 40}))  # derived: never sent


def test_every_openapi_example_person_validates_against_its_editions_contract(client):
    spec = client.get("/openapi.json").json()
    registry = client.app.state.service.registry
    checked = 0
    for name, schema in spec["components"]["schemas"].items():
        for example in schema.get("examples", []):
            person = example.get("person") or (example.get("plan") or example.get("claim") or {}).get("person")
            if not person or "policy" not in example:
                continue
            policy = registry.get(example["policy"], example.get("version"), dt.date.fromisoformat(example["as_of"]))
            contract = client.get(f"/v1/policies/{policy.id}/{policy.version}/facts").json()
            errors = list(jsonschema.Draft202012Validator(contract).iter_errors(person))
            assert not errors, (name, [e.message for e in errors])
            checked += 1
    assert checked >= 3
    assert "x-almp-fact-contract" in json.dumps(spec["components"]["schemas"]["EligibilityRequest"])
