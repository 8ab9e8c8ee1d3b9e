"""Waiters on an event loop are settled once their batch has committed, each with its own outcome, and the loop
is woken once per batch, not once per decision."""
from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from api import service as service_module
from api.store import repository


class FakeStore:
    engine = SimpleNamespace(dialect=SimpleNamespace(name="sqlite"))

    @contextmanager
    def transaction(self):
        yield None


@pytest.fixture
def committed(monkeypatch):
    batches: list = []
    first = threading.Event()

    def append_batch(session, items, known=None, noted=None):
        if not first.is_set():  # the first batch takes a while: the rest queue up behind it
            first.set()
            time.sleep(0.05)
        batches.append(list(items))
        return [repository.IdempotencyConflict(item) if item.startswith("conflict") else (item, True)
                for item in items]
    monkeypatch.setattr(repository, "append_batch", append_batch)
    return batches


def test_each_waiter_gets_its_own_outcome_and_the_loop_is_woken_once_per_batch(committed):
    committer = service_module.GroupCommitter(lambda: FakeStore())
    wakeups = []

    async def main():
        loop = asyncio.get_running_loop()
        real = loop.call_soon_threadsafe

        def counted(*args, **kwargs):
            wakeups.append(args[0])
            return real(*args, **kwargs)
        loop.call_soon_threadsafe = counted
        names = [f"d{i}" for i in range(60)] + ["conflict-1"]
        futures = [committer.submit_async(names[0])]
        await asyncio.sleep(0.01)  # the first is being committed (slowly) while the others arrive
        futures += [committer.submit_async(name) for name in names[1:]]
        results = await asyncio.gather(*futures, return_exceptions=True)
        return names, results
    names, results = asyncio.run(main())
    for name, result in zip(names, results):
        if name.startswith("conflict"):
            assert isinstance(result, repository.IdempotencyConflict)
        else:
            assert result == (name, True)
    assert sum(len(b) for b in committed) == len(names)
    assert len(committed) >= 2  # the first batch held the others back...
    assert len(wakeups) == len(committed) < len(names)  # ...and each batch woke the loop once


def test_a_waiter_that_went_away_does_not_keep_the_others_from_their_answer(committed):
    committer = service_module.GroupCommitter(lambda: FakeStore())

    async def main():
        gone = committer.submit_async("gone")
        stays = committer.submit_async("stays")
        gone.cancel()  # the client disconnected while its decision was being committed
        return await stays
    assert asyncio.run(main()) == ("stays", True)
    assert ["gone", "stays"] in committed or ["gone"] in committed  # still stored: acknowledged or not
