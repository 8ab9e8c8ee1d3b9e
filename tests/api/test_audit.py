"""The hash chain and the auditors' commands: `almp audit verify` and `almp replay`, without the server."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import create_engine, text

from almp.cli import main

from .conftest import PERSON, decide, headers


@pytest.fixture
def three(client):
    """Three stored decisions, in chain order."""
    return [decide(client, {**PERSON, "gender": g})["decision_id"] for g in ("F", "M", "F")]


def sql(url: str, statement: str, **params) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def verify(url, capsys) -> tuple[int, str]:
    code = main(["--lang", "en", "audit", "verify", "--database", url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_an_intact_chain_verifies(db_url, three, capsys):
    code, output = verify(db_url, capsys)
    assert code == 0
    assert "3 decision(s)" in output


def test_each_row_links_to_the_previous_ones_hash(client, three):
    rows = [client.get(f"/v1/decisions/{i}", headers=headers("audit")).json() for i in three]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    from api.store.tables import Decision
    with client.app.state.service.store.reading() as session:
        stored = {d.id: d for d in session.query(Decision).all()}
    assert stored[three[1]].prev_hash == stored[three[0]].row_hash
    assert stored[three[2]].prev_hash == stored[three[1]].row_hash


def test_altering_one_decision_fails_and_names_it(db_url, three, capsys):
    sql(db_url, "UPDATE decisions SET result_json = REPLACE(result_json, :old, :new) WHERE id = :id",
        old='"eligible":true', new='"eligible":false', id=three[1])
    code, output = verify(db_url, capsys)
    assert code == 1
    assert three[1] in output and "altered" in output
    assert three[0] not in output


def test_altering_the_sealed_facts_is_caught_too(db_url, three, capsys):
    # the facts are sealed (api.store.sealing): the birth date is not in clear, and the chain covers the ciphertext
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT input_json, sealed FROM decisions WHERE id = :id"), {"id": three[0]}).one()
    engine.dispose()
    assert "1960-05-01" not in row.input_json and "1960-05-01" not in row.sealed
    flipped = row.sealed[:-6] + ("A" if row.sealed[-6] != "A" else "B") + row.sealed[-5:]
    sql(db_url, "UPDATE decisions SET sealed = :s WHERE id = :id", s=flipped, id=three[0])
    code, output = verify(db_url, capsys)
    assert code == 1 and three[0] in output


def test_deleting_a_row_names_the_break(db_url, three, capsys):
    sql(db_url, "DELETE FROM decisions WHERE id = :id", id=three[1])
    code, output = verify(db_url, capsys)
    assert code == 1
    assert "missing" in output and three[0] in output and three[2] in output


def test_deleting_the_latest_row_is_caught_by_the_chain_head(db_url, three, capsys):
    sql(db_url, "DELETE FROM decisions WHERE id = :id", id=three[2])
    code, output = verify(db_url, capsys)
    assert code == 1
    assert "removed" in output


def test_rehashing_an_altered_row_still_breaks_the_next_link(db_url, three, client, capsys):
    # A forger who recomputes the altered row's own hash must also rewrite every later row.
    from api.store.chain import row_hash
    from api.store.tables import Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=three[0]).one()
        row.caller = "someone-else"
        row.row_hash = row_hash(row)
    code, output = verify(db_url, capsys)
    assert code == 1
    assert three[1] in output and "does not link" in output


def test_altering_a_stored_edition_is_caught(db_url, three, capsys):
    sql(db_url, "UPDATE editions SET bundle_json = REPLACE(bundle_json, 'Dote', 'Dosh')")
    code, output = verify(db_url, capsys)
    assert code == 1 and "edition" in output


def test_cli_replay_of_one_decision(db_url, three, capsys, api_policies):
    code = main(["replay", three[0], "--database", db_url, "--policies", str(api_policies)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["identical"] is True and report["decision_id"] == three[0]


def test_cli_replay_of_an_unknown_decision_is_exit_2(db_url, capsys, api_policies):
    unknown = "00000000-0000-4000-8000-000000000000"
    assert main(["replay", unknown, "--database", db_url, "--policies", str(api_policies)]) == 2
    assert f"nessuna decisione '{unknown}'" in capsys.readouterr().err
    assert main(["replay", "nope", "--database", db_url, "--policies", str(api_policies)]) == 2
    assert "nessuna decisione" in capsys.readouterr().err  # an id not shaped as one is not said back


def test_cli_batch_replay_counts_identical_and_shows_how_others_differ(db_url, three, capsys, api_policies):
    sql(db_url, "UPDATE decisions SET result_json = REPLACE(result_json, :old, :new) WHERE id = :id",
        old='"eligible":true', new='"eligible":false', id=three[2])
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    code = main(["replay", "--from", today, "--to", today, "--database", db_url, "--policies", str(api_policies)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["decisions"] == 3 and report["identical"] == 2 and report["different"] == 1
    [differs] = report["differences"]
    assert differs["decision_id"] == three[2]
    assert {"path": "$.eligible", "stored": False, "replayed": True, "change": "changed"} in differs["differences"]


def test_cli_batch_replay_filters_by_period_and_policy(db_url, three, capsys, api_policies):
    code = main(["replay", "--from", "2000-01-01", "--to", "2000-12-31", "--database", db_url,
                 "--policies", str(api_policies)])
    assert code == 0 and json.loads(capsys.readouterr().out)["decisions"] == 0
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    main(["replay", "--from", today, "--to", today, "--policy", "lombardia/other", "--database", db_url,
          "--policies", str(api_policies)])
    assert json.loads(capsys.readouterr().out)["decisions"] == 0


def test_cli_replay_needs_an_id_or_a_period(db_url, capsys):
    assert main(["replay", "--database", db_url]) == 2
    assert main(["replay", "x", "--from", "2020-01-01", "--to", "2020-01-02", "--database", db_url]) == 2


def test_decisions_between_yields_the_stored_inputs(db_url, three):
    from api.store import decisions_between
    today = dt.datetime.now(dt.timezone.utc).date()
    rows = list(decisions_between(db_url, today, today, policy_id="lombardia/dote-unica-lavoro"))
    assert [r["id"] for r in rows] == three
    assert rows[1]["input"]["person"]["gender"] == "M"
    assert rows[0]["as_of"] == dt.date(2014, 3, 1)
    assert "trace" not in rows[0]["result"] and rows[0]["result"]["eligible"] is True
    assert list(decisions_between(db_url, today - dt.timedelta(days=9), today - dt.timedelta(days=1))) == []


def test_audit_verify_on_a_missing_store_is_exit_2(tmp_path, capsys):
    assert main(["audit", "verify", "--database", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "db upgrade" in capsys.readouterr().err
