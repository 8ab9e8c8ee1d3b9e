"""The hash chain over decisions: each row hashes its own content plus the previous row's hash.

A row's ``hash_scheme`` says which fields its hash covers, so rows written before a field
existed keep verifying: scheme 1 is the original field set; scheme 2 adds the scheme itself,
the subject pseudonym and the sealed (encrypted) personal facts; scheme 3 adds the statement
basis (template version and authority text hash of the statement of reasons). New rows use ``CURRENT``.

Scheme 4 splits the hash in two, so the chain's lock covers only the cheap part: the row's *digest*
(sha256 over the canonical JSON of every field but its place in the chain) is computed before the
head is locked; under the lock, the row hash is sha256 of ``almp-chain-4``, the previous hash, the
row's seq and that digest, one per line (``link``). The same ``link`` runs in PostgreSQL's
``almp_append`` function (migration 0007), so a batch is appended in one statement and the lock is
never held while a Python thread waits for its turn to run.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from engine.i18n import _

from .. import jsontext

GENESIS = "sha256:" + "0" * 64
CURRENT = 4


def utc_text(moment: dt.datetime) -> str:
    """One text form for a stored time, whatever the database hands back (naive means UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _content_v1(row) -> dict:
    return {
        "seq": row.seq, "id": row.id, "created_at": utc_text(row.created_at), "kind": row.kind,
        "policy_id": row.policy_id, "version": row.version, "content_hash": row.content_hash,
        "engine_version": row.engine_version, "as_of": row.as_of.isoformat(), "caller": row.caller,
        "idempotency_key": row.idempotency_key, "request_hash": row.request_hash,
        "input": row.input_json, "result": row.result_json, "trace": row.trace_json,
        "prev_hash": row.prev_hash,
    }


def _content_v2(row) -> dict:
    return {**_content_v1(row), "hash_scheme": 2, "subject": row.subject, "sealed": row.sealed}


def _content_v3(row) -> dict:
    return {**_content_v2(row), "hash_scheme": 3, "statement_basis": row.statement_basis}


def _content_v4(row) -> dict:
    """Every field of scheme 3 but the row's place in the chain (seq, prev_hash), which ``link`` adds."""
    content = {**_content_v3(row), "hash_scheme": 4}
    del content["seq"], content["prev_hash"]
    return content


def digest(row) -> str:
    """Scheme 4: the hex sha256 of what a row says, computed before its place in the chain is known."""
    return hashlib.sha256(jsontext.canonical(_content_v4(row)).encode("utf-8")).hexdigest()


def link(prev_hash: str, seq: int, row_digest: str) -> str:
    """Scheme 4: the row hash from the previous row's hash, the row's seq and its digest.

    Mirrored in SQL by ``almp_append`` (api/migrations/versions/0007_server_append.py): change both or neither.
    """
    text = f"almp-chain-4\n{prev_hash}\n{seq}\n{row_digest}"
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def _row_hash_v4(row) -> str:
    return link(row.prev_hash, row.seq, digest(row))


SCHEMES = {1: _content_v1, 2: _content_v2, 3: _content_v3, 4: None}


class UnknownScheme(ValueError):
    pass


def row_hash(row) -> str:
    """sha256 over the canonical JSON of the fields the row's hash scheme covers (all but its own hash)."""
    scheme = getattr(row, "hash_scheme", None) or 1
    if scheme not in SCHEMES:
        raise UnknownScheme(_("its hash scheme {scheme} is unknown to this version", scheme=repr(scheme)))
    if scheme == 4:
        return _row_hash_v4(row)
    content = SCHEMES[scheme]
    return "sha256:" + hashlib.sha256(jsontext.canonical(content(row)).encode("utf-8")).hexdigest()
