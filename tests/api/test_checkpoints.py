"""Signed checkpoints and Merkle proofs: a truncated or rewritten log is caught against the last checkpoint.

The proofs are checked by the RFC 9162 verification algorithms written out here, independently
of the service's own Merkle code.
"""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings, strategies as st
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from almp.cli import main

from .conftest import PERSON, decide
from .test_audit import sql, verify


# -- an independent checker (RFC 9162 sections 2.1.1, 2.1.3.2, 2.1.4.2) --------------------------------
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(row_hash_text: str) -> bytes:
    return _h(b"\x00" + bytes.fromhex(row_hash_text.split(":")[1]))


def _node(a: bytes, b: bytes) -> bytes:
    return _h(b"\x01" + a + b)


def _mth(leaves):
    # the RFC's recursive definition, straight from the text
    n = len(leaves)
    if n == 0:
        return _h(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


def check_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def check_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    if first & (first - 1) == 0:  # a power of two: the first root is the proof's implicit first node
        proof = [first_root] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def _b(text: str) -> bytes:
    return bytes.fromhex(text.split(":")[1])


# -- the service's proofs, checked by the checker ----------------------------------------------------
@given(st.integers(1, 40), st.data())
@settings(max_examples=60, deadline=None)
def test_every_inclusion_and_consistency_proof_verifies(size, data):
    from api.store import merkle
    leaves = [_h(bytes([i % 256, i // 256])) for i in range(size)]
    root = merkle.root(leaves)
    assert root == _mth(leaves)
    index = data.draw(st.integers(0, size - 1))
    path = merkle.inclusion_path(index, leaves)
    assert check_inclusion(index, size, leaves[index], path, root)
    assert not check_inclusion(index, size, _h(b"other"), path, root)
    first = data.draw(st.integers(1, size))
    proof = merkle.consistency_proof(first, leaves)
    assert check_consistency(first, size, _mth(leaves[:first]), root, proof)
    if first < size:
        forged = leaves[:first - 1] + [_h(b"forged")] + leaves[first:]
        assert not check_consistency(first, size, _mth(forged[:first]), root, proof)


@pytest.fixture
def logged(client):
    return [decide(client, {**PERSON, "gender": g})["decision_id"] for g in "FMFMF"]


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["--lang", "en", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_proofs_verify_with_the_independent_checker(db_url, logged, capsys):
    code, out, _ = cli(capsys, "audit", "prove", logged[2], "--database", db_url)
    proof = json.loads(out)
    assert code == 0 and proof["leaf_index"] == 2 and proof["tree_size"] == 5
    assert check_inclusion(2, 5, _leaf(proof["row_hash"]), [_b(p) for p in proof["audit_path"]],
                           _b(proof["root_hash"]))
    code, out, _ = cli(capsys, "audit", "prove", "--from-size", "3", "--database", db_url)
    proof = json.loads(out)
    assert code == 0 and proof["second"] == 5
    assert check_consistency(3, 5, _b(proof["first_root"]), _b(proof["second_root"]),
                             [_b(p) for p in proof["proof"]])


def test_a_checkpoint_is_signed_with_the_published_key(db_url, logged, capsys, tmp_path):
    code, out, _ = cli(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 0 and "5 decision(s)" in out
    code, public, _ = cli(capsys, "audit", "public-key")
    line = json.loads((tmp_path / "checkpoints.jsonl").read_text().splitlines()[-1])
    message = (f"almp-checkpoint/2\n{line['origin']}\n{line['tree_size']}\n{line['root_hash']}\n{line['time']}\n"
               f"{line['reads_size']}\n{line['reads_head']}\n")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public.strip()))
    key.verify(base64.b64decode(line["signature"]), message.encode())  # raises if it does not verify
    rows = _row_hashes(db_url)
    assert line["tree_size"] == 5 and _b(line["root_hash"]) == _mth([_leaf(h) for h in rows])


def _row_hashes(url):
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text("SELECT row_hash FROM decisions ORDER BY seq"))]
    engine.dispose()
    return rows


def _checkpointed(db_url, capsys):
    assert cli(capsys, "audit", "checkpoint", "--database", db_url)[0] == 0


def test_verify_passes_against_its_checkpoint_and_later_decisions(db_url, logged, client, capsys):
    _checkpointed(db_url, capsys)
    decide(client)
    code, output = verify(db_url, capsys)
    assert code == 0 and "1 signed checkpoint" in output and "6 decision(s)" in output


def test_truncating_the_tail_and_fixing_the_head_is_caught(db_url, logged, capsys):
    _checkpointed(db_url, capsys)
    rows = _row_hashes(db_url)
    sql(db_url, "DELETE FROM decisions WHERE seq > 3")
    sql(db_url, "UPDATE chain_head SET seq = 3, row_hash = :h WHERE id = 1", h=rows[2])
    code, output = verify(db_url, capsys)
    assert code == 1 and "removed" in output and "5" in output


def test_rewriting_the_last_row_with_a_recomputed_hash_is_caught(db_url, logged, client, capsys):
    _checkpointed(db_url, capsys)
    from api.store.chain import row_hash
    from api.store.tables import ChainHead, Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=logged[-1]).one()
        row.result_json = row.result_json.replace('"eligible":true', '"eligible":false')
        row.row_hash = row_hash(row)
        session.get(ChainHead, 1).row_hash = row.row_hash
    code, output = verify(db_url, capsys)
    assert code == 1 and "rewritten" in output


def test_emptying_the_table_and_resetting_the_head_is_caught(db_url, logged, capsys):
    _checkpointed(db_url, capsys)
    sql(db_url, "DELETE FROM decisions")
    sql(db_url, "UPDATE chain_head SET seq = 0, row_hash = :h WHERE id = 1", h="sha256:" + "0" * 64)
    code, output = verify(db_url, capsys)
    assert code == 1 and "removed" in output


def test_a_forged_checkpoint_line_is_refused(db_url, logged, capsys, tmp_path):
    _checkpointed(db_url, capsys)
    sink = tmp_path / "checkpoints.jsonl"
    line = json.loads(sink.read_text().splitlines()[-1])
    line["tree_size"] = 2
    sink.write_text(sink.read_text() + json.dumps(line) + "\n")
    code, output = verify(db_url, capsys)
    assert code == 1 and "signature does not verify" in output


def test_no_checkpoint_is_signed_over_a_rewritten_log(db_url, logged, client, capsys):
    _checkpointed(db_url, capsys)
    from api.store.chain import row_hash
    from api.store.tables import ChainHead, Decision
    with client.app.state.service.store.transaction() as session:
        row = session.query(Decision).filter_by(id=logged[0]).one()
        row.caller = "mallory"
        row.row_hash = row_hash(row)
    code, _, err = cli(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 1 and "refusing" in err


def test_a_malformed_timestamp_is_reported_without_a_traceback(db_url, logged, capsys):
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a malformed timestamp itself")
    sql(db_url, "UPDATE decisions SET created_at = 'yesterday-ish' WHERE id = :id", id=logged[1])
    code, output = verify(db_url, capsys)
    assert code == 1 and "Traceback" not in output and logged[1] in output and "timestamp" in output



def test_proofs_tie_a_decision_and_a_later_log_to_the_signed_checkpoints(db_url, logged, client, capsys, tmp_path):
    """The auditor's use: the roots come from the signed checkpoint lines, not from the proof being checked."""
    _checkpointed(db_url, capsys)  # 5 decisions
    later = [decide(client, {**PERSON, "gender": g})["decision_id"] for g in "MFM"]
    _checkpointed(db_url, capsys)  # 8 decisions
    signed = [json.loads(line) for line in (tmp_path / "checkpoints.jsonl").read_text().splitlines()]
    assert [cp["tree_size"] for cp in signed] == [5, 8]
    code, out, _ = cli(capsys, "audit", "prove", "--from-size", "5", "--size", "8", "--database", db_url)
    proof = json.loads(out)
    assert code == 0 and check_consistency(5, 8, _b(signed[0]["root_hash"]), _b(signed[1]["root_hash"]),
                                           [_b(p) for p in proof["proof"]])
    assert not check_consistency(5, 8, _b(signed[0]["root_hash"]), _b(signed[1]["root_hash"]),
                                 [_b(p) for p in proof["proof"]][::-1])
    for decision_id, index in ((logged[0], 0), (later[-1], 7)):
        code, out, _ = cli(capsys, "audit", "prove", decision_id, "--size", "8", "--database", db_url)
        proof = json.loads(out)
        assert code == 0 and proof["leaf_index"] == index
        assert check_inclusion(index, 8, _leaf(proof["row_hash"]), [_b(p) for p in proof["audit_path"]],
                               _b(signed[1]["root_hash"]))
