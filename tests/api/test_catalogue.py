"""Public routes: health and the policy catalogue; 404 for what does not exist."""
from __future__ import annotations

from .conftest import DUL


def test_health_reports_the_store_and_policies(client, registry):
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["policies"] == len(registry.policies)


def test_policies_list_every_edition_with_window_status_and_hash(client, registry):
    listed = client.get("/v1/policies").json()["policies"]
    expected = {(p.id, p.version): p for p in registry.policies}
    assert {(p["id"], p["version"]) for p in listed} == set(expected)
    for item in listed:
        policy = expected[(item["id"], item["version"])]
        assert item["content_hash"] == policy.content_hash
        assert item["valid_from"] == policy.valid_from.isoformat()
        assert item["status"] == policy.status


def test_editions_of_a_programme(client, registry):
    response = client.get(f"/v1/policies/{DUL}")
    assert response.status_code == 200
    assert [e["version"] for e in response.json()] == [p.version for p in registry.editions(DUL)]


def test_one_edition_as_json(client):
    body = client.get(f"/v1/policies/{DUL}/2013").json()
    assert body["summary"]["version"] == "2013"
    assert body["document"]["id"] == DUL
    assert body["document"]["valid_from"] == "2013-10-21"


def test_catalogue_needs_no_key(client):
    assert client.get("/v1/policies", headers={}).status_code == 200


def test_unknown_programme_is_404(client):
    response = client.get("/v1/policies/lombardia/no-such-programme")
    assert response.status_code == 404
    assert "no-such-programme" in response.json()["detail"]


def test_unknown_version_is_404_and_lists_the_versions(client):
    response = client.get(f"/v1/policies/{DUL}/1999")
    assert response.status_code == 404
    assert "2013" in response.json()["detail"]


def test_malformed_programme_id_is_404_not_500(client):
    assert client.get("/v1/policies/LOMBARDIA/dul").status_code == 404


def test_openapi_documents_an_example_for_every_request_body(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    bodies = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                ref = content["schema"].get("$ref") or next(
                    s["$ref"] for s in content["schema"].get("anyOf", []) if "$ref" in s)
                bodies.append((path, ref.split("/")[-1]))
    assert ("/v1/eligibility", "EligibilityRequest") in bodies
    for path, name in bodies:
        assert schemas[name].get("examples"), f"{path}: {name} has no example"
    assert "/v1/decisions/{decision_id}/replay" in spec["paths"]
