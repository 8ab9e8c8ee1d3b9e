"""POST /v1/eligibility is served by a plain route for good requests; every other request gets the
documented FastAPI route's answer, byte for byte (checked against an app without the direct route)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from api.routes import direct

from .conftest import KEYS, PERSON, eligibility_body


def _without_direct(client):
    routes = client.app.router.routes
    index = next(i for i, r in enumerate(routes) if isinstance(r, direct.DirectRoute))
    return routes.pop(index), index


def _both(client, body: bytes, hdrs: dict):
    """(status, body, headers) from the app as built, then from the same app without the direct route."""
    first = client.post("/v1/eligibility", content=body, headers=hdrs)
    route, index = _without_direct(client)
    try:
        second = client.post("/v1/eligibility", content=body, headers=hdrs)
    finally:
        client.app.router.routes.insert(index, route)
    return first, second


def _shown(response):
    data = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if isinstance(data, dict):
        data.pop("decision_id", None)
    return response.status_code, data, response.headers.get("www-authenticate"), response.headers.get("allow")


JSON = {"Content-Type": "application/json"}
GOOD = json.dumps(eligibility_body()).encode()
CASES = [
    ("good", GOOD, {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("bearer", GOOD, {**JSON, "Authorization": f"Bearer {KEYS['evaluate']}"}),
    ("admin key", GOOD, {**JSON, "X-API-Key": KEYS["admin"]}),
    ("no key", GOOD, JSON),
    ("unknown key", GOOD, {**JSON, "X-API-Key": "nope"}),
    ("wrong role", GOOD, {**JSON, "X-API-Key": KEYS["audit"]}),
    ("basic scheme", GOOD, {**JSON, "Authorization": f"Basic {KEYS['evaluate']}"}),
    ("bad json", b'{"policy": ', {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("bad json, no key", b'{"policy": ', JSON),
    ("null", b"null", {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("list", b"[1]", {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("empty", b"", {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("extra field", json.dumps(eligibility_body(colour="red")).encode(), {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("no person", json.dumps({"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01"}).encode(),
     {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("bad date", json.dumps(eligibility_body(as_of="2014-02-30")).encode(), {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("bad fact", json.dumps(eligibility_body({**PERSON, "birth_date": "soon"})).encode(),
     {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("no such policy", json.dumps({**eligibility_body(), "policy": "x/y"}).encode(),
     {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("lone surrogate", b'{"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": {"a\\ud800": 1}}',
     {**JSON, "X-API-Key": KEYS["evaluate"]}),
    ("text/plain", GOOD, {"Content-Type": "text/plain", "X-API-Key": KEYS["evaluate"]}),
    ("no content type", GOOD, {"X-API-Key": KEYS["evaluate"]}),
    ("empty idempotency key", GOOD, {**JSON, "X-API-Key": KEYS["evaluate"], "Idempotency-Key": ""}),
    ("long idempotency key", GOOD, {**JSON, "X-API-Key": KEYS["evaluate"], "Idempotency-Key": "k" * 256}),
]


@pytest.mark.parametrize("name,body,hdrs", CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_the_documented_route(client, name, body, hdrs):
    first, second = _both(client, body, hdrs)
    assert _shown(first) == _shown(second)


def test_good_requests_skip_the_documented_route(client, monkeypatch):
    # the documented route's handler fails if reached: a good request must not get there
    import fastapi.dependencies.utils as utils

    async def refused(*_a, **_k):
        raise AssertionError("dependency solving reached")
    monkeypatch.setattr(utils, "solve_dependencies", refused)
    import fastapi.routing as routing
    monkeypatch.setattr(routing, "solve_dependencies", refused)
    answer = client.post("/v1/eligibility", content=GOOD, headers={**JSON, "X-API-Key": KEYS["evaluate"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Location"] == f"/v1/decisions/{answer.json()['decision_id']}"
    assert answer.headers["Idempotent-Replayed"] == "false"


def test_idempotent_retry_on_the_direct_route(client):
    hdrs = {**JSON, "X-API-Key": KEYS["evaluate"], "Idempotency-Key": "direct-1"}
    first = client.post("/v1/eligibility", content=GOOD, headers=hdrs)
    again = client.post("/v1/eligibility", content=GOOD, headers=hdrs)
    other = client.post("/v1/eligibility", content=json.dumps(eligibility_body(as_of="2014-03-02")).encode(),
                        headers=hdrs)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409


def test_openapi_still_documents_the_route(client):
    post = client.get("/openapi.json").json()["paths"]["/v1/eligibility"]["post"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(post["responses"])
    assert "requestBody" in post


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=60),
                      st.dictionaries(st.sampled_from(["policy", "as_of", "version", "person", "x"]),
                                      st.one_of(st.none(), st.integers(), st.text(max_size=12),
                                                st.just("lombardia/dote-unica-lavoro"), st.just("2014-03-01"),
                                                st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
                                      max_size=5).map(lambda d: json.dumps(d).encode())))
def test_any_body_same_answer(client, body):
    first, second = _both(client, body, {**JSON, "X-API-Key": KEYS["evaluate"]})
    assert _shown(first) == _shown(second)
