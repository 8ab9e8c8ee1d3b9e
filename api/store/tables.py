"""Storage models of the decision store (wire models live apart, in ``api.wire``).

JSON payloads are kept as canonical JSON *text*, not a JSON column type: the row hash is
taken over those exact bytes, and PostgreSQL's jsonb would reorder keys and reformat numbers.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Decision(Base):
    """One decision, append-only; ``seq`` orders the hash chain."""

    __tablename__ = "decisions"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    policy_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    engine_version: Mapped[str] = mapped_column(String(128), nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    caller: Mapped[str] = mapped_column(String(128), nullable=False)
    # not unique: a key is reusable once its idempotency period is over (ALMP_IDEMPOTENCY_TTL_HOURS)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    request_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    input_json: Mapped[str] = mapped_column(Text, nullable=False)
    result_json: Mapped[str] = mapped_column(Text, nullable=False)
    trace_json: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    # 1: rows written before the subject and sealed fields existed; 2: the row hash covers them too
    hash_scheme: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)  # api.pseudonym
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # personal facts, encrypted
    # canonical JSON {"template": V, "authority": "sha256:..."}: what its statement of reasons is
    # rendered with (api.statements); NULL for decisions stored before statements existed
    statement_basis: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuthorityText(Base):
    """The exact text of an authority's statement settings (policies/<authority>/authority.yaml), by hash."""

    __tablename__ = "authority_texts"

    hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    folder: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Edition(Base):
    """The exact texts of a policy edition, stored once by content hash."""

    __tablename__ = "editions"

    content_hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(128), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    bundle_json: Mapped[str] = mapped_column(Text, nullable=False)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ChainHead(Base):
    """A single row (id 1): the last decision of the chain; locking it serialises appends."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(80), nullable=False)


class DataKey(Base):
    """A data key sealing a subject's personal facts, wrapped by the master key (outside the DB).

    One live key per subject pseudonym (a decision without a subject has its own key, ``subject``
    NULL); sealed texts name their key by ``id`` (api.store.sealing). Not chained: erasing clears
    ``wrapped`` and records who, when and why, and the chained ciphertext stays, unreadable. A
    subject decided again after erasure gets a new key. ``retain_until``: the day after which
    ``almp retention apply`` erases it (the latest of its decisions' retention ends).
    """

    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    wrapped: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    erased_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    erased_why: Mapped[str | None] = mapped_column(String(200), nullable=True)
    retain_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)


class ReadEntry(Base):
    """One read or replay of stored decisions: who, when, why; hash-chained like the decisions."""

    __tablename__ = "read_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    caller: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    decision_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    via: Mapped[str] = mapped_column(String(16), nullable=False, server_default="api")  # api, cli, console
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, server_default="ok")  # ok, erased
    prev_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(80), nullable=False)


class ReadHead(Base):
    """The last entry of the read log (id 1); locking it serialises read-log appends."""

    __tablename__ = "read_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(80), nullable=False)


class TracePlanText(Base):
    """The static part of an edition's decision traces (``engine.decide.trace.TracePlan.text``), by hash.

    A stored decision's sealed trace is a small record naming its plan by this hash; the plan holds no
    personal data, so it is stored once and never erased, changed or deleted.
    """

    __tablename__ = "trace_plans"

    hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
