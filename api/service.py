"""The service's operations, shared by the HTTP routes and the CLI: decide, fetch, replay.

Nothing here knows about HTTP. Every decision is committed before the caller gets it back.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from engine.costs import cost_plan, price_claim
from engine.decide import DurableBackend, decide_eligibility, engine_version
from engine.decide.partial import full_backend
from engine.errors import InputErrors, InputProblem, PolicyNotFound
from engine.i18n import _
from engine.policy import Registry, compile_bundle

from . import jsontext, subjects
from .groupcommit import GroupCommit
from .store import repository
from .store.db import database_url, make_engine, session_factory


_DECISION_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class DecisionNotFound(LookupError):
    """No stored decision has this id. The message is in the language of the request or command that
    asked (``engine.i18n``); the id is said back only when it has the shape of a decision id (a UUID),
    so whatever else was sent in its place (a codice fiscale, a birth date) is never echoed."""

    def __init__(self, decision_id: str):
        self.decision_id = decision_id
        super().__init__(_("no decision '{id}'", id=decision_id) if _DECISION_ID.fullmatch(decision_id or "")
                         else _("no decision has the id given"))


class StoredInputMismatch(Exception):
    """A what-if edition needs facts the stored input lacks (or rejects some it has)."""

    def __init__(self, version: str, errors: InputErrors):
        self.version = version
        self.problems = errors.problems
        super().__init__(str(errors))


class Store:
    """One database: an engine and its sessions."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.sessions = session_factory(self.engine)
        self.stored_texts = repository.StoredTexts()  # editions and authority texts known to be stored

    @contextmanager
    def transaction(self):
        """A session inside one transaction, committed on success (before anything is answered)."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self):
        with self.sessions() as session:
            yield session

    def ping(self) -> None:
        from sqlalchemy import text
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


class EditionCache:
    """Editions compiled from their stored texts, by content hash (compiling is the slow part)."""

    def __init__(self, size: int = 64):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, session: Session, content_hash: str):
        with self._lock:
            if content_hash in self._items:
                self._items.move_to_end(content_hash)
                return self._items[content_hash]
        bundle = repository.get_bundle(session, content_hash)
        if bundle is None:
            raise PolicyNotFound(_("the edition {hash} is not in the decision store", hash=content_hash))
        policy = compile_bundle(bundle)
        with self._lock:
            self._items[content_hash] = policy
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return policy


# The request field holding each kind's subject: a person, a plan of services, a claim.
SUBJECT_FIELD = {"eligibility": "person", "plan": "plan", "claim": "claim", "batch": "person"}


def batch_backend(policy):
    return full_backend(policy, "batch")


def run_engine(kind: str, policy, payload: dict, as_of: dt.date) -> dict:
    """The engine's named call for one kind of decision, on durable-rules.

    Live decisions and replays both come through here, so a replay runs the very code that decided.
    An eligibility trace stays a compact record (``engine.decide.Trace``): ``jsontext`` writes it.
    """
    if kind == "batch":  # an eligibility decision of POST /v1/eligibility/batch, on the batch path
        return decide_eligibility(policy, payload, as_of, batch_backend(policy), compact=True)
    backend = DurableBackend.for_policy(policy)
    if kind == "eligibility":
        return decide_eligibility(policy, payload, as_of, backend, compact=True)
    if kind == "plan":
        return cost_plan(policy, payload, as_of, backend)
    if kind == "claim":
        return price_claim(policy, payload, backend)
    raise PolicyNotFound(_("this service cannot decide or replay decisions of kind '{kind}'", kind=kind))


@dataclass(frozen=True)
class Answer:
    """A committed decision as answered: its id, the exact answer text, and whether this call created it."""

    decision_id: str
    text: str
    created: bool

    @classmethod
    def of(cls, outcome: tuple) -> "Answer":
        found, created = outcome  # AppendedRow (new) or StoredDecision (idempotent retry)
        return cls(found.id, found.answer_text(), created)


def settled(outcome) -> tuple:
    """(StoredDecision, created) from a committer outcome."""
    found, created = outcome
    return (found.stored() if isinstance(found, repository.AppendedRow) else found), created


_STORE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


class GroupCommitter(GroupCommit):
    """Group commit of decisions: those waiting for the chain are appended together (``api.groupcommit``).

    Each request's future is settled only after the batch holding its row is durable (or failed: then
    nothing of that batch was acknowledged). PostgreSQL: ``repository.server_append`` on a connection
    kept between batches; an erasure or idempotent retry racing the unlocked preparation sends the batch
    through ``repository.append_batch``, all under the lock (SQLite always goes that way).
    """

    def __init__(self, store, max_batch: int = 256):
        super().__init__(max_batch, store_down=_STORE_DOWN)
        self._store = store  # a callable giving the current store (swapped in by tests or reconfiguration)
        self._held = None  # (store, autocommit connection, last used): see _connection

    # A connection kept for appending while batches keep coming: the pool would ping the server before each
    # batch (a round trip every batch waits for). Idle for longer than this, it goes back and the next batch
    # takes a pinged one, so a database restarted meanwhile costs nothing; one that died within the window
    # fails that batch only (503: nothing of it was acknowledged) and the next batch reconnects.
    KEEP_CONNECTION_S = 1.0

    def idle_after(self) -> float | None:
        return self.KEEP_CONNECTION_S if self._held else None

    def idle(self) -> None:
        self._drop_connection()  # idle: the kept connection goes back to the pool

    def _connection(self, store, fresh: bool = False):
        now = time.monotonic()
        held = self._held
        if held is not None and (fresh or held[0] is not store or now - held[2] > self.KEEP_CONNECTION_S):
            self._drop_connection()
            held = None
        if held is None:
            conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            held = (store, conn, now)
        self._held = (held[0], held[1], now)
        return held[1]

    def _drop_connection(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            try:
                held[1].close()
            except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is discarded anyway
                pass

    def write(self, items: list) -> list:
        store, noted = self._store(), []
        known = getattr(store, "stored_texts", None)
        outcomes = None
        if store.engine.dialect.name == "postgresql":
            try:
                outcomes = repository.server_append(store, items, known, noted,
                                                    lambda fresh: self._connection(store, fresh))
            except repository.AppendRace:  # an erasure or a retry came between: append under the lock
                noted.clear()
            except _STORE_DOWN:
                self._drop_connection()
                raise
        if outcomes is None:
            with store.transaction() as session:
                outcomes = repository.append_batch(session, items, known, noted)
        if known is not None:
            known.confirm(noted)  # only once committed
        return outcomes


class Service:
    def __init__(self, registry: Registry, store: Store):
        self.registry = registry
        self.store = store
        self.editions = EditionCache()
        self.engine_version = engine_version()
        # reads self.store at each batch, so a store swapped in (tests, reconfiguration) is used next
        self.committer = GroupCommitter(lambda: self.store)
        from .access import Recorder
        self.reads = Recorder(lambda: self.store, store_down=_STORE_DOWN)
        from .statements import Statements
        self.statements = Statements(self)

    # -- deciding ------------------------------------------------------------------------------
    async def eligibility(self, body: dict, *, caller: str, idempotency_key: str | None = None) -> Answer:
        """Evaluate a person (or partnership) and store the decision; answers once its row is committed."""
        return await self._decide_async("eligibility", body, caller, idempotency_key)

    async def plan(self, body: dict, *, caller: str, idempotency_key: str | None = None) -> Answer:
        """Cost a plan of services against the edition's basket; stored as a decision of kind "plan"."""
        return await self._decide_async("plan", body, caller, idempotency_key)

    async def claim(self, body: dict, *, caller: str, idempotency_key: str | None = None) -> Answer:
        """Price a claim for delivered services and outcomes; stored as a decision of kind "claim"."""
        return await self._decide_async("claim", body, caller, idempotency_key)

    async def _decide_async(self, kind: str, body: dict, caller: str, idempotency_key: str | None) -> Answer:
        # Checked and evaluated in a worker thread: CPU-bound work on the event loop would stall every other
        # request (health included) for as long as it runs. The caller then waits, without holding a thread,
        # until the group committer has committed its row.
        pending = await asyncio.to_thread(self.prepare, kind, body, caller=caller, idempotency_key=idempotency_key)
        return Answer.of(await self.committer.submit_async(pending))

    def decide(self, kind: str, body: dict, *, caller: str, idempotency_key: str | None = None):
        """Evaluate and store; returns (stored decision, created) once its row is committed.

        ``body`` is the checked request. Raises InputErrors (bad facts), PolicyNotFound,
        repository.IdempotencyConflict, or the database's error (nothing stored).
        """
        pending = self.prepare(kind, body, caller=caller, idempotency_key=idempotency_key)
        return settled(self.committer.submit(pending).result())

    def prepare(self, kind: str, body: dict, *, caller: str,
                idempotency_key: str | None = None) -> repository.PendingDecision:
        """Evaluate and build the stored texts (no database): the part of a decision outside the chain lock."""
        field = SUBJECT_FIELD[kind]
        as_of = body["as_of"]
        policy = self.registry.get(body["policy"], body.get("version"), as_of)
        payload = body[field]
        subject = None
        try:
            if field == "person":  # the codice fiscale is read, then kept only as a pseudonym
                payload, subject = subjects.for_storage(payload, as_of)
            result = run_engine(kind, policy, payload, as_of)
        except InputErrors as exc:
            raise under_field(field, exc) from None
        stored_input = {"policy": body["policy"], "version": body.get("version"), "as_of": as_of.isoformat(),
                        field: payload}
        # The caller is part of the request: another key reusing an idempotency key gets 409, never
        # someone else's decision.
        req_hash, legacy_hash = repository.request_hashes(kind, {"caller": caller, "request": stored_input})
        basis, authority = self.statements.basis_for(policy)  # recorded so its statement never changes
        return repository.PendingDecision.build(
            kind=kind, policy=policy, as_of=as_of, input=stored_input, result=result,
            engine_version=self.engine_version, caller=caller, idempotency_key=idempotency_key,
            req_hash=req_hash, statement_basis=basis, authority=authority, legacy_req_hash=legacy_hash,
            subject=subject)

    # -- the read log ---------------------------------------------------------------------------
    def record_read(self, *, caller: str, decision_id: str, what: str, outcome: str = "ok",
                    purpose: str | None = None, via: str | None = None) -> None:
        """Append who read which decision, how and why to the read log (api.access); committed on return
        (concurrent reads share one transaction: api.access.Recorder)."""
        self.reads.record(caller=caller, action=what, decision_id=decision_id, purpose=purpose, via=via,
                          outcome=outcome)

    # -- erasure ------------------------------------------------------------------------------
    def erase_subject(self, subject: str, *, by: str, why: str):
        """Destroy the data key of a subject (pseudonym): their decisions' facts become unreadable."""
        from . import retention
        with self.store.transaction() as session:
            return retention.erase_subject(session, subject, by=by, why=why)

    def erase_decision(self, decision_id: str, *, by: str, why: str):
        """Destroy the data key sealing one decision (its subject's, or its own): see ``api.retention``."""
        from . import retention
        with self.store.transaction() as session:
            return retention.erase_decision(session, decision_id, by=by, why=why)

    def apply_retention(self, *, today: dt.date, by: str, dry_run: bool = False):
        from . import retention
        with self.store.transaction() as session:
            return retention.apply(session, today=today, by=by, dry_run=dry_run)

    def get(self, decision_id: str) -> repository.StoredDecision:
        with self.store.reading() as session:
            found = repository.get_decision(session, decision_id)
        if found is None:
            raise DecisionNotFound(decision_id)
        return found

    # -- replaying -----------------------------------------------------------------------------
    def replay(self, decision_id: str, version: str | None = None) -> dict:
        """Re-run a stored decision under its stored edition, or (``version``) under another one."""
        with self.store.reading() as session:
            stored = repository.get_decision(session, decision_id)
            if stored is None:
                raise DecisionNotFound(decision_id)
            if version is None:
                policy = self.editions.get(session, stored.content_hash)
        return self.replay_stored(stored, version, policy if version is None else None)

    def replay_stored(self, stored: repository.StoredDecision, version: str | None = None, policy=None) -> dict:
        if policy is None:
            if version is None:
                with self.store.reading() as session:
                    policy = self.editions.get(session, stored.content_hash)
            else:
                policy = self.registry.get(stored.policy_id, version)
        field = SUBJECT_FIELD.get(stored.kind)
        if field is None:
            raise PolicyNotFound(_("this service cannot decide or replay decisions of kind '{kind}'",
                                   kind=stored.kind))
        # Through the stored text form, so a replay compares like with like (e.g. 1000 vs Decimal 1000).
        try:
            computed = run_engine(stored.kind, policy, stored.input[field], stored.as_of)
        except InputErrors as exc:
            if version is None:
                raise
            raise StoredInputMismatch(policy.version, under_field(field, exc)) from None
        result = jsontext.loads(jsontext.canonical(computed))
        differences = diff(stored.full_result(), result)
        return {
            "decision_id": stored.id,
            "mode": "exact" if version is None else "what-if",
            "stored": {"version": stored.version, "content_hash": stored.content_hash,
                       "engine_version": stored.engine_version},
            "replayed": {"version": policy.version, "content_hash": policy.content_hash,
                         "engine_version": self.engine_version},
            "identical": not differences,
            "differences": differences,
            "result": result,
        }


