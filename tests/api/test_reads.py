"""Every read is recorded: who read or replayed which decision, when and why, in its own chain (issue 19)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from almp.cli import main

from .conftest import decide, headers
from .test_erasure import BORN, decide as decide_with_code, erase


def entries(client, **params):
    response = client.get("/v1/audit/reads", params=params, headers=headers("audit"))
    assert response.status_code == 200, response.text
    return response.json()


def sql(db_url, statement, **params):
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def test_a_read_a_replay_and_a_statement_are_each_recorded_with_who_and_why(client):
    decision_id = decide_with_code(client, BORN[0])["decision_id"]
    assert entries(client)["reads"] == []  # deciding is not reading
    got = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit", **{"X-Purpose": "ricorso prot. 12"}))
    assert got.status_code == 200
    client.post(f"/v1/decisions/{decision_id}/replay?purpose=controllo%20a%20campione", headers=headers("admin"))
    client.get(f"/v1/decisions/{decision_id}/statement", headers=headers("audit", **{"X-Purpose": "accesso agli atti"}))
    body = entries(client)
    assert body["chain"] == {"ok": True, "entries": 3, "problem": None, "first_bad_seq": None}
    reads = body["reads"]
    assert [(r["seq"], r["caller"], r["action"], r["purpose"]) for r in reads] == [
        (1, "audit-tester", "read", "ricorso prot. 12"), (2, "admin-tester", "replay", "controllo a campione"),
        (3, "audit-tester", "statement.json", "accesso agli atti")]
    assert {r["decision_id"] for r in reads} == {decision_id}
    assert all(r["subject"] and r["subject"].startswith("ps1:") and r["via"] == "api" and r["outcome"] == "ok"
               for r in reads)
    assert entries(client, decision_id="other")["reads"] == []
    assert [r["seq"] for r in entries(client, after=1, limit=1)["reads"]] == [2]
    assert len(entries(client, subject=reads[0]["subject"])["reads"]) == 3


def test_no_purpose_is_recorded_as_unspecified_unless_the_service_requires_one(client, monkeypatch):
    decision_id = decide(client)["decision_id"]
    client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    assert entries(client)["reads"][0]["purpose"] == "unspecified"
    monkeypatch.setenv("ALMP_REQUIRE_PURPOSE", "1")
    refused = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    assert refused.status_code == 428 and refused.json()["detail"]["code"] == "purpose_required"
    assert "input" not in refused.text
    replay = client.post(f"/v1/decisions/{decision_id}/replay", headers=headers("audit"))
    assert replay.status_code == 428
    assert len(entries(client)["reads"]) == 1
    assert client.get(f"/v1/decisions/{decision_id}", headers=headers("audit", **{"X-Purpose": "x"})).status_code == 200


def test_a_purpose_with_control_characters_is_a_422_naming_the_header(client):
    decision_id = decide(client)["decision_id"]
    response = client.get(f"/v1/decisions/{decision_id}", params={"purpose": "a\x07b"}, headers=headers("audit"))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["header", "X-Purpose"]
    assert entries(client)["reads"] == []


def test_reading_an_erased_decision_is_recorded_as_such(client):
    decision_id = decide_with_code(client, BORN[1])["decision_id"]
    erase(client, BORN[1])
    assert client.get(f"/v1/decisions/{decision_id}", headers=headers("audit")).status_code == 410
    assert client.post(f"/v1/decisions/{decision_id}/replay", headers=headers("audit")).status_code == 410
    assert [(r["action"], r["outcome"]) for r in entries(client)["reads"]] == [("read", "erased"),
                                                                                ("replay", "erased")]


def test_only_auditors_see_the_read_log(client):
    assert client.get("/v1/audit/reads", headers=headers("evaluate")).status_code == 403
    assert client.get("/v1/audit/reads").status_code == 401


def test_audit_verify_checks_the_read_log_and_names_the_altered_entry(client, db_url, capsys):
    decision_id = decide(client)["decision_id"]
    for purpose in ("uno", "due", "tre"):
        client.get(f"/v1/decisions/{decision_id}", headers=headers("audit", **{"X-Purpose": purpose}))
    assert main(["audit", "verify", "--database", db_url]) == 0
    assert "3 letture di decisioni registrate" in capsys.readouterr().out
    sql(db_url, "UPDATE read_log SET purpose = 'altro' WHERE seq = 2")
    assert main(["audit", "verify", "--database", db_url]) == 1
    assert "una voce è stata alterata (voce 2)" in capsys.readouterr().err
    assert entries(client)["chain"]["ok"] is False


def test_removing_the_last_read_is_caught_by_the_read_head(client, db_url, capsys):
    decision_id = decide(client)["decision_id"]
    for _ in range(2):
        client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    sql(db_url, "DELETE FROM read_log WHERE seq = 2")
    assert main(["audit", "verify", "--database", db_url]) == 1
    assert "REGISTRO DELLE LETTURE COMPROMESSO" in capsys.readouterr().err


def test_a_replay_on_the_command_line_is_recorded_and_listed(client, db_url, capsys):
    decision_id = decide(client)["decision_id"]
    capsys.readouterr()
    assert main(["replay", decision_id, "--purpose", "verifica ispettiva", "--database", db_url]) == 0
    capsys.readouterr()
    assert main(["audit", "reads", "--decision", decision_id, "--database", db_url]) == 0
    out = capsys.readouterr()
    assert "replay" in out.out and "cli" in out.out and "verifica ispettiva" in out.out
    assert "1 letture elencate" in out.err


# -- any alteration of any entry is caught ----------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(count=st.integers(1, 6), data=st.data())
def test_altering_any_field_of_any_entry_is_caught(count, data):
    from sqlalchemy.orm import Session

    from api import access
    from api.store.tables import Base, ReadEntry, ReadHead
    from api.store.chain import GENESIS
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add(ReadHead(id=1, seq=0, row_hash=GENESIS))
        session.flush()
        for i in range(count):
            access.append(session, caller=f"c{i}", action="read", decision_id=f"d{i}", subject=None, purpose="p")
    with Session(engine) as session:
        assert access.verify(session).ok
    seq = data.draw(st.integers(1, count))
    field = data.draw(st.sampled_from(["caller", "action", "decision_id", "subject", "purpose", "via", "outcome",
                                       "at"]))
    with Session(engine) as session, session.begin():
        entry = session.get(ReadEntry, seq)
        if field == "at":
            entry.at = entry.at + dt.timedelta(seconds=1)
        else:
            setattr(entry, field, (getattr(entry, field) or "") + "x")
    with Session(engine) as session:
        report = access.verify(session)
    assert not report.ok and report.seq == seq
    engine.dispose()


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_absent_purpose_is_unspecified(value, monkeypatch):
    from api import access
    monkeypatch.delenv("ALMP_REQUIRE_PURPOSE", raising=False)
    assert access.clean_purpose(value) == "unspecified"
