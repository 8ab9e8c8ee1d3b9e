"""Concurrent reads are recorded together, one transaction for many entries, each committed before
its reader goes on; a failed commit leaves every reader in it without an answer."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import exc as sa_exc, func, select

from api import access
from api.store.tables import Decision, ReadEntry

from .test_erasure import BORN, decide as decide_with_code


class _HeldStore:
    """The service's store, whose first transaction waits until released; counts transactions."""

    def __init__(self, store):
        self.store, self.transactions, self.release = store, 0, threading.Event()
        self.entered = threading.Event()

    @contextmanager
    def transaction(self):
        self.transactions += 1
        if self.transactions == 1:
            self.entered.set()
            assert self.release.wait(10)
        with self.store.transaction() as session:
            yield session


def _count(store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(ReadEntry))


def test_reads_waiting_for_a_commit_are_recorded_in_one_transaction(client):
    store = client.app.state.service.store
    decision_id = decide_with_code(client, BORN[0])["decision_id"]  # with a codice fiscale: a subject pseudonym
    held = _HeldStore(store)
    recorder = access.Recorder(lambda: held)
    seen_on_return: list[int] = []

    def read(purpose):
        with access.reading_for(purpose):
            recorder.record(caller="auditor", action="read", decision_id=decision_id)
        seen_on_return.append(_count(store))

    first = threading.Thread(target=read, args=("primo",))
    first.start()
    assert held.entered.wait(10)
    others = [threading.Thread(target=read, args=(f"lettura {i}",)) for i in range(10)]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(recorder._pending) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _count(store) == 0 and not seen_on_return  # nobody went on before the commit
    held.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert held.transactions == 2  # the first entry alone, then the ten that waited, together
    assert _count(store) == 11 and min(seen_on_return) >= 1 and sorted(seen_on_return)[1] == 11
    with store.reading() as session:
        assert access.verify(session).ok
        rows = session.execute(select(ReadEntry).order_by(ReadEntry.seq)).scalars().all()
        subject = session.scalar(select(Decision.subject).where(Decision.id == decision_id))
    assert {r.purpose for r in rows} == {"primo", *(f"lettura {i}" for i in range(10))}
    assert subject and all(r.decision_id == decision_id and r.subject == subject for r in rows)


class _DownStore:
    @contextmanager
    def transaction(self):
        raise sa_exc.OperationalError("BEGIN", {}, Exception("database unreachable"))
        yield  # pragma: no cover


def test_a_failed_commit_fails_every_reader_in_it(client):
    recorder = access.Recorder(lambda: _DownStore(), store_down=(sa_exc.OperationalError,))
    with pytest.raises(sa_exc.OperationalError):
        recorder.record(caller="auditor", action="read", decision_id=None)
    assert _count(client.app.state.service.store) == 0


def test_one_bad_entry_does_not_fail_the_others(client):
    store = client.app.state.service.store
    held = _HeldStore(store)
    recorder = access.Recorder(lambda: held)
    outcomes: dict[str, object] = {}

    def read(action):
        try:
            recorder.record(caller="auditor", action=action, decision_id=None)
            outcomes[action] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes[action] = exc

    first = threading.Thread(target=read, args=("read",))
    first.start()
    assert held.entered.wait(10)
    # a caller that is not text cannot be written: that reader alone gets the error
    bad = threading.Thread(target=lambda: outcomes.__setitem__("bad", _raises(recorder)))
    good = threading.Thread(target=read, args=("replay",))
    bad.start()
    good.start()
    deadline = time.monotonic() + 10
    while len(recorder._pending) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    held.release.set()
    for thread in (first, bad, good):
        thread.join(10)
    assert outcomes["read"] == "ok" and outcomes["replay"] == "ok" and isinstance(outcomes["bad"], Exception)
    assert _count(store) == 2
    with store.reading() as session:
        assert access.verify(session).ok


def _raises(recorder):
    try:
        recorder.record(caller=None, action="read", decision_id=None)
    except Exception as exc:  # noqa: BLE001
        return exc
    return "ok"