def under_field(field: str, errors: InputErrors) -> InputErrors:
    """Problem paths from the request's root: the costing engine reports them relative to the plan/claim."""
    problems = [p if p.path[:1] == (field,) else InputProblem((field, *p.path), p.code, p.message)
                for p in errors.problems]
    return InputErrors(problems)


def diff(stored, replayed, path: str = "$", limit: int = 200) -> list[dict]:
    """Every place the replayed result departs from the stored one, as JSON paths."""
    out: list[dict] = []
    _diff(stored, replayed, path, out, limit)
    return out


def _diff(a, b, path, out, limit):
    if len(out) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}"
            if key not in a:
                out.append({"path": sub, "stored": None, "replayed": b[key], "change": "added"})
            elif key not in b:
                out.append({"path": sub, "stored": a[key], "replayed": None, "change": "removed"})
            else:
                _diff(a[key], b[key], sub, out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                out.append({"path": sub, "stored": None, "replayed": b[i], "change": "added"})
            elif i >= len(b):
                out.append({"path": sub, "stored": a[i], "replayed": None, "change": "removed"})
            else:
                _diff(a[i], b[i], sub, out, limit)
    elif type(a) is not type(b) or a != b:
        out.append({"path": path, "stored": a, "replayed": b, "change": "changed"})
