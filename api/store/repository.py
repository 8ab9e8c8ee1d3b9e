"""Reads and appends on the decision store. The caller owns the transaction, except where noted."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import threading
import uuid
from dataclasses import dataclass, fields
from typing import Iterator

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from engine.decide.trace import Trace

from .. import jsontext
from .audit import ChainReport, verify_chain  # noqa: F401 - re-exported
from . import sealing, trace_plans
from .chain import CURRENT, digest, link, row_hash, utc_text
from .sealing import PersonalDataErased, SealBroken
from .tables import AuthorityText, ChainHead, DataKey, Decision, Edition

# Input fields that say which edition decided, not who: they stay in clear; the rest is sealed.
CLEAR_INPUT = ("policy", "version", "as_of")
FOREVER = dt.date(9999, 12, 31)  # retain_until of a key whose decisions' edition states no retention


class IdempotencyConflict(Exception):
    """The idempotency key was already used with another request body."""


@dataclass(frozen=True)
class StoredDecision:
    """A decision as read back from the store (JSON payloads parsed, numbers exact).

    ``input``, ``result`` and ``trace`` carry personal facts: once the subject is erased they raise
    ``PersonalDataErased``; ``summary`` (outcome, band, edition, amounts) stays readable.
    """

    id: str
    seq: int
    created_at: str
    kind: str
    policy_id: str
    version: str
    content_hash: str
    engine_version: str
    as_of: dt.date
    caller: str
    _input: dict | None
    _result: dict | None
    _trace: list | None
    row_hash: str
    subject: str | None = None
    # False when the row's content no longer matches its hash: altered outside the service
    intact: bool = True
    summary: dict | None = None  # the result's countable part, readable after erasure too
    erased: bool = False
    erased_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row, keys=None, opened: dict | None = None, plans=None) -> "StoredDecision":
        """From a ``Decision`` row, or anything with its column attributes.

        A sealed row is opened with its data key: ``keys`` maps a key id to its ``DataKey`` row (or
        None); ``opened`` is the personal part itself, for a row this process has just sealed. A sealed
        trace stored as a record (a dict) is rendered from its plan: ``plans`` (``trace_plans.Plans``) finds
        it; a plan missing or altered leaves the trace unreadable and the decision not ``intact``.
        """
        clear_input, clear_result = jsontext.loads(row.input_json), jsontext.loads(row.result_json)
        intact, erased, erased_at = _intact(row), False, None
        inp, result, trace = clear_input, clear_result, None
        if row.sealed is None:  # stored before sealing existed: all in clear
            trace = jsontext.loads(row.trace_json)
        else:
            if opened is None:
                try:
                    opened = _open(row, keys)
                except PersonalDataErased as exc:
                    erased, erased_at = True, exc.erased_at
                except SealBroken:
                    erased, intact = True, False
            if opened is not None:
                inp = {**clear_input, **opened["input"]}
                result = sealing.merge(clear_result, opened["result"])
                trace = opened["trace"]
                if type(trace) is dict:  # a trace record (api.store.trace_plans); a list is a full trace
                    try:
                        if trace.get("plan") != trace_plans.referenced(row.trace_json):
                            raise trace_plans.PlanUnavailable("the clear plan reference names another plan")
                        trace = jsontext.loads(trace_plans.render(trace, plans or trace_plans.Plans()))
                    except trace_plans.PlanUnavailable:
                        trace, intact = None, False
            else:
                inp = result = None
        return cls(id=row.id, seq=row.seq, created_at=utc_text(row.created_at), kind=row.kind,
                   policy_id=row.policy_id, version=row.version, content_hash=row.content_hash,
                   engine_version=row.engine_version, as_of=row.as_of, caller=row.caller,
                   _input=inp, _result=result, _trace=trace, row_hash=row.row_hash, subject=row.subject,
                   intact=intact, summary=sealing.split(clear_result)[0], erased=erased, erased_at=erased_at)

    def _personal(self, value):
        if self.erased:
            raise PersonalDataErased(self.id, self.erased_at)
        return value

    @property
    def input(self) -> dict:
        return self._personal(self._input)

    @property
    def result(self) -> dict:
        return self._personal(self._result)

    @property
    def trace(self) -> list | None:
        return self._personal(self._trace)

    def answer_text(self) -> str:
        """The decision as answered to its caller (see ``answer_text``)."""
        return answer_text(self.id, jsontext.canonical(self.result), jsontext.canonical(self.trace))

    def full_result(self) -> dict:
        """The engine's answer as it was sent: the result with its trace."""
        return self.result if self.trace is None else {**self.result, "trace": self.trace}


