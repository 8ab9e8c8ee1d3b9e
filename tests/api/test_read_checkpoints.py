"""The read log is covered by the signed checkpoints (issue 19): its tail cannot be rewritten unseen.

A checkpoint of format 2 signs the read log's size and last hash with the decision log's size
and root. Against the latest one, `almp audit verify` catches each attack on the read log that
its own chain and head cannot: the tail removed and ``read_head`` fixed, the last entry
rewritten with its hashes recomputed, the log emptied and the head reset. Checkpoint lines of
format 1 (decision log only), written before, still verify.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from almp.cli import main

from .conftest import decide, headers
from .test_reads import sql

GENESIS = "sha256:" + "0" * 64


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def read_thrice(client):
    decision_id = decide(client)["decision_id"]
    for purpose in ("uno", "due", "tre"):
        response = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit", **{"X-Purpose": purpose}))
        assert response.status_code == 200
    return decision_id


def _checkpoint(db_url, capsys):
    code, output = run(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 0, output


def _read_hashes(db_url) -> list[str]:
    from sqlalchemy import create_engine, text
    engine = create_engine(db_url)
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT row_hash FROM read_log ORDER BY seq"))]
    engine.dispose()
    return hashes


def test_a_checkpoint_signs_the_read_log_size_and_head(db_url, read_thrice, capsys, tmp_path):
    _checkpoint(db_url, capsys)
    line = json.loads((tmp_path / "checkpoints.jsonl").read_text().splitlines()[-1])
    hashes = _read_hashes(db_url)
    assert line["reads_size"] == len(hashes) == 3 and line["reads_head"] == hashes[-1]


# -- the three attacks, each passing `almp audit verify` before the read log was in the checkpoints -----------

def test_a_truncated_read_log_with_its_head_fixed_is_caught(db_url, read_thrice, capsys):
    _checkpoint(db_url, capsys)
    second = _read_hashes(db_url)[1]
    sql(db_url, "DELETE FROM read_log WHERE seq > 2")
    sql(db_url, "UPDATE read_head SET seq = 2, row_hash = :h WHERE id = 1", h=second)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "Traceback" not in output
    assert "REGISTRO DELLE LETTURE COMPROMESSO: il registro delle letture contiene 2 voci ma il checkpoint " \
           "firmato il" in output
    assert "ne contiene 3: le voci dopo la 2 sono state rimosse (voce 3)" in output
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 1 and "BROKEN read log: the read log holds 2 entries but the checkpoint signed at" in output


def test_a_rewritten_last_read_with_recomputed_hashes_is_caught(db_url, read_thrice, client, capsys):
    _checkpoint(db_url, capsys)
    from api import access
    from api.store.tables import ReadEntry, ReadHead
    with client.app.state.service.store.transaction() as session:
        entry = session.query(ReadEntry).filter_by(seq=3).one()
        entry.caller, entry.purpose = "mallory", "nessuno"
        entry.row_hash = access.entry_hash({c: getattr(entry, c) for c in (
            "seq", "at", "caller", "action", "decision_id", "subject", "purpose", "via", "outcome", "prev_hash")})
        session.get(ReadHead, 1).row_hash = entry.row_hash
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "Traceback" not in output
    assert "le prime 3 voci non corrispondono al checkpoint firmato il" in output
    assert "voci fino alla 3 sono state riscritte o sostituite (voce 3)" in output
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 1 and "the first 3 entries do not match the checkpoint signed at" in output


def test_an_emptied_read_log_with_its_head_reset_is_caught(db_url, read_thrice, capsys):
    _checkpoint(db_url, capsys)
    sql(db_url, "DELETE FROM read_log")
    sql(db_url, "UPDATE read_head SET seq = 0, row_hash = :h WHERE id = 1", h=GENESIS)
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 1 and "il registro delle letture contiene 0 voci" in output and "rimosse" in output
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 1 and "the read log holds 0 entries" in output and "were removed" in output


def test_an_intact_read_log_and_later_reads_verify_against_the_checkpoint(db_url, read_thrice, client, capsys):
    _checkpoint(db_url, capsys)
    client.get(f"/v1/decisions/{read_thrice}", headers=headers("audit"))  # a read after the checkpoint
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 0, output
    assert "ok: 4 letture di decisioni registrate" in output
    assert "registro delle letture coerente con 1 checkpoint firmati" in output


def test_no_checkpoint_is_signed_over_a_rewritten_read_log(db_url, read_thrice, client, capsys):
    _checkpoint(db_url, capsys)
    client.get(f"/v1/decisions/{read_thrice}", headers=headers("audit"))  # entry 4, not yet signed
    sql(db_url, "UPDATE read_log SET purpose = 'altro' WHERE seq = 4")
    code, output = run(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 1 and "non si firma" in output and "registro delle letture" in output and "voce 4" in output


def test_no_checkpoint_is_signed_over_a_read_log_shorter_than_the_last(db_url, read_thrice, capsys):
    _checkpoint(db_url, capsys)
    sql(db_url, "DELETE FROM read_log WHERE seq = 3")
    code, output = run(capsys, "audit", "checkpoint", "--database", db_url)
    assert code == 1 and "non si firma" in output and "voce 3" in output


# -- checkpoint lines of format 1 still verify -------------------------------------------------------------------

def _format_1_line(size: int, root: str) -> str:
    """A format-1 checkpoint as the earlier service wrote it, signed with the test's key file."""
    from api.keymaterial import key_path, read_or_create  # the test run's key file, in its own format
    seed = read_or_create(key_path("ALMP_CHECKPOINT_KEY_FILE", "checkpoint.key"), create=False)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    time = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    message = f"almp-checkpoint/1\nalmp decision log\n{size}\n{root}\n{time}\n".encode()
    raw = private.public_key().public_bytes_raw()
    return json.dumps({"key_id": "ed25519:" + hashlib.sha256(raw).hexdigest()[:16], "origin": "almp decision log",
                       "root_hash": root, "signature": base64.b64encode(private.sign(message)).decode(),
                       "time": time, "tree_size": size}, separators=(",", ":"), sort_keys=True)


