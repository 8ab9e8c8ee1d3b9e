"""What if past decisions had been taken under a draft edition?

Each stored eligibility decision is re-evaluated under the draft at its own ``as_of``
(the application date, so ages and durations are those of the time) and compared with
the stored result: eligibility, band and dote amount. Records come from the decision
store (``api.store.repository.decisions_between``) or from a JSONL export, one decision
per line: ``{"input": {...person...}, "as_of": "YYYY-MM-DD", "policy": {...}, "result": {...}}``
(the store's shape, ``{"input": {"person": {...}, ...}, ...}``, is accepted too).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from ..decide.batch import BatchDecider
from ..decide.state import NO_BAND, NOT_ELIGIBLE
from ..errors import AlmpError, InputErrors
from ..decide.evaluate import prepare_facts
from ..policy.model import Policy
from ..money import to_cents


class WhatIfError(AlmpError):
    """An unreadable decision export (names file and line)."""


@dataclass(frozen=True)
class Record:
    ref: str  # decision id or file:line
    person: dict
    as_of: dt.date
    state: str  # the stored outcome, as a simulation state
    amount: Decimal


@dataclass
class Outcome:
    decisions: int = 0
    changed: int = 0
    transitions: Counter = field(default_factory=Counter)
    amount_before: Decimal = Decimal(0)
    amount_after: Decimal = Decimal(0)
    errors: list = field(default_factory=list)

    def add(self, other: "Outcome") -> None:
        """Add another part's outcome (counts, and Decimal sums: exact, so the order of parts does
        not change the total; errors keep the records' order when parts are added in order)."""
        self.decisions += other.decisions
        self.changed += other.changed
        self.transitions.update(other.transitions)
        self.amount_before += other.amount_before
        self.amount_after += other.amount_after
        self.errors.extend(other.errors)


def stored_state(result: dict) -> tuple[str, Decimal]:
    if not result.get("eligible"):
        return NOT_ELIGIBLE, Decimal(0)
    band = result.get("band") or {}
    amount = (result.get("benefit") or {}).get("amount")
    return (band.get("id") or NO_BAND), Decimal(str(amount)) if amount is not None else Decimal(0)


def _as_date(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise WhatIfError(f"{where}: as_of {value!r} is not a date YYYY-MM-DD") from None


def record_from(data: dict, where: str) -> Record:
    if not isinstance(data, dict) or not isinstance(data.get("input"), dict) or \
            not isinstance(data.get("result"), dict):
        raise WhatIfError(f"{where}: expected an object with 'input' and 'result' objects")
    person = data["input"]
    if isinstance(person.get("person"), dict) and "as_of" in person:  # the store's request shape
        person = person["person"]
    as_of = data.get("as_of") or data["input"].get("as_of")
    if as_of is None:
        raise WhatIfError(f"{where}: missing as_of")
    state, amount = stored_state(data["result"])
    return Record(str(data.get("id") or where), person, _as_date(as_of, where), state, amount)


def read_jsonl(path: Path, start: dt.date, end: dt.date, policy_id: str) -> Iterable[Record]:
    """Records of ``policy_id`` whose application date (``as_of``) is in [start, end]."""
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise WhatIfError(f"{path}: {exc.strerror}") from None
    with fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise WhatIfError(f"{where}:{exc.colno}: invalid JSON: {exc.msg}") from None
            if not isinstance(data, dict):
                raise WhatIfError(f"{where}: expected a JSON object")
            policy = data.get("policy")
            pid = policy.get("id") if isinstance(policy, dict) else policy if isinstance(policy, str) else None
            if pid is None and isinstance(data.get("input"), dict):
                pid = data["input"].get("policy")
            if pid is not None and pid != policy_id:
                continue
            record = record_from(data, where)
            if start <= record.as_of <= end:  # the application date, not the day it was stored
                yield record


PART = 5_000  # records per part sent to a worker process
_DRAFT: Policy | None = None


def _init(bundle: dict) -> None:
    global _DRAFT
    from ..policy.compiler import compile_bundle
    _DRAFT = compile_bundle(bundle)


def _part(records: list[Record]) -> Outcome:
    return whatif(_DRAFT, records)


def whatif(draft: Policy, records: Iterable[Record], workers: int = 1, part: int = PART) -> Outcome:
    """Re-decide ``records`` under ``draft``. With ``workers`` > 1, parts of ``part`` records are
    decided in that many processes (at most two parts per worker in flight, so memory stays bounded
    however many records the iterable yields) and their outcomes added in the records' order."""
    if workers > 1:
        return _parallel(draft, records, workers, part)
    decider = BatchDecider(draft)
    out = Outcome()
    for record in records:
        out.decisions += 1
        try:
            env = prepare_facts(draft, record.person, record.as_of)
        except InputErrors as exc:
            out.errors.append(f"{record.ref}: {exc}")
            continue
        state = decider.state(env)
        amount = Decimal(0)
        if state not in (NOT_ELIGIBLE, NO_BAND):
            band = next(b for b in draft.bands if b.id == state)
            amount = Decimal(band.amount.value) if band.amount and band.amount.value is not None else Decimal(0)
        out.amount_before += record.amount
        out.amount_after += amount
        if state != record.state or amount != record.amount:
            out.changed += 1
        out.transitions[(record.state, state)] += 1
    return out


def _parallel(draft: Policy, records: Iterable[Record], workers: int, part: int) -> Outcome:
    import itertools
    import multiprocessing
    out = Outcome()
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    records = iter(records)
    with context.Pool(workers, initializer=_init, initargs=(draft.bundle,)) as pool:
        in_flight = []
        while batch := list(itertools.islice(records, part)):
            in_flight.append(pool.apply_async(_part, (batch,)))
            while len(in_flight) >= 2 * workers:
                out.add(in_flight.pop(0).get())
        for result in in_flight:
            out.add(result.get())
    return out


def summarise_changes(outcome: Outcome) -> dict:
    moves = [{"from": a, "to": b, "people": n} for (a, b), n in
             sorted(outcome.transitions.items(), key=lambda kv: (-kv[1], kv[0])) if a != b]
    # decisions = unchanged + changed + errors, always
    return {"decisions": outcome.decisions, "unchanged": outcome.decisions - outcome.changed - len(outcome.errors),
            "changed": outcome.changed, "errors": len(outcome.errors),
            "error_examples": outcome.errors[:5], "transitions": moves,
            "amount_before": str(to_cents(outcome.amount_before)), "amount_after": str(to_cents(outcome.amount_after)),
            "amount_delta": str(to_cents(outcome.amount_after - outcome.amount_before))}
