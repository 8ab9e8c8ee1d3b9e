"""`almp serve --workers 2` on PostgreSQL: each worker listens on a socket of its own, so connections spread over both.

With one shared socket the first worker awake accepted every waiting connection: 32 opened together
by a load generator went 29/3 or 32/0 (api/listening.py). On SQLite they keep sharing one socket.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter

import pytest

from .conftest import REPO
from .test_http_serve import free_port
from .test_load_faults import LiveServer

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT") or not os.path.isdir("/proc/net"),
                                reason="SO_REUSEPORT and /proc are Linux's: elsewhere the workers share one socket")


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += [int(child) for child in f.read().split()]
    return found


def _sockets_of(pid: int) -> set[str]:
    """The socket inodes among a process's open files."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            found.add(link[8:-1])
    return found


def _tcp(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on local ``port`` in ``state`` (01 established, 0A listening)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def _listening(server) -> list[set]:
    """Per worker of ``server``, the listening sockets on its port it holds."""
    on_port = _tcp(server.port, "0A")
    return [own for own in (_sockets_of(pid) & on_port for pid in _children(server.proc.pid)) if own]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_32_connections_opened_together_spread_over_both_workers(tmp_path, db_url, api_policies):
    server = LiveServer(tmp_path, db_url, api_policies).start()
    connections = []
    try:
        # 32 connections in one burst, as a client pool opens them when a run starts
        connections = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(32)]
        for conn in connections:  # each used once, so each has surely been accepted by its worker
            conn.sendall(b"GET /v1/health HTTP/1.1\r\nHost: almp\r\n\r\n")
        for conn in connections:
            assert conn.recv(64).startswith(b"HTTP/1.1 200")
        workers = [pid for pid in _children(server.proc.pid) if _sockets_of(pid) & _tcp(server.port, "0A")]
        # each worker listens on a socket of its own (one shared socket: the same inode in both)
        listening = _listening(server)
        assert len(listening) == 2 and all(len(own) == 1 for own in listening) and listening[0] != listening[1]
        counts = Counter({pid: len(_sockets_of(pid) & _tcp(server.port, "01")) for pid in workers})
        assert sum(counts.values()) == 32, counts
        # a fair coin gives a worker 3 or fewer of 32 once in ~400,000 runs
        assert min(counts.values()) >= 4, f"connections per worker: {dict(counts)}"
    finally:
        for conn in connections:
            conn.close()
        server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_the_workers_share_one_socket(tmp_path, db_url, api_policies):
    """SQLite takes one writer at a time: spread over both workers, writers queue in its busy handler."""
    server = LiveServer(tmp_path, db_url, api_policies).start()
    try:
        listening = _listening(server)
        assert len(listening) == 2 and listening[0] == listening[1], listening
    finally:
        server.stop()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_port_in_use_is_said_plainly(tmp_path, db_url):
    postgres = db_url
    taken = socket.socket()
    taken.bind(("127.0.0.1", free_port()))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env["PYTHONPATH"] = str(REPO)
        out = subprocess.run([sys.executable, "-m", "almp.cli", "serve", "--port", str(port), "--workers", "2",
                              "--database", postgres], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    finally:
        taken.close()
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"127.0.0.1:{port}: impossibile ricevere connessioni" in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "errore interno" not in out.stderr
