"""Issue 19, defect 7: a tampered row is never served as if it were sound.

GET /v1/decisions/{id} answers 200 with an ``integrity`` field and an ``Almp-Integrity`` header:
"ok", or "failed" with the checks that failed (the row's own hash, its links to the rows before
and after it, or to the chain head).
"""
from __future__ import annotations

import pytest

from .conftest import PERSON, decide, headers
from .test_audit import sql


def _get(client, decision_id):
    response = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    assert response.status_code == 200, response.text
    return response


def _three(client):
    return [decide(client, {**PERSON, "gender": g})["decision_id"] for g in "FMF"]


def test_a_sound_row_is_served_as_ok(client):
    ids = _three(client)
    for decision_id in ids:
        response = _get(client, decision_id)
        assert response.headers["Almp-Integrity"] == "ok"
        assert response.json()["integrity"] == {"status": "ok", "problems": []}


def test_an_altered_row_is_flagged_not_served_silently(client, db_url):
    ids = _three(client)
    sql(db_url, "UPDATE decisions SET result_json = REPLACE(result_json, :old, :new) WHERE id = :id",
        old='"eligible":true', new='"eligible":false', id=ids[1])
    response = _get(client, ids[1])
    assert response.headers["Almp-Integrity"] == "failed"
    assert response.json()["integrity"] == {"status": "failed", "problems": ["row_hash_mismatch"]}
    assert _get(client, ids[0]).headers["Almp-Integrity"] == "ok"


def test_a_row_rewritten_with_a_recomputed_hash_is_flagged_by_its_neighbours(client):
    ids = _three(client)
    from api.store.chain import row_hash
    from api.store.tables import Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=ids[1]).one()
        row.caller = "mallory"
        row.row_hash = row_hash(row)
    body = _get(client, ids[1]).json()
    assert body["integrity"] == {"status": "failed", "problems": ["next_link_broken"]}


def test_a_rewritten_last_row_is_flagged_against_the_chain_head(client):
    ids = _three(client)
    from api.store.chain import row_hash
    from api.store.tables import Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=ids[-1]).one()
        row.result_json = row.result_json.replace('"eligible":true', '"eligible":false')
        row.row_hash = row_hash(row)
    body = _get(client, ids[-1]).json()
    assert body["integrity"]["status"] == "failed" and body["integrity"]["problems"] == ["chain_head_mismatch"]


def test_the_integrity_field_and_header_are_in_the_openapi(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/v1/decisions/{decision_id}"]["get"]
    ok = get["responses"]["200"]
    assert "Almp-Integrity" in ok["headers"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    schema = spec["components"]["schemas"][ref]
    assert "integrity" in schema["properties"] and "integrity" in schema["required"]


def test_replaying_an_altered_row_is_flagged_too(client, db_url):
    ids = _three(client)
    sound = client.post(f"/v1/decisions/{ids[0]}/replay", headers=headers("audit"))
    assert sound.status_code == 200 and sound.headers["Almp-Integrity"] == "ok"
    sql(db_url, "UPDATE decisions SET caller = 'mallory' WHERE id = :id", id=ids[0])
    altered = client.post(f"/v1/decisions/{ids[0]}/replay", headers=headers("audit"))
    assert altered.status_code == 200 and altered.headers["Almp-Integrity"] == "failed"
    spec = client.get("/openapi.json").json()
    assert "Almp-Integrity" in spec["paths"]["/v1/decisions/{decision_id}/replay"]["post"]["responses"]["200"]["headers"]


_ALTERATIONS = {
    "created_at": lambda v: v + __import__("datetime").timedelta(seconds=1),
    "policy_id": lambda v: v + "-x", "version": lambda v: "2019", "content_hash": lambda v: "sha256:" + "1" * 64,
    "engine_version": lambda v: v + "+forged", "as_of": lambda v: v + __import__("datetime").timedelta(days=1),
    "caller": lambda v: "mallory", "request_hash": lambda v: "sha256:" + "2" * 64,
    "result_json": lambda v: v.replace('"eligible":true', '"eligible":false'),
    "trace_json": lambda v: "[]" if v != "[]" else "null",
    "idempotency_key": lambda v: "forged-key",
}


@pytest.mark.parametrize("column", sorted(_ALTERATIONS))
def test_altering_any_covered_field_of_a_row_is_flagged(client, column):
    ids = _three(client)
    from api.store.tables import Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=ids[1]).one()
        setattr(row, column, _ALTERATIONS[column](getattr(row, column)))
    response = _get(client, ids[1])
    assert response.headers["Almp-Integrity"] == "failed", column
    assert "row_hash_mismatch" in response.json()["integrity"]["problems"]
    assert _get(client, ids[0]).headers["Almp-Integrity"] == "ok"