def _open(row, keys) -> dict:
    key_id = sealing.key_id_of(row.sealed)
    key = keys(key_id) if keys is not None else None
    if key is None:
        raise SealBroken(f"decision {row.id}: its data key {key_id} is not in the store")
    if key.wrapped is None:
        raise PersonalDataErased(row.id, key.erased_at)
    data_key = sealing.default().unwrap(key.wrapped, key_id)
    return sealing.Sealer.open(data_key, row.id, row.sealed)


def keys_of(session: Session):
    """A key lookup for ``StoredDecision.from_row`` within ``session``."""
    return lambda key_id: session.get(DataKey, key_id)


def plans_of(session: Session) -> trace_plans.Plans:
    """A trace plan lookup for ``StoredDecision.from_row`` within ``session``."""
    return trace_plans.Plans(session)


def _intact(row) -> bool:
    try:
        return row_hash(row) == row.row_hash
    except ValueError:
        return False


def answer_text(decision_id: str, result_json: str, trace_json: str) -> str:
    """A decision's answer: its id, then the result's canonical text, with the trace last.

    Built from the stored texts themselves, so a new decision and an idempotent retry of it are
    answered with the same bytes, and nothing is parsed or re-encoded on the way out.
    """
    parts = ['{"decision_id":', jsontext.canonical(decision_id)]
    if result_json != "{}":
        parts += [",", result_json[1:-1]]
    if trace_json != "null":
        parts += [',"trace":', trace_json]
    parts.append("}")
    return "".join(parts)


def idempotency_ttl() -> dt.timedelta | None:
    """How long an Idempotency-Key holds (``ALMP_IDEMPOTENCY_TTL_HOURS``, default 24; 0: for ever)."""
    try:
        hours = float(os.environ.get("ALMP_IDEMPOTENCY_TTL_HOURS", "24"))
    except ValueError:
        hours = 24.0
    return dt.timedelta(hours=hours) if hours > 0 else None


def idempotency_since() -> dt.datetime | None:
    ttl = idempotency_ttl()
    return None if ttl is None else dt.datetime.now(dt.timezone.utc) - ttl


def request_hash(kind: str, body) -> str:
    """A keyed hash (HMAC under a key derived from the sealing master key) of a request: a plain hash
    of the facts would let whoever reads the database confirm a guess of an erased person's facts."""
    return request_hashes(kind, body)[0]


def request_hashes(kind: str, body) -> tuple[str, str]:
    """(the keyed hash stored from now on, the plain sha256 that rows stored before sealing hold): a retry
    of a request first made before the upgrade still finds its decision."""
    return request_hashes_of(jsontext.canonical({"kind": kind, "body": body}))


def request_hashes_of(canonical_text: str) -> tuple[str, str]:
    """``request_hashes`` from the canonical text of ``{"kind": kind, "body": body}`` already written."""
    text = canonical_text.encode("utf-8")
    return ("hmac:" + hmac.new(sealing.default().mac_key(), text, hashlib.sha256).hexdigest(),
            "sha256:" + hashlib.sha256(text).hexdigest())


