"""Bulk append: a chunk of a batch's decisions stored in one transaction, the chain head locked last.

``repository.append_batch`` (the group committer) takes the chain head first and builds each row
under it. A nightly batch brings thousands of decisions at once, so here everything that does not
depend on the chain - decision ids, data keys, sealing - is done before the head is locked, the
new data keys are inserted before it too, and under the lock only the idempotency check, the
linking (``chain.row_hash`` of each row, in order) and the insert of the decisions remain; on
PostgreSQL both inserts go through COPY. The rows are the ones ``append_batch`` would write.

Each row's scheme-4 digest (``chain.digest``) is taken before the lock too; under it only
``chain.link`` runs per row. A chunk none of whose idempotency keys was used before, and none of
whose subjects' data keys was erased meanwhile (erasure takes the chain lock too), is stored here;
otherwise ``append_bulk`` returns None before storing anything and the caller hands the chunk to the
group committer, which answers retries and conflicts decision by decision.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os

import orjson
from sqlalchemy import String, any_, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from . import sealing, trace_plans
from .chain import CURRENT, digest, link, utc_text
from .repository import (AppendedRow, PendingDecision, StoredTexts, _Keys, _RowView, _lock_head, _store_authority,
                         _store_edition, idempotency_since)
from .tables import ChainHead, DataKey, Decision

_HEAD = ChainHead.__table__
_DECISIONS = Decision.__table__
_KEYS = DataKey.__table__
COLUMNS = ("seq", "id", "created_at", "kind", "policy_id", "version", "content_hash", "engine_version", "as_of",
           "caller", "idempotency_key", "request_hash", "input_json", "result_json", "trace_json", "prev_hash",
           "row_hash", "hash_scheme", "subject", "sealed", "statement_basis")
KEY_COLUMNS = ("id", "subject", "wrapped", "created_at", "erased_at", "retain_until")
_LOOKUP = 500  # idempotency keys per query (SQLite bounds the parameters of one statement)


def append_bulk(session: Session, items: list[PendingDecision], known: StoredTexts | None = None,
                noted: list | None = None) -> list | None:
    """Append ``items`` in order, in the caller's transaction: ``(AppendedRow, True)`` per item, or None
    (nothing written) when an idempotency key of the chunk was already used."""
    if not items:
        return []
    now = dt.datetime.now(dt.timezone.utc)  # one commit, one time for the chunk
    fresh = uuid4_texts(2 * len(items))  # decision ids, then the ids of the data keys made for them
    keys = _Keys(session, {item.subject for item in items if item.subject is not None}, iter(fresh[len(items):]))
    seal = sealing.Sealer.seal_text
    rows, editions, authorities, plans = [], {}, {}, {}
    for item, decision_id in zip(items, fresh):
        policy = item.policy
        editions.setdefault(policy.content_hash, policy)
        if item.authority is not None:
            authorities.setdefault(item.authority.hash, item.authority)
        if item.trace_plan is not None:
            plans.setdefault(id(item.trace_plan), item.trace_plan)
        key_id, data_key = keys.for_decision(item.subject, now, getattr(policy, "retention_years", None))
        rows.append(dict(seq=0, id=decision_id, created_at=now, kind=item.kind, policy_id=policy.id,
                         version=policy.version, content_hash=policy.content_hash,
                         engine_version=item.engine_version, as_of=item.as_of, caller=item.caller,
                         idempotency_key=item.idempotency_key, request_hash=item.req_hash,
                         input_json=item.input_json, result_json=item.result_json, trace_json=item.trace_json,
                         prev_hash="", row_hash="", hash_scheme=CURRENT, subject=item.subject,
                         sealed=seal(data_key, key_id, decision_id, item.personal_json),
                         statement_basis=item.statement_basis))
    for policy in editions.values():
        _store_edition(session, policy, known, noted)
    for authority in authorities.values():
        _store_authority(session, authority, known, noted)
    for plan in plans.values():
        trace_plans.store(session, plan, known, noted)
    session.flush()
    created = utc_text(now)
    digests = [_digest(values, created) for values in rows]
    postgres = session.get_bind().dialect.name == "postgresql"
    if keys.new_rows:
        _insert(session, postgres, _KEYS, KEY_COLUMNS, keys.new_rows)
    # -- the chain: from here to the commit the head is locked
    seq, prev = _lock_head(session)
    if _used(session, [item.idempotency_key for item in items if item.idempotency_key is not None], postgres) \
            or _erased(session, keys.used):
        return None
    for values, row_digest in zip(rows, digests):
        seq += 1
        values["seq"], values["prev_hash"] = seq, prev
        values["row_hash"] = prev = link(prev, seq, row_digest)
    for key_id, until in keys.extended.items():  # a subject's key kept as long as their latest decision needs
        session.execute(update(_KEYS).where(_KEYS.c.id == key_id).values(retain_until=until))
    _insert(session, postgres, _DECISIONS, COLUMNS, rows)
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq, row_hash=prev))
    return [(AppendedRow(values, item), True) for values, item in zip(rows, items)]


def uuid4_texts(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as text, as ``str(uuid.uuid4())`` writes them, from one read of
    the system's randomness."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]


def _digest(values: dict, created: str) -> str:
    """``chain.digest`` of a row made here (``created``: its ``created_at`` as ``utc_text`` writes it, the same for
    the whole chunk). Every field is text, an integer or None, so orjson writes the canonical text at once;
    anything it refuses (text with a lone surrogate) goes the general way."""
    content = {"id": values["id"], "created_at": created, "kind": values["kind"], "policy_id": values["policy_id"],
               "version": values["version"], "content_hash": values["content_hash"],
               "engine_version": values["engine_version"], "as_of": values["as_of"].isoformat(),
               "caller": values["caller"], "idempotency_key": values["idempotency_key"],
               "request_hash": values["request_hash"], "input": values["input_json"], "result": values["result_json"],
               "trace": values["trace_json"], "hash_scheme": CURRENT, "subject": values["subject"],
               "sealed": values["sealed"], "statement_basis": values["statement_basis"]}
    try:
        text = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return digest(_RowView(values))
    return hashlib.sha256(text).hexdigest()


def _used(session: Session, keys: list[str], postgres: bool = False) -> bool:
    """Whether any of ``keys`` names a decision still within its idempotency period."""
    oldest = idempotency_since()
    if postgres and keys:  # one array parameter: a query of thousands of placeholders costs ms to send
        query = select(Decision.seq).where(Decision.idempotency_key == any_(literal(keys, ARRAY(String))))
        if oldest is not None:
            query = query.where(Decision.created_at >= oldest)
        return session.execute(query.limit(1)).first() is not None
    for start in range(0, len(keys), _LOOKUP):
        query = select(Decision.seq).where(Decision.idempotency_key.in_(keys[start:start + _LOOKUP]))
        if oldest is not None:
            query = query.where(Decision.created_at >= oldest)
        if session.execute(query.limit(1)).first() is not None:
            return True
    return False


def _erased(session: Session, key_ids: list[str]) -> bool:
    """Whether a data key read before the lock was erased since (its subject's facts must not be sealed with it)."""
    for start in range(0, len(key_ids), _LOOKUP):
        query = select(_KEYS.c.id).where(_KEYS.c.id.in_(key_ids[start:start + _LOOKUP]), _KEYS.c.wrapped.is_(None))
        if session.execute(query.limit(1)).first() is not None:
            return True
    return False


def _insert(session: Session, postgres: bool, table, columns: tuple, rows: list[dict]) -> None:
    if not postgres:
        session.execute(insert(table), rows)  # Core executemany
        return
    # COPY in the session's own transaction: one statement, rows streamed, no per-row round trip
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for values in rows:
                write([values[name] for name in columns])
