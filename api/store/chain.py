"""The hash chain over decisions: each row hashes its own content plus the previous row's hash."""
from __future__ import annotations

import datetime as dt
import hashlib

from .. import jsontext

GENESIS = "sha256:" + "0" * 64


def utc_text(moment: dt.datetime) -> str:
    """One text form for a stored time, whatever the database hands back (naive means UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(row) -> str:
    """sha256 over the canonical JSON of every stored field of a decision except its own hash."""
    content = {
        "seq": row.seq, "id": row.id, "created_at": utc_text(row.created_at), "kind": row.kind,
        "policy_id": row.policy_id, "version": row.version, "content_hash": row.content_hash,
        "engine_version": row.engine_version, "as_of": row.as_of.isoformat(), "caller": row.caller,
        "idempotency_key": row.idempotency_key, "request_hash": row.request_hash,
        "input": row.input_json, "result": row.result_json, "trace": row.trace_json,
        "prev_hash": row.prev_hash,
    }
    return "sha256:" + hashlib.sha256(jsontext.canonical(content).encode("utf-8")).hexdigest()