def _lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain head for this transaction; its (seq, row_hash).

    PostgreSQL: the row lock serialises appends across workers and machines. SQLite: the
    transaction already began IMMEDIATE (api.store.db), which holds the database write lock.
    A Core statement: the head is read and written once per batch, no ORM identity to keep.
    """
    seq, last = session.execute(select(_HEAD.c.seq, _HEAD.c.row_hash).where(_HEAD.c.id == 1)
                                .with_for_update()).one()
    return seq, last


_HEAD = ChainHead.__table__
_DECISIONS = Decision.__table__
_KEYS = DataKey.__table__


class StoredTexts:
    """Editions and authority texts known to be in the store, so a batch does not look each one up again.

    Both are stored once and never deleted or changed (rows keyed by their content hash), so a hash seen
    committed stays true. A batch's new ones are noted as pending and become known only once its
    transaction has committed (``confirm``); a rolled-back batch leaves nothing remembered.
    """

    def __init__(self):
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._known

    def confirm(self, keys) -> None:
        with self._lock:
            self._known.update(keys)


def _insert_once(session: Session, table, values: dict) -> None:
    """Insert a content-addressed row unless it is there: two workers may store the same text at once."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(table).values(**values).on_conflict_do_nothing())


def _store_edition(session: Session, policy, known: StoredTexts | None = None, noted: list | None = None) -> None:
    key = "edition:" + policy.content_hash
    if known is not None and key in known:
        return
    if session.get(Edition, policy.content_hash) is None:
        _insert_once(session, Edition.__table__, dict(
            content_hash=policy.content_hash, policy_id=policy.id, version=policy.version,
            bundle_json=jsontext.canonical(policy.bundle), stored_at=dt.datetime.now(dt.timezone.utc)))
    if noted is not None:
        noted.append(key)


def _store_authority(session: Session, authority, known: StoredTexts | None = None,
                     noted: list | None = None) -> None:
    key = "authority:" + authority.hash
    if known is not None and key in known:
        return
    if session.get(AuthorityText, authority.hash) is None:
        _insert_once(session, AuthorityText.__table__, dict(
            hash=authority.hash, folder=authority.folder, text=authority.text,
            stored_at=dt.datetime.now(dt.timezone.utc)))
    if noted is not None:
        noted.append(key)


def get_statement_basis(session: Session, decision_id: str) -> tuple[dict | None, str | None]:
    """(the decision's recorded statement basis, the authority text it names); (None, None) before statements."""
    basis = session.execute(select(Decision.statement_basis).where(Decision.id == decision_id)).scalar_one_or_none()
    if basis is None:
        return None, None
    basis = jsontext.loads(basis)
    text = None
    if basis.get("authority"):
        found = session.get(AuthorityText, basis["authority"])
        text = None if found is None else found.text
    return basis, text


