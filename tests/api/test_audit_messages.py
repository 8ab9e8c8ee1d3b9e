"""Issue 19, defect 7: what `almp audit verify` says is Italian by default, names the row, never a traceback.

The detections themselves (truncated tail with the head fixed, last row rewritten with a
recomputed hash, table emptied and head reset) are tested in test_checkpoints.py; here, that an
auditor reads each finding in Italian, and in English with --lang en.
"""
from __future__ import annotations

import pytest

from almp.cli import main

from .conftest import PERSON, decide
from .test_audit import sql


@pytest.fixture
def logged(client):
    return [decide(client, {**PERSON, "gender": g})["decision_id"] for g in "FMFM"]


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def _checkpoint(db_url, capsys):
    code, output = run(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 0 and "checkpoint: 4 decisioni" in output, output


def test_a_malformed_timestamp_is_an_italian_finding_naming_the_row(db_url, logged, capsys):
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a malformed timestamp itself")
    sql(db_url, "UPDATE decisions SET created_at = 'ieri-circa' WHERE id = :id", id=logged[1])
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "Traceback" not in output
    assert f"COMPROMESSO: la decisione {logged[1]} (seq 2) è stata alterata" in output
    assert "data e ora è malformata" in output and "ieri-circa" in output
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 1 and "its timestamp is malformed" in output


def test_a_truncated_tail_is_reported_in_italian_against_the_checkpoint(db_url, logged, capsys):
    _checkpoint(db_url, capsys)
    from sqlalchemy import create_engine, text
    engine = create_engine(db_url)
    with engine.connect() as conn:
        second = conn.execute(text("SELECT row_hash FROM decisions WHERE seq = 2")).scalar()
    engine.dispose()
    sql(db_url, "DELETE FROM decisions WHERE seq > 2")
    sql(db_url, "UPDATE chain_head SET seq = 2, row_hash = :h WHERE id = 1", h=second)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1
    assert "il registro contiene 2 decisioni ma il checkpoint firmato il" in output and "ne contiene 4" in output
    assert "le decisioni dopo la seq 2 sono state rimosse" in output


def test_an_emptied_table_is_reported_in_italian(db_url, logged, capsys):
    _checkpoint(db_url, capsys)
    sql(db_url, "DELETE FROM decisions")
    sql(db_url, "UPDATE chain_head SET seq = 0, row_hash = :h WHERE id = 1", h="sha256:" + "0" * 64)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "il registro contiene 0 decisioni" in output and "rimosse" in output


def test_a_rewritten_last_row_is_reported_in_italian(db_url, logged, client, capsys):
    _checkpoint(db_url, capsys)
    from api.store.chain import row_hash
    from api.store.tables import ChainHead, Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=logged[-1]).one()
        row.caller = "mallory"
        row.row_hash = row_hash(row)
        session.get(ChainHead, 1).row_hash = row.row_hash
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "le prime 4 decisioni non corrispondono al checkpoint firmato il" in output
    assert "riscritte o sostituite" in output


def test_an_intact_log_is_said_in_italian(db_url, logged, capsys):
    _checkpoint(db_url, capsys)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 0 and "ok: 4 decisioni, catena di hash integra" in output
    assert "coerente con 1 checkpoint firmati" in output


@pytest.mark.parametrize("change, words", [
    ("UPDATE decisions SET hash_scheme = 99 WHERE seq = 3", "il suo schema di hash 99 è sconosciuto a questa versione"),
    ("UPDATE decisions SET row_hash = 'md5:abc' WHERE seq = 3", "il suo hash di riga non è 'sha256:'"),
])
def test_an_unreadable_hash_is_an_italian_finding(db_url, logged, capsys, change, words):
    sql(db_url, change)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "Traceback" not in output
    assert f"la decisione {logged[2]} (seq 3) è stata alterata: {words}" in output
