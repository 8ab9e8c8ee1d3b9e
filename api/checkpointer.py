"""The service's own signed checkpoints: every ``ALMP_CHECKPOINT_EVERY`` seconds, if decisions were added.

`almp serve` sets it (``--checkpoint-every``, default 300 s; 0 turns it off). Each worker runs
one daemon thread; a lock file beside the checkpoint file lets one worker at a time sign, and a
log no longer matching the last checkpoint is never signed (``issue_checkpoint`` refuses):
that is logged as an error for the operator, and `almp audit verify` names the rewrite.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading

from sqlalchemy import select

from engine.i18n import _

from .store.audit import issue_checkpoint
from .store.checkpoint import Checkpoint, CheckpointError, Signer, Sink
from .store.tables import ChainHead

EVERY_ENV = "ALMP_CHECKPOINT_EVERY"
log = logging.getLogger("almp.checkpoint")


class Checkpointer:
    def __init__(self, store, every: float, signer: Signer | None = None, sink: Sink | None = None):
        self.store, self.every = store, every
        self._signer, self.sink = signer, sink or Sink()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Checkpoint | None:
        """Sign the log now if it grew since the last checkpoint; None when there was nothing to sign or
        another worker holds the lock."""
        lock_path = self.sink.path.with_name(self.sink.path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another worker is signing
            latest = self.sink.latest()
            with self.store.reading() as session:
                size = session.scalar(select(ChainHead.seq).where(ChainHead.id == 1)) or 0
                if size == 0 or (latest is not None and latest.tree_size >= size):
                    return None
                if self._signer is None:
                    self._signer = Signer.from_file()
                return issue_checkpoint(session, self._signer, self.sink)
        finally:
            os.close(fd)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once()
            except CheckpointError as exc:
                log.error("%s", _("no checkpoint signed: {problem}", problem=exc))
            except Exception as exc:  # noqa: BLE001 - the next round tries again (the store may be back)
                log.warning("%s", _("checkpoint postponed: {error}", error=exc.__class__.__name__))

    def start(self) -> "Checkpointer":
        self._thread = threading.Thread(target=self._loop, name="almp-checkpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def every_from_env() -> float:
    try:
        value = float(os.environ.get(EVERY_ENV) or 0)
    except ValueError:
        return 0
    return value if value > 0 else 0


def start_from_env(app) -> Checkpointer | None:
    """Start the app's checkpointer when ``ALMP_CHECKPOINT_EVERY`` is a positive number of seconds."""
    every = every_from_env()
    if not every:
        return None
    checkpointer = Checkpointer(app.state.service.store, every).start()
    app.state.checkpointer = checkpointer
    app.router.on_shutdown.append(checkpointer.stop)
    return checkpointer