def test_format_1_checkpoint_lines_still_verify(db_url, read_thrice, capsys, tmp_path):
    _checkpoint(db_url, capsys)  # creates the key; its line gives the current size and root
    sink = tmp_path / "checkpoints.jsonl"
    current = json.loads(sink.read_text().splitlines()[-1])
    old = _format_1_line(current["tree_size"], current["root_hash"])
    sink.write_text(old + "\n")  # only the old-format line
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 0, output
    assert "consistent with 1 signed checkpoint" in output
    assert "no signed checkpoint covers the read log yet" in output
    code, output = run(capsys, "audit", "checkpoint", "--database", db_url)  # a new one extends the old
    assert code == 0, output
    lines = sink.read_text().splitlines()
    assert lines[0] == old and "reads_size" in json.loads(lines[1])
    code, output = run(capsys, "audit", "verify", "--database", db_url)
    assert code == 0 and "coerente con 2 checkpoint firmati" in output


def test_a_format_1_line_whose_fields_were_changed_does_not_verify(db_url, read_thrice, capsys, tmp_path):
    _checkpoint(db_url, capsys)
    sink = tmp_path / "checkpoints.jsonl"
    current = json.loads(sink.read_text().splitlines()[-1])
    forged = json.loads(_format_1_line(current["tree_size"], current["root_hash"]))
    forged["reads_size"], forged["reads_head"] = 0, GENESIS  # claims the read log was empty
    sink.write_text(json.dumps(forged) + "\n")
    code, output = run(capsys, "--lang", "en", "audit", "verify", "--database", db_url)
    assert code == 1 and "signature does not verify" in output
