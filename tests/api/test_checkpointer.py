"""The service signs checkpoints by itself: every ALMP_CHECKPOINT_EVERY seconds, when the log grew.

Checked by the RFC 9162 root computed in test_checkpoints (independent of the service's Merkle code)
and by `almp audit verify`; a rewritten log is never signed.
"""
from __future__ import annotations

import json
import time

from api.checkpointer import Checkpointer, start_from_env
from api.store.checkpoint import Sink

from .conftest import PERSON, decide
from .test_audit import verify
from .test_checkpoints import _b, _leaf, _mth, _row_hashes


def _lines(tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_checkpoint_is_signed_only_when_the_log_grew(client, db_url, tmp_path, capsys):
    checkpointer = Checkpointer(client.app.state.service.store, every=3600)
    assert checkpointer.run_once() is None and _lines(tmp_path) == []  # an empty log: nothing to sign
    for gender in "FMF":
        decide(client, {**PERSON, "gender": gender})
    first = checkpointer.run_once()
    assert first.tree_size == 3 and checkpointer.run_once() is None
    decide(client)
    assert checkpointer.run_once().tree_size == 4
    lines = _lines(tmp_path)
    assert [line["tree_size"] for line in lines] == [3, 4]
    rows = _row_hashes(db_url)
    assert _b(lines[-1]["root_hash"]) == _mth([_leaf(h) for h in rows])
    assert _b(lines[0]["root_hash"]) == _mth([_leaf(h) for h in rows[:3]])
    code, output = verify(db_url, capsys)
    assert code == 0 and "2 signed checkpoint" in output


def test_a_rewritten_log_is_not_signed_and_the_operator_is_told(client, db_url, tmp_path, caplog):
    checkpointer = Checkpointer(client.app.state.service.store, every=3600)
    ids = [decide(client, {**PERSON, "gender": g})["decision_id"] for g in "FM"]
    checkpointer.run_once()
    from api.store.chain import row_hash
    from api.store.tables import ChainHead, Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=ids[-1]).one()
        row.caller = "mallory"
        row.row_hash = row_hash(row)
        session.get(ChainHead, 1).row_hash = row.row_hash
    decide(client)
    checkpointer.every = 0.05
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not [r for r in caplog.records if "nessun checkpoint" in r.getMessage()]:
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    said = [r.getMessage() for r in caplog.records if "nessun checkpoint" in r.getMessage()]
    assert said and "riscritto" in said[0]
    assert [line["tree_size"] for line in _lines(tmp_path)] == [2]


def test_the_served_app_signs_by_itself_when_configured(client, monkeypatch, tmp_path):
    monkeypatch.setenv("ALMP_CHECKPOINT_EVERY", "0.05")
    decide(client)
    checkpointer = start_from_env(client.app)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _lines(tmp_path):
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert [line["tree_size"] for line in _lines(tmp_path)] == [1]
    monkeypatch.setenv("ALMP_CHECKPOINT_EVERY", "0")
    assert start_from_env(client.app) is None
    assert Sink().latest().tree_size == 1


def test_reads_alone_are_enough_to_sign_a_new_checkpoint(client, db_url, tmp_path):
    from .conftest import headers
    checkpointer = Checkpointer(client.app.state.service.store, every=3600)
    decision_id = decide(client)["decision_id"]
    assert checkpointer.run_once().reads_size == 0 and checkpointer.run_once() is None
    client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))  # a read, no new decision
    second = checkpointer.run_once()
    assert second is not None and (second.tree_size, second.reads_size) == (1, 1)
    assert [(line["tree_size"], line["reads_size"]) for line in _lines(tmp_path)] == [(1, 0), (1, 1)]
