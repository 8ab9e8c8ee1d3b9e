"""A database that stops answering (issue 19, defect 5): 503 within a bounded time, then recovery.

Two ways a store hangs: a port that accepts connections and never answers them (a black-holed
server), and a server that goes silent in the middle of a session while its kernel still
acknowledges every packet (a stopped or wedged postgres; here, a proxy that stops forwarding),
which neither statement_timeout (server side) nor the TCP user timeout (unacknowledged data) ends.
Each request runs in a thread given a generous deadline, so a regression fails instead of hanging.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from api.service import Store

from .conftest import TestClient, eligibility_body, headers

LIMITS = {"ALMP_DB_CONNECT_TIMEOUT": "1", "ALMP_DB_STATEMENT_TIMEOUT": "2", "ALMP_DB_POOL_TIMEOUT": "2"}
DEADLINE = 60  # seconds; the bound under LIMITS is about 10 (2 + 5 for the wait, plus a reconnection)


class Proxy:
    """A TCP listener in front of ``target`` (or of nothing): ``freeze()`` stops every byte, keeps every socket."""

    def __init__(self, target: tuple[str, int] | None):
        self.target = target
        self.frozen = threading.Event()
        self.sockets: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.sockets.append(client)
            if self.target is None or self.frozen.is_set():
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target)
            self.sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            pass

    def close(self):
        self.frozen.clear()
        for s in [self.server, *self.sockets]:
            s.close()


def timed(call):
    """(response, seconds) of ``call`` run in a thread; (None, DEADLINE) when it is still waiting then."""
    out = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: out.setdefault("response", call()), daemon=True)
    worker.start()
    worker.join(DEADLINE)
    return out.get("response"), time.monotonic() - started


@pytest.fixture
def limits(monkeypatch):
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)


def test_a_port_that_accepts_and_never_answers_is_503_in_bounded_time(client, limits):
    proxy = Proxy(None)
    service = client.app.state.service
    good = service.store
    service.store = Store(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/almp")
    try:
        response, seconds = timed(lambda: client.post("/v1/eligibility", json=eligibility_body(),
                                                      headers=headers("evaluate")))
        assert response is not None, f"POST still waiting after {DEADLINE} s"
        assert response.status_code == 503 and "nulla è stato registrato" in response.json()["detail"]
        health, _ = timed(lambda: client.get("/v1/health"))
        assert health is not None and health.status_code == 503
    finally:
        service.store.close()
        service.store = good
        proxy.close()


def test_a_server_gone_silent_mid_session_is_503_in_bounded_time_then_recovers(postgres_server_url, keyring,
                                                                               registry, limits):
    from api.app import create_app
    real = make_url(postgres_server_url)
    proxy = Proxy((real.host or "127.0.0.1", real.port or 5432))
    url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(database_url=url, keys=keyring, migrate=False, registry=registry)
    client = TestClient(app, raise_server_exceptions=False)
    try:
        assert client.post("/v1/eligibility", json=eligibility_body(), headers=headers("evaluate")).status_code == 200
        proxy.frozen.set()  # the pooled connection's server stops answering; new ones are never answered
        response, seconds = timed(lambda: client.post("/v1/eligibility", json=eligibility_body(),
                                                      headers=headers("evaluate")))
        assert response is not None, f"POST still waiting after {DEADLINE} s"
        assert response.status_code == 503
        health, _ = timed(lambda: client.get("/v1/health"))
        assert health is not None and health.status_code == 503
        proxy.frozen.clear()
        recovered, _ = timed(lambda: client.post("/v1/eligibility", json=eligibility_body(),
                                                 headers=headers("evaluate")))
        assert recovered is not None and recovered.status_code == 200
    finally:
        proxy.close()
        app.state.service.store.close()
