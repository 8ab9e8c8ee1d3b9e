"""The read log: every read or replay of a stored decision, who, when, why, in its own hash chain.

GDPR art. 30/32 accountability (the Garante expects access logs for this kind of data): each GET,
replay or statement of a decision appends one entry (caller, action, decision, subject pseudonym,
purpose, channel, outcome) before the data is answered; an entry that cannot be written means no
answer (503), never an unrecorded read. Concurrent reads are appended together, one transaction
and one commit for many (``Recorder``), each reader answered only after that commit. Entries are
chained like decisions (each hashes its content and the previous entry's hash; ``read_head``
holds the last), ``almp audit verify`` walks the chain and checks it against the signed
checkpoints (api.store.checkpoint, format 2), and auditors list it (``GET /v1/audit/reads``, ``almp audit reads``). Nothing
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

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import jsontext
from .groupcommit import GroupCommit
from .store.chain import GENESIS, utc_text
from .store.checkpoint import Checkpoint
from .store.tables import Decision, ReadEntry, ReadHead

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
        from engine.i18n import _
        raise BadPurpose(_("a purpose is 1 to {limit} printable characters", limit=MAX_PURPOSE))
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


class Recorder(GroupCommit):
    """Group commit for the read log (``api.groupcommit``): reads waiting to be recorded are appended in one
    transaction.

    ``record`` returns only once the transaction holding its entry has committed, so the entry is
    durable before the data is answered; if that transaction fails, every reader in it gets the
    error (no answer, never an unrecorded read).
    """

    thread_name = "almp-read-log"

    def __init__(self, store, max_batch: int = 128, store_down: tuple = ()):
        super().__init__(max_batch, store_down)
        self._store = store  # a callable giving the current store (swapped in by tests or reconfiguration)

    def record(self, *, caller: str, action: str, decision_id: str | None, purpose: str | None = None,
               via: str | None = None, outcome: str = "ok") -> None:
        # the purpose and channel come from the reader's context, which the committing thread does not share
        fields = dict(caller=caller, action=action, decision_id=decision_id, purpose=purpose or current_purpose(),
                      via=via or _via.get(), outcome=outcome)
        self.submit(fields).result()

    def write(self, items: list) -> list:
        with self._store().transaction() as session:
            append_many(session, items)
        return [None] * len(items)


def append_many(session: Session, items: list[dict]) -> None:
    """Append entries (``Recorder.record``'s fields each) in order: one head lock, one subject look-up
    and one multi-row insert for them all. Call inside ``session.begin()``: durable at commit."""
    head = session.execute(select(ReadHead.seq, ReadHead.row_hash).where(ReadHead.id == 1).with_for_update()).one()
    ids = {item["decision_id"] for item in items if item["decision_id"]}
    subjects = dict(session.execute(select(Decision.id, Decision.subject).where(Decision.id.in_(ids))).all()) \
        if ids else {}
    seq, prev, at, rows = head.seq, head.row_hash, dt.datetime.now(dt.timezone.utc), []
    for item in items:
        values = dict(seq=seq + 1, at=at, caller=item["caller"][:128], action=item["action"][:32],
                      decision_id=item["decision_id"], subject=subjects.get(item["decision_id"]),
                      purpose=item["purpose"][:MAX_PURPOSE], via=item["via"][:16], outcome=item["outcome"][:16],
                      prev_hash=prev)
        values["row_hash"] = entry_hash(values)
        rows.append(values)
        seq, prev = values["seq"], values["row_hash"]
    session.execute(insert(ReadEntry), rows)
    session.execute(update(ReadHead).where(ReadHead.id == 1).values(seq=seq, row_hash=prev))


@dataclass(frozen=True)
class ReadsReport:
    ok: bool
    checked: int
    problem: str | None = None  # missing, link, altered, head; against a checkpoint: truncated, rewritten
    seq: int | None = None  # the first bad entry
    checkpoint: "Checkpoint | None" = None  # the signed checkpoint the log no longer agrees with
    checkpoints_checked: int = 0  # checkpoints that commit to the read log and agree with it


def _entry_values(entry: ReadEntry) -> dict:
    return {c: getattr(entry, c) for c in ("seq", "at", "caller", "action", "decision_id", "subject", "purpose", "via",
                                           "outcome", "prev_hash")}


def verify(session: Session, checkpoints: "list[Checkpoint] | None" = None, batch: int = 1000) -> ReadsReport:
    """Walk the read log in order: every entry's hash, every link, and the head at the end.

    With ``checkpoints`` (whose signatures the caller has checked), the log must also extend each
    one that commits to the read log (format 2): the entry at its ``reads_size`` has its
    ``reads_head`` hash, and the log holds at least that many entries. A valid chain whose entry
    at seq n has the signed hash holds the signed first n entries unchanged, so a truncated tail
    with its head fixed, a rewritten last entry with hashes recomputed, or an emptied log is caught.
    """
    signed: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints or ():
        if cp.covers_reads:
            signed.setdefault(cp.reads_size, []).append(cp)
    prev, expected, checked, matched = GENESIS, 1, 0, 0

    def against_checkpoints() -> ReadsReport | None:
        nonlocal matched
        for cp in signed.get(checked, ()):
            if cp.reads_head != prev:
                return ReadsReport(False, checked, "rewritten", checked, cp, matched)
            matched += 1
        return None

    failed = against_checkpoints()  # a checkpoint of the empty read log
    if failed:
        return failed
    query = select(ReadEntry).order_by(ReadEntry.seq).execution_options(yield_per=batch)
    for entry in session.execute(query).scalars():
        if entry.seq != expected:
            return ReadsReport(False, checked, "missing", expected, None, matched)
        if entry.prev_hash != prev:
            return ReadsReport(False, checked, "link", entry.seq, None, matched)
        if entry_hash(_entry_values(entry)) != entry.row_hash:
            return ReadsReport(False, checked, "altered", entry.seq, None, matched)
        prev, expected, checked = entry.row_hash, expected + 1, checked + 1
        failed = against_checkpoints()
        if failed:
            return failed
    head = session.get(ReadHead, 1)
    if head is None or head.seq != checked or head.row_hash != prev:
        return ReadsReport(False, checked, "head", checked + 1 if head is None or head.seq > checked else checked,
                           None, matched)
    beyond = [cp for size, cps in signed.items() if size > checked for cp in cps]
    if beyond:
        return ReadsReport(False, checked, "truncated", checked + 1, max(beyond, key=lambda c: c.reads_size), matched)
    return ReadsReport(True, checked, checkpoints_checked=matched)


class ReadLogRewritten(Exception):
    """The read log no longer extends the last checkpoint, or an entry since then fails its hash."""

    def __init__(self, problem: str, seq: int):
        super().__init__(problem, seq)
        self.problem, self.seq = problem, seq


def signed_state(session: Session, previous: "Checkpoint | None" = None) -> tuple[int, str]:
    """The read log's size and last hash, to be signed into a checkpoint.

    Only the entries after ``previous`` (if it commits to the read log) are walked: each must link
    and match its hash, and the entry at ``previous.reads_size`` must still carry the signed hash;
    otherwise ReadLogRewritten, so that a checkpoint never blesses a rewrite. The state is taken
    from the entries read, not from ``read_head``: entries committed meanwhile wait for the next one.
    """
    after = previous.reads_size if previous is not None and previous.covers_reads else 0
    prev = GENESIS
    if after:
        prev = session.execute(select(ReadEntry.row_hash).where(ReadEntry.seq == after)).scalar_one_or_none()
        if prev is None:
            raise ReadLogRewritten("truncated", after)
        if prev != previous.reads_head:
            raise ReadLogRewritten("rewritten", after)
    expected = after + 1
    query = select(ReadEntry).where(ReadEntry.seq > after).order_by(ReadEntry.seq).execution_options(yield_per=1000)
    for entry in session.execute(query).scalars():
        if entry.seq != expected:
            raise ReadLogRewritten("missing", expected)
        if entry.prev_hash != prev:
            raise ReadLogRewritten("link", entry.seq)
        if entry_hash(_entry_values(entry)) != entry.row_hash:
            raise ReadLogRewritten("altered", entry.seq)
        prev, expected = entry.row_hash, expected + 1
    return expected - 1, prev


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
