"""Decision traces stored as a small record plus a plan text shared by every decision of an edition.

A trace lists every rule of the edition: its label, condition, legal reference and parameters (the
same for every decision of the edition, ~8 KB for Dote Unica Lavoro), whether it fired and the facts
it read. A decision's sealed text keeps only its record (``engine.decide.trace.Trace.record``: the plan's
hash, the fact values, the places of the rules that fired); the plan's text (``TracePlan.text``) is
stored once in ``trace_plans``, by its sha256, like editions and authority texts.

The stored text, not the edition recompiled, renders a trace when it is read, so an auditor gets the
trace that was answered even if a later engine writes labels differently. A plan is used only if its
text hashes to the name the record gives (else the trace reads as altered, ``PlanUnavailable``), and
``almp audit verify`` checks every stored plan and that every decision's plan is there
(``api.store.audit``). Parsed plans are kept per process by hash: a plan text checked against its
hash once renders the same traces however often it is read.
"""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.decide.trace import TracePlan, text_hash

from .tables import TracePlanText

_LIMIT = 256  # parsed plans kept per process (one per edition and engine version in practice)
_parsed: dict[str, TracePlan] = {}
_lock = threading.Lock()


class PlanUnavailable(ValueError):
    """A trace record's plan is missing from the store, does not match its hash, or does not fit the record."""


def _keep(plan_hash: str, plan: TracePlan) -> None:
    with _lock:
        if len(_parsed) >= _LIMIT:
            _parsed.clear()
        _parsed[plan_hash] = plan


def forget() -> None:
    """Drop the parsed plans (the next read of each is checked against the store again, as in a new process)."""
    with _lock:
        _parsed.clear()


def written(plan: TracePlan) -> str:
    """Note a plan this process is storing decisions with; its hash. Its text is parsed back once, so the
    traces of the decisions just stored render from the text stored, as they will in any other process."""
    plan_hash = plan.hash
    if plan_hash not in _parsed:
        _keep(plan_hash, TracePlan.from_text(plan.text()))
    return plan_hash


def parsed(plan_hash: str, text: str | None) -> TracePlan:
    """The plan named ``plan_hash`` from its stored ``text`` (None: not in the store)."""
    if text is None:
        raise PlanUnavailable(f"trace plan {plan_hash} is not in the store")
    if text_hash(text) != plan_hash:
        raise PlanUnavailable(f"trace plan {plan_hash} was altered: its text no longer matches its hash")
    try:
        plan = TracePlan.from_text(text)
    except ValueError as exc:
        raise PlanUnavailable(f"trace plan {plan_hash}: {exc}") from None
    _keep(plan_hash, plan)
    return plan


class Plans:
    """Plan look-up for reads: parsed plans first, then the store (``session``; None: parsed plans only).
    ``own``: the plan a decision was just stored with by this process (its text, parsed back, if the parsed
    plans were dropped meanwhile)."""

    def __init__(self, session: Session | None = None, own: TracePlan | None = None):
        self.session, self.own = session, own

    def __call__(self, plan_hash: str) -> TracePlan:
        found = _parsed.get(plan_hash)
        if found is not None:
            return found
        if self.own is not None and self.own.hash == plan_hash:
            return parsed(plan_hash, self.own.text())
        text = None
        if self.session is not None:
            text = self.session.execute(select(TracePlanText.text).where(TracePlanText.hash == plan_hash)
                                        ).scalar_one_or_none()
        return parsed(plan_hash, text)


def reference(plan: TracePlan) -> str:
    """The clear ``trace_json`` of a decision whose sealed trace is a record of ``plan``: the plan's hash alone
    (no personal data), covered by the row hash, so ``almp audit verify`` finds every plan a decision needs
    without opening sealed texts."""
    return '{"plan":"' + plan.hash + '"}'


def referenced(trace_json: str | None) -> str | None:
    """The plan hash a stored ``trace_json`` names (``reference``), or None (a full trace, or none)."""
    if not trace_json or not trace_json.startswith('{"plan":'):
        return None
    import json
    try:
        found = json.loads(trace_json).get("plan")
    except ValueError:
        return None
    return found if type(found) is str else None


def render(record, plans) -> str:
    """The canonical text of the trace a stored record describes (``plans``: a ``Plans``)."""
    if type(record) is not dict or type(record.get("plan")) is not str or type(record.get("fired")) is not list \
            or type(record.get("values")) is not list:
        raise PlanUnavailable("the trace record is malformed")
    plan = plans(record["plan"])
    try:
        return plan.render(record["fired"], record["values"], record.get("with_bands"))
    except ValueError as exc:
        raise PlanUnavailable(f"trace plan {record['plan']}: {exc}") from None


def store(session: Session, plan: TracePlan, known=None, noted: list | None = None) -> None:
    """Store a plan's text unless it is there (``known``/``noted`` as for editions: ``repository.StoredTexts``)."""
    from .repository import _insert_once
    plan_hash = written(plan)
    key = "plan:" + plan_hash
    if known is not None and key in known:
        return
    if session.get(TracePlanText, plan_hash) is None:
        _insert_once(session, TracePlanText.__table__, dict(hash=plan_hash, text=plan.text(),
                                                            stored_at=dt.datetime.now(dt.timezone.utc)))
    if noted is not None:
        noted.append(key)
