"""The read log: every read or replay of a stored decision, who, when, why, in its own hash chain.

GDPR art. 30/32 accountability (the Garante expects access logs for this kind of data): each GET,
replay or statement of a decision appends one entry (caller, action, decision, subject pseudonym,
purpose, channel, outcome) before the data is answered; an entry that cannot be written means no
answer (503), never an unrecorded read. Entries are chained like decisions (each hashes its
content and the previous entry's hash; ``read_head`` holds the last), ``almp audit verify``
walks the chain, and auditors list it (``GET /v1/audit/reads``, ``almp audit reads``). Nothing
of the person is written: the decision id and pseudonym only.

Purpose: an ``X-Purpose`` header or ``purpose`` query field (1-200 characters, a category or a
file reference, never a name). Defaulted to ``unspecified`` so existing clients keep working;
``ALMP_REQUIRE_PURPOSE=1`` makes it required (428 ``purpose_required``).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import jsontext
from .store.chain import GENESIS, utc_text
from .store.tables import ReadEntry, ReadHead

UNSPECIFIED = "unspecified"
MAX_PURPOSE = 200
PURPOSE_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")

# the purpose of the read being served (set by the route around the service call that reads)
_purpose: contextvars.ContextVar[str] = contextvars.ContextVar("almp_read_purpose", default=UNSPECIFIED)
_via: contextvars.ContextVar[str] = contextvars.ContextVar("almp_read_via", default="api")


class PurposeRequired(Exception):
    """ALMP_REQUIRE_PURPOSE is set and the read named no purpose."""


class BadPurpose(ValueError):
    pass


def purpose_required() -> bool:
    return os.environ.get("ALMP_REQUIRE_PURPOSE", "0") not in ("", "0", "false", "no")


def clean_purpose(text: str | None) -> str:
    """The purpose to record: trimmed text, or ``unspecified`` (PurposeRequired when it is required)."""
    if text is None or not text.strip():
        if purpose_required():
            raise PurposeRequired()
        return UNSPECIFIED
    text = " ".join(text.split())
    if not PURPOSE_PATTERN.match(text):
        raise BadPurpose(f"a purpose is 1 to {MAX_PURPOSE} printable characters")
    return text


@contextmanager
def reading_for(purpose: str, via: str = "api"):
    """Within this block, recorded reads carry ``purpose`` and ``via``."""
    tokens = _purpose.set(purpose), _via.set(via)
    try:
        yield
    finally:
        _purpose.reset(tokens[0])
        _via.reset(tokens[1])


def current_purpose() -> str:
    return _purpose.get()


def entry_hash(values: dict) -> str:
    content = {k: values[k] for k in ("seq", "caller", "action", "decision_id", "subject", "purpose", "via",
                                      "outcome", "prev_hash")}
    content["at"] = utc_text(values["at"])
    return "sha256:" + hashlib.sha256(jsontext.canonical(content).encode("utf-8")).hexdigest()


def append(session: Session, *, caller: str, action: str, decision_id: str | None, subject: str | None,
           purpose: str | None = None, via: str | None = None, outcome: str = "ok") -> ReadEntry:
    """Append one entry to the read log. Call inside ``session.begin()``: it is durable at commit."""
    # PostgreSQL: the row lock serialises appends; SQLite: BEGIN IMMEDIATE holds the write lock already.
    head = session.execute(select(ReadHead).where(ReadHead.id == 1).with_for_update()).scalar_one()
    values = dict(seq=head.seq + 1, at=dt.datetime.now(dt.timezone.utc), caller=caller[:128], action=action[:32],
                  decision_id=decision_id, subject=subject, purpose=(purpose or current_purpose())[:MAX_PURPOSE],
                  via=(via or _via.get())[:16], outcome=outcome[:16], prev_hash=head.row_hash)
    values["row_hash"] = entry_hash(values)
    entry = ReadEntry(**values)
    session.add(entry)
    head.seq, head.row_hash = values["seq"], values["row_hash"]
    session.flush()
    return entry


@dataclass(frozen=True)
class ReadsReport:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None  # the first bad entry


def verify(session: Session, batch: int = 1000) -> ReadsReport:
    """Walk the read log in order: every entry's hash, every link, and the head at the end."""
    prev, expected, checked = GENESIS, 1, 0
    query = select(ReadEntry).order_by(ReadEntry.seq).execution_options(yield_per=batch)
    for entry in session.execute(query).scalars():
        if entry.seq != expected:
            return ReadsReport(False, checked, "missing", expected)
        values = {c: getattr(entry, c) for c in ("seq", "at", "caller", "action", "decision_id", "subject",
                                                 "purpose", "via", "outcome", "prev_hash")}
        if entry.prev_hash != prev:
            return ReadsReport(False, checked, "link", entry.seq)
        if entry_hash(values) != entry.row_hash:
            return ReadsReport(False, checked, "altered", entry.seq)
        prev, expected, checked = entry.row_hash, expected + 1, checked + 1
    head = session.get(ReadHead, 1)
    if head is None or head.seq != checked or head.row_hash != prev:
        return ReadsReport(False, checked, "head", checked + 1 if head is None or head.seq > checked else checked)
    return ReadsReport(True, checked)


def listing(session: Session, *, decision_id: str | None = None, subject: str | None = None,
            caller: str | None = None, since: dt.date | None = None, until: dt.date | None = None,
            after: int = 0, limit: int = 100) -> list[dict]:
    """Entries in order (``after``: the last seq already seen, to page on)."""
    query = select(ReadEntry).where(ReadEntry.seq > after)
    if decision_id:
        query = query.where(ReadEntry.decision_id == decision_id)
    if subject:
        query = query.where(ReadEntry.subject == subject)
    if caller:
        query = query.where(ReadEntry.caller == caller)
    if since:
        query = query.where(ReadEntry.at >= dt.datetime(since.year, since.month, since.day, tzinfo=dt.timezone.utc))
    if until:
        end = until + dt.timedelta(days=1)
        query = query.where(ReadEntry.at < dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc))
    rows = session.execute(query.order_by(ReadEntry.seq).limit(limit)).scalars()
    return [{"seq": e.seq, "at": utc_text(e.at), "caller": e.caller, "action": e.action,
             "decision_id": e.decision_id, "subject": e.subject, "purpose": e.purpose, "via": e.via,
             "outcome": e.outcome, "row_hash": e.row_hash} for e in rows]
