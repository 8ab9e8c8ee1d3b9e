"""Access control: every operation of the OpenAPI schema, tried with no key, an unknown key and each role.

The matrix is built from the app's own schema, so a new route cannot escape it: a route is
either listed as public here or must refuse callers without the role it requires.
"""
from __future__ import annotations

import re

import pytest

from .conftest import KEYS, decide

PUBLIC = {"GET /v1/health", "GET /v1/policies", "GET /v1/policies/{authority}/{programme}",
          "GET /v1/policies/{authority}/{programme}/{version}",
          "GET /v1/policies/{authority}/{programme}/{version}/facts"}
NEEDS = {"POST /v1/eligibility": "evaluate", "POST /v1/plans": "evaluate", "POST /v1/claims": "evaluate",
         "POST /v1/screening": "evaluate", "POST /v1/eligibility/batch": "evaluate",
         "GET /v1/decisions/{decision_id}": "audit", "POST /v1/decisions/{decision_id}/replay": "audit",
         "GET /v1/decisions/{decision_id}/statement": "audit", "POST /v1/subjects/erase": "admin",
         "GET /v1/audit/reads": "audit"}
ROLES = ("evaluate", "audit", "admin")


def _operations(client) -> list[str]:
    spec = client.get("/openapi.json").json()
    return sorted(f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops)


def _call(client, operation: str, decision_id: str, key: str | None, bearer: bool = False):
    method, path = operation.split(" ")
    path = path.replace("{decision_id}", decision_id)
    path = re.sub(r"\{authority\}/\{programme\}", "lombardia/dote-unica-lavoro", path).replace("{version}", "2013")
    headers = {} if key is None else {"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key}
    body = {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": {}}
    return client.request(method, path, headers=headers, json=body if method == "POST" and "replay" not in path
                          else None)


def test_every_operation_is_classified(client):
    assert set(_operations(client)) <= PUBLIC | set(NEEDS), "a new route must be added to the access matrix"
    assert "POST /v1/eligibility" in _operations(client)


def test_access_matrix(client):
    decision_id = decide(client)["decision_id"]
    operations = _operations(client)
    for operation in operations:
        if operation in PUBLIC:
            assert _call(client, operation, decision_id, None).status_code == 200, operation
            continue
        needed = NEEDS[operation]
        for key, bearer in ((None, False), ("not-a-key", False), ("not-a-key", True), ("", False)):
            response = _call(client, operation, decision_id, key, bearer)
            assert response.status_code == 401, (operation, key, response.text)
            assert response.headers.get("www-authenticate") == "Bearer"
        for role in ROLES:
            for bearer in (False, True):
                response = _call(client, operation, decision_id, KEYS[role], bearer)
                allowed = role == needed or role == "admin"
                if allowed:
                    # past the gate: whatever the operation answers, it is not an access refusal
                    assert response.status_code not in (401, 403), (operation, role, response.text)
                else:
                    assert response.status_code == 403, (operation, role, response.text)
                    assert f"'{needed}'" in response.json()["detail"]


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_a_refused_request_stores_nothing(client, header):
    decide(client)
    value = KEYS["audit"] if header == "X-API-Key" else f"Bearer {KEYS['audit']}"
    body = {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": {}}
    assert client.post("/v1/eligibility", json=body, headers={header: value}).status_code == 403
    from api.store.repository import verify_chain
    with client.app.state.service.store.reading() as session:
        report = verify_chain(session)
    assert report.ok and report.checked == 1  # only the decision made above with the evaluate key
