"""Each worker of ``almp serve --workers N`` listens on a socket of its own, so the kernel spreads connections.

With uvicorn's one shared listening socket, the worker that wakes first accepts every connection
waiting (asyncio accepts up to the backlog in one go). Measured with 32 keep-alive connections
opened together against 2 workers: 29/3, 29/3, 32/0 and 27/5 per worker over four runs; the busy
worker was held to one core by the GIL while the other idled, and the service's rate and p99
depended on that draw. With ``SO_REUSEPORT`` every worker binds the same address on its own
socket and the kernel hashes each new connection to one of them.

The supervisor binds the address once (with ``SO_REUSEPORT``, never listening: that proves the
port free and holds it, and receives no connections); each worker process, when it receives that
socket, binds a new one of its own instead (``__reduce__``). Where the platform has no
``SO_REUSEPORT`` (Windows), or the store is SQLite (``spreads``), the shared socket is used as before.
"""
from __future__ import annotations

import socket


def spreads(store_url: str) -> bool:
    """True where each worker can listen on a socket of its own, and spreading helps the store.

    Not for SQLite: it takes one writer at a time, and writers of two processes queue through its
    busy handler, which sleeps in steps of up to 100 ms. Measured (``bench.api_load``, 2 workers,
    32 connections, alternated): spread 930/972 req/s, p99 465/450 ms; shared 1,062/1,080 req/s,
    p99 62/62 ms. PostgreSQL takes concurrent writers (the chain is linked by one statement).
    """
    return hasattr(socket, "SO_REUSEPORT") and not store_url.startswith("sqlite")


def worker_socket(host: str, port: int) -> socket.socket:
    """The address bound with SO_REUSEPORT; a worker process that receives it binds its own (OSError if taken)."""
    sock = _WorkerSocket(family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    sock.address = (host, sock.getsockname()[1])  # port 0: every worker binds the port the supervisor got
    return sock


class _WorkerSocket(socket.socket):
    """A bound socket that a worker process re-creates for itself when it is sent there (pickled)."""

    address: tuple[str, int]

    def __reduce__(self):
        return worker_socket, self.address
