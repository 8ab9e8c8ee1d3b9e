"""Group commit: items waiting to be written are written together, and each waiter answered after that commit.

The decision log (``api.service.GroupCommitter``) and the read log (``api.access.Recorder``) both append
to a hash chain whose head is locked per transaction; one lock and one commit (one disk flush) for many
items is what lets them keep up under load. A subclass says how a batch is written (``write``); this
module owns the queue, the writing thread, and how outcomes reach the waiters.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future


class GroupCommit:
    """Items queued by ``submit`` / ``submit_async`` are handed to ``write`` a batch at a time, in order.

    A waiter is settled only after ``write`` has returned, i.e. after the batch is durable, or with its
    error (then nothing of that batch was acknowledged). While one batch is written the next gathers;
    alone, an item is written at once. ``write`` returns one outcome per item: a value, or an exception
    instance for that item alone. A batch failing by an exception in ``store_down`` (the store is
    unreachable) fails all its waiters; failing otherwise, it is retried one item per batch, so one bad
    item cannot fail the others.
    """

    thread_name = "almp-group-commit"

    def __init__(self, max_batch: int, store_down: tuple = ()):
        self._max = max_batch
        self._down = store_down
        self._ready = threading.Condition()
        self._pending: list = []
        self._thread: threading.Thread | None = None

    # -- what a subclass says --------------------------------------------------------------------------
    def write(self, items: list) -> list:
        raise NotImplementedError

    def idle_after(self) -> float | None:
        """Seconds without work after which ``idle`` is called (None: never)."""
        return None

    def idle(self) -> None:
        """Called on the writing thread after ``idle_after`` seconds without work."""

    # -- queueing --------------------------------------------------------------------------------------
    def submit(self, item) -> Future:
        """Queue an item; a concurrent Future settled once its batch is written (or failed)."""
        future: Future = Future()
        self._enqueue(item, future)
        return future

    def submit_async(self, item) -> asyncio.Future:
        """The same for a caller on an event loop: its asyncio future is settled from the loop, together
        with every other waiter of the batch on that loop (one wake-up of the loop per batch, not one each)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._enqueue(item, _LoopWaiter(loop, future))
        return future

    def _enqueue(self, item, waiter) -> None:
        with self._ready:
            self._pending.append((item, waiter))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self._thread.start()
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    if not self._ready.wait(self.idle_after()):
                        self.idle()
                batch, self._pending = self._pending[:self._max], self._pending[self._max:]
            try:
                self._commit(batch)
            except BaseException as exc:  # noqa: BLE001 - never let the thread die with waiters waiting
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(exc)
            finally:
                _LoopWaiter.deliver([waiter for _, waiter in batch])

    def _commit(self, batch: list) -> None:
        try:
            outcomes = self.write([item for item, _ in batch])
        except self._down as exc:
            for _, waiter in batch:
                waiter.set_exception(exc)
            return
        except Exception:
            if len(batch) == 1:
                raise
            for one in batch:
                try:
                    self._commit([one])
                except Exception as exc:  # noqa: BLE001 - handed to that waiter alone
                    one[1].set_exception(exc)
            return
        for (_, waiter), outcome in zip(batch, outcomes):
            if isinstance(outcome, Exception):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)


class _LoopWaiter:
    """A waiter on an event loop: its outcome is kept until ``deliver`` hands a whole batch's to the loop."""

    __slots__ = ("loop", "future", "outcome", "failed")

    def __init__(self, loop, future):
        self.loop, self.future, self.outcome, self.failed = loop, future, None, None

    def done(self) -> bool:
        return self.failed is not None

    def set_result(self, value) -> None:
        self.outcome, self.failed = value, False

    def set_exception(self, exc) -> None:
        self.outcome, self.failed = exc, True

    @staticmethod
    def deliver(waiters) -> None:
        by_loop: dict = {}
        for waiter in waiters:
            if type(waiter) is _LoopWaiter and waiter.failed is not None:
                by_loop.setdefault(waiter.loop, []).append(waiter)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_LoopWaiter._settle, settled)
            except RuntimeError:  # the loop was closed: nobody is waiting any more
                pass

    @staticmethod
    def _settle(waiters) -> None:
        for waiter in waiters:
            if not waiter.future.done():  # a cancelled waiter (client gone) is left as it is
                if waiter.failed:
                    waiter.future.set_exception(waiter.outcome)
                else:
                    waiter.future.set_result(waiter.outcome)
