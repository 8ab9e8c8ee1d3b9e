"""Work a service worker repeats on its own (signed checkpoints, retention): one daemon thread each."""
from __future__ import annotations

import os
import threading


class Periodic:
    """Runs ``run_once`` every ``every`` seconds in a daemon thread until ``stop``.

    A failing round never ends the thread (the store may be back next time): ``failed`` says why.
    """

    thread_name = "almp-periodic"

    def __init__(self, every: float):
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self):
        raise NotImplementedError

    def failed(self, exc: Exception) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                self.failed(exc)

    def start(self):
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def seconds_from_env(name: str) -> float:
    """A positive number of seconds from the environment, else 0 (off)."""
    try:
        value = float(os.environ.get(name) or 0)
    except ValueError:
        return 0
    return value if value > 0 else 0


def start_on(app, attribute: str, periodic: Periodic) -> Periodic:
    """Start ``periodic`` for the app's lifetime, kept as ``app.state.<attribute>``."""
    periodic.start()
    setattr(app.state, attribute, periodic)
    app.router.on_shutdown.append(periodic.stop)
    return periodic