@dataclass(frozen=True)
class PendingDecision:
    """A decision evaluated and turned into its stored text, waiting for its place in the chain.

    Everything that does not depend on the chain (canonical texts, request hash) is computed by
    the caller before the chain head is locked, so the locked section stays short. The stored texts
    are the clear part (edition, date, countable summary); ``personal_json`` is what gets sealed.
    """

    kind: str
    policy: object
    as_of: dt.date
    engine_version: str
    caller: str
    idempotency_key: str | None
    req_hash: str
    input_json: str
    result_json: str
    trace_json: str
    subject: str | None = None  # the subject's pseudonym (api.pseudonym), if the caller named one
    statement_basis: str | None = None  # canonical JSON {"template", "authority"} (api.statements)
    authority: object = None  # engine.statement.Authority whose text the basis names, stored by hash
    personal_json: str = '{"input":{},"result":{},"trace":null}'
    answer_result_json: str = "{}"  # the whole result and trace, as answered to the caller
    answer_trace_json: str | object = "null"  # or, for a batch line, the Trace itself (written if asked for)
    legacy_req_hash: str | None = None  # the plain sha256 form, matched only against rows stored before sealing
    trace_plan: object = None  # engine.decide.trace.TracePlan the sealed trace record names, stored by hash

    @classmethod
    def made(cls, **values) -> "PendingDecision":
        """``cls(**values)`` with every field given, at less than half the cost: the frozen dataclass's ``__init__``
        sets each field through ``object.__setattr__`` (~10 µs for 18 fields, per line of a batch). The instance
        is as frozen as any other."""
        if values.keys() != _PENDING_FIELDS:
            raise TypeError(f"PendingDecision.made needs every field: {sorted(_PENDING_FIELDS ^ values.keys())}")
        made = object.__new__(cls)
        made.__dict__.update(values)
        return made

    @classmethod
    def build(cls, *, kind: str, policy, as_of: dt.date, input: dict, result: dict, engine_version: str,
              caller: str, idempotency_key: str | None, req_hash: str,
              subject: str | None = None, statement_basis: dict | None = None,
              authority=None, legacy_req_hash: str | None = None) -> "PendingDecision":
        body = dict(result)
        trace = body.pop("trace", None)  # costing results carry no trace
        clear_result, personal_result = sealing.split(body)
        clear_input = {k: v for k, v in input.items() if k in CLEAR_INPUT}
        personal_input = {k: v for k, v in input.items() if k not in CLEAR_INPUT}
        trace_json = jsontext.canonical(trace)
        trace_plan, stored_trace, clear_trace = None, trace_json, "null"
        if type(trace) is Trace:  # sealed as its record; its plan's text is stored once (api.store.trace_plans)
            trace_plan, stored_trace = trace.plan, trace.record()
            clear_trace = trace_plans.reference(trace_plan)
        # the canonical text of {"input", "result", "trace"} (keys in that order), the trace written once
        personal_json = ('{"input":' + jsontext.canonical(personal_input) + ',"result":'
                         + jsontext.canonical(personal_result) + ',"trace":' + stored_trace + "}")
        return cls(kind=kind, policy=policy, as_of=as_of, engine_version=engine_version, caller=caller,
                   idempotency_key=idempotency_key, req_hash=req_hash, input_json=jsontext.canonical(clear_input),
                   result_json=jsontext.canonical(clear_result), trace_json=clear_trace, subject=subject,
                   statement_basis=None if statement_basis is None else jsontext.canonical(statement_basis),
                   authority=authority, personal_json=personal_json,
                   answer_result_json=jsontext.canonical(body), answer_trace_json=trace_json,
                   legacy_req_hash=legacy_req_hash, trace_plan=trace_plan)


_PENDING_FIELDS = frozenset(field.name for field in fields(PendingDecision))


@dataclass(frozen=True)
class AppendedRow:
    """The stored columns of a decision just appended (parsed into a StoredDecision by the caller)."""

    values: dict
    pending: PendingDecision

    @property
    def id(self) -> str:
        return self.values["id"]

    def stored(self) -> StoredDecision:
        return StoredDecision.from_row(_RowView(self.values), opened=jsontext.loads(self.pending.personal_json),
                                       plans=trace_plans.Plans(own=self.pending.trace_plan))

    def answer_text(self) -> str:
        trace = self.pending.answer_trace_json
        if type(trace) is not str:  # a batch line's trace record, written only if asked for
            trace = trace.canonical()
        return answer_text(self.values["id"], self.pending.answer_result_json, trace)


class _RowView:
    """Attribute access over a dict of column values, for ``row_hash``."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def _retain_until(day: dt.date, years: int | None) -> dt.date:
    if years is None:
        return FOREVER
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


class _NewKey:
    """A data key made by this batch: its row is inserted with the batch's decisions (Core, before them)."""

    def __init__(self, values: dict):
        self.values = values

    @property
    def id(self) -> str:
        return self.values["id"]

    @property
    def retain_until(self) -> dt.date:
        return self.values["retain_until"]

    @retain_until.setter
    def retain_until(self, day: dt.date) -> None:
        self.values["retain_until"] = day


