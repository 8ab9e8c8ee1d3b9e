"""The service's own signed checkpoints: every ``ALMP_CHECKPOINT_EVERY`` seconds, if decisions or reads were added.

`almp serve` sets it (``--checkpoint-every``, default 300 s; 0 turns it off). Each worker runs
one daemon thread; a lock file beside the checkpoint file lets one worker at a time sign, and a
log no longer matching the last checkpoint is never signed (``issue_checkpoint`` refuses):
that is logged as an error for the operator, and `almp audit verify` names the rewrite.
"""
from __future__ import annotations

import fcntl
import logging
import os

from sqlalchemy import select

from engine.i18n import _

from .periodic import Periodic, seconds_from_env, start_on
from .store.audit import issue_checkpoint
from .store.checkpoint import Checkpoint, CheckpointError, Signer, Sink
from .store.tables import ChainHead, ReadHead

EVERY_ENV = "ALMP_CHECKPOINT_EVERY"
log = logging.getLogger("almp.checkpoint")


class Checkpointer(Periodic):
    thread_name = "almp-checkpoint"

    def __init__(self, store, every: float, signer: Signer | None = None, sink: Sink | None = None):
        super().__init__(every)
        self.store = store
        self._signer, self.sink = signer, sink or Sink()

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
                reads = session.scalar(select(ReadHead.seq).where(ReadHead.id == 1)) or 0
                if size == 0 and reads == 0:
                    return None
                if latest is not None and latest.tree_size >= size and latest.covers_reads \
                        and latest.reads_size >= reads:
                    return None
                if self._signer is None:
                    self._signer = Signer.from_file()
                return issue_checkpoint(session, self._signer, self.sink)
        finally:
            os.close(fd)

    def failed(self, exc: Exception) -> None:
        if isinstance(exc, CheckpointError):
            log.error("%s", _("no checkpoint signed: {problem}", problem=exc))
        else:
            log.warning("%s", _("checkpoint postponed: {error}", error=exc.__class__.__name__))


def start_from_env(app) -> Checkpointer | None:
    """Start the app's checkpointer when ``ALMP_CHECKPOINT_EVERY`` is a positive number of seconds."""
    every = seconds_from_env(EVERY_ENV)
    return start_on(app, "checkpointer", Checkpointer(app.state.service.store, every)) if every else None
