"""Whether a decision read from the store can be trusted as served, and how a reader is told.

A row altered outside the service fails its own hash; a row rewritten with a recomputed hash no
longer links to the row after it (or to the chain head, if it is the last). Each read checks
the row and its two links (three indexed lookups), and, for a trace stored as a record, the stored text
of its trace plan against its hash (``api.store.trace_plans``), so a tampered row is never served as sound:
the answer carries ``integrity`` and the ``Almp-Integrity`` header. Only ``almp audit verify``
against a signed checkpoint also catches a rewrite of the last row together with the head.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.decide.trace import text_hash
from engine.i18n import N_, _

from .store.chain import GENESIS, row_hash
from .store.tables import ChainHead, Decision, TracePlanText
from .store.trace_plans import referenced
from .wire import StoredDecisionOut

HEADER = "Almp-Integrity"
PROBLEMS = {
    "row_hash_mismatch": N_("the row's content no longer matches its own hash"),
    "previous_link_broken": N_("the row does not link to the row before it (removed or rewritten)"),
    "next_link_broken": N_("the row after it links to another hash: this row was rewritten"),
    "chain_head_mismatch": N_("the last row does not match the chain head: it was rewritten or rows were removed"),
    "trace_plan_mismatch": N_("the trace's stored rule texts (its trace plan) are missing or no longer match their "
                              "hash: the trace cannot be shown"),
}


class IntegrityOut(BaseModel):
    status: Literal["ok", "failed"] = Field(description="failed: do not rely on this row; run `almp audit verify`")
    problems: list[Literal[tuple(PROBLEMS)]] = Field(  # type: ignore[valid-type]
        description="the checks that failed: " + "; ".join(f"`{k}`: {v}" for k, v in PROBLEMS.items()))


class CheckedDecisionOut(StoredDecisionOut):
    integrity: IntegrityOut


HEADER_DOC = {HEADER: {"description": "`ok`, or `failed` when the row failed its hash or chain checks (the body's "
                                      "`integrity` says which)", "schema": {"type": "string", "enum": ["ok", "failed"]}}}


def describe(problem: str, lang: str | None = None) -> str:
    """A failed check in words, for a person (the console)."""
    return _(PROBLEMS[problem], lang=lang)


def check(session: Session, decision_id: str) -> dict | None:
    """``{"status", "problems"}`` for a stored decision; None when there is no such decision."""
    head = session.get(ChainHead, 1)  # read first: every row up to head.seq was committed before it
    row = session.execute(select(Decision).where(Decision.id == decision_id)).scalar_one_or_none()
    if row is None:
        return None
    problems = []
    try:
        intact = row_hash(row) == row.row_hash
    except (ValueError, TypeError, AttributeError):
        intact = False
    if not intact:
        problems.append("row_hash_mismatch")
    before = GENESIS if row.seq == 1 else \
        session.scalar(select(Decision.row_hash).where(Decision.seq == row.seq - 1))
    if before != row.prev_hash:
        problems.append("previous_link_broken")
    after = session.scalar(select(Decision.prev_hash).where(Decision.seq == row.seq + 1))
    if after is not None:
        if after != row.row_hash:
            problems.append("next_link_broken")
    elif head is None or head.seq != row.seq or head.row_hash != row.row_hash:
        problems.append("chain_head_mismatch")
    plan_hash = referenced(row.trace_json)
    if plan_hash is not None:  # the rule texts its trace is rendered from, stored once by hash (api.store.trace_plans)
        plan_text = session.scalar(select(TracePlanText.text).where(TracePlanText.hash == plan_hash))
        if plan_text is None or text_hash(plan_text) != plan_hash:
            problems.append("trace_plan_mismatch")
    return {"status": "failed" if problems else "ok", "problems": problems}