class _Keys:
    """The data keys a batch seals with: one live key per subject, one own key per decision without one.

    Read with a Core query and never changed here: a key whose retention must grow is noted in
    ``extended`` and updated where the batch is appended (under the chain lock, where erasure runs too).
    """

    def __init__(self, session: Session, subjects: set, ids=None):
        self.sealer = sealing.default()
        self._ids = ids  # an iterator of fresh random key ids (api.store.bulk makes them in one go), or None
        self.live: dict[str, tuple[str, bytes]] = {}  # subject -> (key id, data key)
        self.until: dict[str, dt.date | None] = {}  # key id -> its retain_until as read or made
        self.new_rows: list[dict] = []
        self.extended: dict[str, dt.date] = {}  # existing key id -> the later retain_until it needs
        if subjects:
            query = select(_KEYS.c.id, _KEYS.c.subject, _KEYS.c.wrapped, _KEYS.c.retain_until).where(
                _KEYS.c.subject.in_(subjects), _KEYS.c.erased_at.is_(None))
            for key_id, subject, wrapped, until in session.execute(query):
                self.live[subject] = (key_id, self.sealer.unwrap(wrapped, key_id))
                self.until[key_id] = until

    @property
    def used(self) -> list[str]:
        """The ids of keys read from the store (not made by this batch) that this batch seals with."""
        made = {row["id"] for row in self.new_rows}
        return sorted({key_id for key_id, _ in self.live.values() if key_id not in made})

    def for_decision(self, subject: str | None, now: dt.datetime, years: int | None) -> tuple[str, bytes]:
        until = _retain_until(now.date(), years)
        found = self.live.get(subject) if subject is not None else None
        if found is None:
            key_id = str(uuid.uuid4()) if self._ids is None else next(self._ids)
            data_key = self.sealer.new_data_key()
            values = dict(id=key_id, subject=subject, wrapped=self.sealer.wrap(data_key, key_id), created_at=now,
                          erased_at=None, retain_until=until)
            self.new_rows.append(values)
            if subject is not None:
                self.live[subject] = (key_id, data_key)
                self.until[key_id] = until
            return key_id, data_key
        key_id, data_key = found
        current = self.until.get(key_id)
        if current is None or current < until:  # the subject's facts are kept as long as their latest decision needs
            self.until[key_id] = until
            made = next((row for row in self.new_rows if row["id"] == key_id), None)
            if made is not None:
                made["retain_until"] = until
            else:
                self.extended[key_id] = until
        return key_id, data_key


@dataclass
class _Plan:
    """A batch made ready for the chain: everything but each new row's place in it (seq, prev_hash, row_hash)."""

    outcomes: list
    rows: list  # column values of the new rows, in chain order
    digests: list  # their scheme-4 digests (api.store.chain.digest)
    keys: _Keys
    editions: dict
    authorities: dict
    idempotency_keys: list  # the keys of the new rows: no row may have taken them since they were looked up
    trace_plans: dict  # plan hash -> TracePlan the new rows' trace records name


