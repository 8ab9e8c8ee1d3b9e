"""The service's operations, shared by the HTTP routes and the CLI: decide, fetch, replay.

Nothing here knows about HTTP. Every decision is committed before the caller gets it back.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from contextlib import contextmanager

from sqlalchemy.orm import Session

from engine.compiler import compile_bundle
from engine.errors import InputErrors, InputProblem, PolicyNotFound
from engine.registry import Registry

from . import jsontext
from .kinds import Kind, available_kinds, engine_version
from .store import repository
from .store.db import database_url, make_engine, session_factory


class DecisionNotFound(LookupError):
    pass


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
            raise PolicyNotFound(f"the edition {content_hash} is not in the store")
        policy = compile_bundle(bundle)
        with self._lock:
            self._items[content_hash] = policy
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return policy


class Service:
    def __init__(self, registry: Registry, store: Store):
        self.registry = registry
        self.store = store
        self.kinds: dict[str, Kind] = available_kinds()
        self.editions = EditionCache()
        self.engine_version = engine_version()

    # -- deciding ------------------------------------------------------------------------------
    def decide(self, kind: str, body: dict, *, caller: str, idempotency_key: str | None = None):
        """Evaluate and store; returns (stored decision, created). ``body`` is the checked request.

        Raises InputErrors (bad facts), PolicyNotFound, repository.IdempotencyConflict.
        """
        spec = self.kinds[kind]
        as_of = body["as_of"]
        policy = self.registry.get(body["policy"], body.get("version"), as_of)
        payload = body[spec.field]
        try:
            result = spec.run(policy, payload, as_of)
        except InputErrors as exc:
            raise under_field(spec.field, exc) from None
        stored_input = {"policy": body["policy"], "version": body.get("version"), "as_of": as_of.isoformat(),
                        spec.field: payload}
        # The caller is part of the request: another key reusing an idempotency key gets 409, never
        # someone else's decision.
        req_hash = repository.request_hash(kind, {"caller": caller, "request": stored_input})
        with self.store.transaction() as session:
            return repository.append_decision(
                session, kind=kind, policy=policy, as_of=as_of, input=stored_input, result=result,
                engine_version=self.engine_version, caller=caller, idempotency_key=idempotency_key,
                req_hash=req_hash)

    def get(self, decision_id: str) -> repository.StoredDecision:
        with self.store.reading() as session:
            found = repository.get_decision(session, decision_id)
        if found is None:
            raise DecisionNotFound(f"no decision '{decision_id}'")
        return found

    # -- replaying -----------------------------------------------------------------------------
    def replay(self, decision_id: str, version: str | None = None) -> dict:
        """Re-run a stored decision under its stored edition, or (``version``) under another one."""
        with self.store.reading() as session:
            stored = repository.get_decision(session, decision_id)
            if stored is None:
                raise DecisionNotFound(f"no decision '{decision_id}'")
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
        spec = self.kinds.get(stored.kind)
        if spec is None:
            raise PolicyNotFound(f"this service cannot replay decisions of kind '{stored.kind}'")
        # Through the stored text form, so a replay compares like with like (e.g. 1000 vs Decimal 1000).
        try:
            computed = spec.run(policy, stored.input[spec.field], stored.as_of)
        except InputErrors as exc:
            if version is None:
                raise
            raise StoredInputMismatch(policy.version, under_field(spec.field, exc)) from None
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