def _plan(session: Session, items: list[PendingDecision]) -> _Plan:
    """Resolve idempotent retries, seal and digest the new rows: the part of an append outside the lock."""
    keys = {item.idempotency_key for item in items if item.idempotency_key is not None}
    earlier: dict[str, tuple[str, object]] = {}  # idempotency key -> (request hash, stored form)
    if keys:
        # the latest use of each key, unless it is older than the idempotency period: then it is as if unused
        oldest = idempotency_since()
        query = select(Decision).where(Decision.idempotency_key.in_(keys))
        if oldest is not None:
            query = query.where(Decision.created_at >= oldest)
        for row in session.execute(query.order_by(Decision.seq)).scalars():
            earlier[row.idempotency_key] = (row.request_hash, StoredDecision.from_row(row, keys_of(session),
                                                                                       plans=plans_of(session)))
    data_keys = _Keys(session, {item.subject for item in items if item.subject is not None})
    plan = _Plan([], [], [], data_keys, {}, {}, [], {})
    for item in items:
        key = item.idempotency_key
        if key is not None and key in earlier:
            first_hash, first = earlier[key]
            if first_hash != item.req_hash and not (first_hash.startswith("sha256:")
                                                    and first_hash == item.legacy_req_hash):
                plan.outcomes.append(IdempotencyConflict(key))
            elif getattr(first, "erased", False):
                plan.outcomes.append(PersonalDataErased(first.id, first.erased_at))
            else:
                plan.outcomes.append((first, False))
            continue
        policy = item.policy
        plan.editions.setdefault(policy.content_hash, policy)
        if item.authority is not None:
            plan.authorities.setdefault(item.authority.hash, item.authority)
        if item.trace_plan is not None:
            plan.trace_plans.setdefault(item.trace_plan.hash, item.trace_plan)
        decision_id, now = str(uuid.uuid4()), dt.datetime.now(dt.timezone.utc)
        key_id, data_key = data_keys.for_decision(item.subject, now, getattr(policy, "retention_years", None))
        sealed = sealing.Sealer.seal_text(data_key, key_id, decision_id, item.personal_json)
        values = dict(seq=None, id=decision_id, created_at=now,
                      kind=item.kind, policy_id=policy.id, version=policy.version,
                      content_hash=policy.content_hash, engine_version=item.engine_version, as_of=item.as_of,
                      caller=item.caller, idempotency_key=key, request_hash=item.req_hash,
                      input_json=item.input_json, result_json=item.result_json, trace_json=item.trace_json,
                      prev_hash=None, row_hash="", hash_scheme=CURRENT, subject=item.subject, sealed=sealed,
                      statement_basis=item.statement_basis)
        plan.digests.append(digest(_RowView(values)))
        appended = AppendedRow(values, item)
        plan.rows.append(values)
        plan.outcomes.append((appended, True))
        if key is not None:
            earlier[key] = (item.req_hash, appended)
            plan.idempotency_keys.append(key)
    return plan


def _link(plan: _Plan, head_seq: int, head_hash: str) -> tuple[int, str]:
    """Give each new row its place after the head; the new head."""
    seq, prev = head_seq, head_hash
    for values, row_digest in zip(plan.rows, plan.digests):
        seq += 1
        values["seq"], values["prev_hash"] = seq, prev
        values["row_hash"] = prev = link(prev, seq, row_digest)
    return seq, prev


def _store_texts(session: Session, plan: _Plan, known: StoredTexts | None, noted: list | None) -> None:
    for policy in plan.editions.values():
        _store_edition(session, policy, known, noted)
    for authority in plan.authorities.values():
        _store_authority(session, authority, known, noted)
    for trace_plan in plan.trace_plans.values():
        trace_plans.store(session, trace_plan, known, noted)
    session.flush()


def append_batch(session: Session, items: list[PendingDecision], known: StoredTexts | None = None,
                 noted: list | None = None) -> list:
    """Append several decisions to the chain in one transaction (group commit), in the given order.

    Call inside ``session.begin()``; nothing is durable before that transaction commits. Returns,
    per item, ``(AppendedRow, True)`` for a new row, ``(StoredDecision or AppendedRow, False)`` for
    an idempotent retry (of a stored row, or of an earlier item of this batch), or an exception
    instance: ``IdempotencyConflict``, or ``PersonalDataErased`` for a retry of an erased decision
    (that item is not stored; the others are).

    ``known``: editions and authority texts already stored (not looked up again); the keys of those this
    batch made sure of are appended to ``noted``, for ``known.confirm`` once the transaction has committed.
    The head is locked first, so everything is read and written under the chain lock (SQLite holds its
    write lock for the whole transaction anyway); on PostgreSQL ``server_append`` keeps the lock shorter.
    """
    head_seq, head_hash = _lock_head(session)
    plan = _plan(session, items)
    if plan.rows:
        _store_texts(session, plan, known, noted)
        seq, prev = _link(plan, head_seq, head_hash)
        _insert_keys(session, plan.keys)
        session.execute(insert(_DECISIONS), plan.rows)  # Core executemany: the rows are plain column values
        session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq, row_hash=prev))
    return plan.outcomes


def _insert_keys(session: Session, keys: _Keys) -> None:
    if keys.new_rows:
        session.execute(insert(_KEYS), keys.new_rows)
    for key_id, until in keys.extended.items():
        session.execute(update(_KEYS).where(_KEYS.c.id == key_id).values(retain_until=until))


class AppendRace(Exception):
    """Between a batch's preparation and its append, a key it seals with was erased or an idempotency key it
    claims was taken: nothing was stored; append it again with ``append_batch`` (all under the lock)."""


def server_append(store, items: list[PendingDecision], known: StoredTexts | None, noted: list | None,
                  connect) -> list:
    """PostgreSQL: prepare outside the chain lock, then append in one statement that holds it (``almp_append``).

    The preparation (idempotency look-ups, data keys, sealing, digests, new edition texts) runs in its own
    short transaction without the lock; ``almp_append`` (migration 0007) then locks the head, checks nothing
    it relied on changed since (else ``AppendRace``), links and inserts the rows and moves the head, and the
    statement commits at once (autocommit) without waiting for the disk: the lock is held inside the server
    only, for one statement, never across a disk flush. ``almp_durable()`` then waits until the batch is
    durable. Returns the outcomes as ``append_batch`` does, once durable.

    ``connect(fresh)``: an open autocommit connection (the group committer keeps one between batches);
    ``fresh=True`` when the last one died. A connection dying under the statement leaves it unknown whether
    the batch committed: its rows carry their ids, so they are looked for on a fresh connection and the
    statement is sent again only if they are not there (a second copy would fail on the unique id anyway).
    """
    with store.sessions() as session, session.begin():
        plan = _plan(session, items)
        if plan.rows:
            _store_texts(session, plan, known, noted)
    if not plan.rows:
        if any(not isinstance(outcome, Exception) for outcome in plan.outcomes):
            _durable(connect(False))  # a retry may find a row appended a moment ago, not yet on disk
        return plan.outcomes
    since = idempotency_since()
    payload = jsontext.canonical({
        "rows": [_wire_row(values, row_digest) for values, row_digest in zip(plan.rows, plan.digests)],
        "new_keys": [{"id": k["id"], "subject": k["subject"], "wrapped": k["wrapped"],
                      "created_at": k["created_at"].isoformat(), "retain_until": k["retain_until"].isoformat()}
                     for k in plan.keys.new_rows],
        "used_keys": plan.keys.used,
        "extend_keys": [{"id": key_id, "until": until.isoformat()} for key_id, until in plan.keys.extended.items()],
        "idempotency_keys": plan.idempotency_keys,
        "idempotency_since": None if since is None else since.isoformat(),
    })
    try:
        answer = _call_append(connect(False), payload)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        conn = connect(True)
        answer = _appended(conn, plan)
        if answer is None:
            try:
                answer = _call_append(conn, payload)
            except IntegrityError:  # the first statement committed after all, while this one waited on its ids
                answer = _appended(conn, plan)
                if answer is None:
                    raise
    _link(plan, answer["seq"], answer["hash"])
    if [values["row_hash"] for values in plan.rows] != answer["hashes"]:  # the SQL and Python links must agree
        raise RuntimeError("almp_append linked the rows differently from api.store.chain.link")
    _durable(connect(False))
    return plan.outcomes


_APPEND = text("SELECT almp_append(CAST(:batch AS jsonb))")
_DURABLE = text("SELECT almp_durable()")


def _durable(conn) -> None:
    """Wait until what this connection committed is durable (``almp_append`` commits without waiting)."""
    conn.execute(_DURABLE)


def _call_append(conn, payload: str) -> dict:
    try:
        return conn.execute(_APPEND, {"batch": payload}).scalar_one()
    except DBAPIError as exc:
        if "almp_append: race" in str(getattr(exc, "orig", exc)):
            raise AppendRace() from None
        raise


def _appended(conn, plan: _Plan) -> dict | None:
    """What ``almp_append`` answered for ``plan``, read back from its committed rows; None if not committed."""
    found = conn.execute(select(_DECISIONS.c.seq, _DECISIONS.c.prev_hash, _DECISIONS.c.row_hash)
                         .where(_DECISIONS.c.id.in_([values["id"] for values in plan.rows]))
                         .order_by(_DECISIONS.c.seq)).all()
    if not found:
        return None
    if len(found) != len(plan.rows):  # one transaction: all its rows or none
        raise RuntimeError("a batch appended by almp_append is only partly in the store")
    return {"seq": found[0].seq - 1, "hash": found[0].prev_hash, "hashes": [row.row_hash for row in found]}


def _wire_row(values: dict, row_digest: str) -> dict:
    row = {k: v for k, v in values.items() if k not in ("seq", "prev_hash", "row_hash", "created_at", "as_of")}
    row.update(created_at=values["created_at"].isoformat(), as_of=values["as_of"].isoformat(), digest=row_digest)
    return row


def get_decision(session: Session, decision_id: str) -> StoredDecision | None:
    row = session.execute(select(Decision).where(Decision.id == decision_id)).scalar_one_or_none()
    return None if row is None else StoredDecision.from_row(row, keys_of(session), plans=plans_of(session))


def get_bundle(session: Session, content_hash: str) -> dict | None:
    edition = session.get(Edition, content_hash)
    return None if edition is None else jsontext.loads(edition.bundle_json)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def iter_decisions(session: Session, start: dt.date, end: dt.date, policy_id: str | None = None,
                   batch: int = 500) -> Iterator[StoredDecision]:
    """Decisions taken from ``start`` to ``end`` inclusive (UTC days), in chain order."""
    query = select(Decision).where(Decision.created_at >= _day_start(start),
                                   Decision.created_at < _day_start(end + dt.timedelta(days=1)))
    if policy_id:
        query = query.where(Decision.policy_id == policy_id)
    plans = plans_of(session)
    for row in session.execute(query.order_by(Decision.seq).execution_options(yield_per=batch)).scalars():
        yield StoredDecision.from_row(row, keys_of(session), plans=plans)


def decisions_between(session_or_url, start: dt.date, end: dt.date, policy_id: str | None = None,
                      kind: str | None = None) -> Iterator[dict]:
    """Stored decisions taken between two dates (inclusive), for reports such as the avviso tooling.

    ``session_or_url`` is an open ``Session`` or a database URL (None: ``ALMP_DATABASE_URL`` or
    ./almp.db). Yields plain dicts: id, created_at, kind, policy_id, version, content_hash,
    as_of, input, result (without trace). Numbers are exact (Decimal). Decisions whose subject was
    erased are left out (their facts are unreadable).
    """
    if isinstance(session_or_url, Session):
        yield from _plain_decisions(session_or_url, start, end, policy_id, kind)
        return
    from .db import database_url, make_engine, session_factory
    engine = make_engine(database_url(session_or_url))
    try:
        with session_factory(engine)() as session:
            yield from _plain_decisions(session, start, end, policy_id, kind)
    finally:
        engine.dispose()


def _plain_decisions(session, start, end, policy_id, kind):
    for d in iter_decisions(session, start, end, policy_id):
        if d.erased:  # the person's facts are gone: nothing to re-evaluate
            continue
        if kind is None or d.kind == kind:
            yield {"id": d.id, "created_at": d.created_at, "kind": d.kind, "policy_id": d.policy_id,
                   "version": d.version, "content_hash": d.content_hash, "as_of": d.as_of,
                   "input": d.input, "result": d.result}
