"""Load and faults against a real `almp serve` process (2 workers, loopback), on SQLite and PostgreSQL.

- 32 concurrent clients, a few thousand decisions: every 200 has its row, no duplicate ids,
  the chain verifies, and every answer equals the single-threaded answer for the same person;
- SIGKILL of the whole server in the middle of load, then a restart: every decision a client
  got a 200 for is in the store, and the chain verifies.
Bounded in requests and time (each test well under a minute).
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from api.store.repository import verify_chain
from api.service import Store

from .conftest import DUL, KEYS, KEYS_ENV, REPO
from .test_http_serve import free_port

sys.path.insert(0, str(REPO))
from bench.common import persons  # noqa: E402

EVALUATE = {"X-API-Key": KEYS["evaluate"]}


class LiveServer:
    def __init__(self, cwd: Path, db_url: str, policies: Path, workers: int = 2):
        self.cwd, self.db_url, self.policies, self.workers = cwd, db_url, policies, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> "LiveServer":
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env.update(PYTHONPATH=str(REPO), ALMP_API_KEYS=KEYS_ENV, ALMP_API_KEYS_FILE=str(self.cwd / "none.txt"))
        log = open(self.cwd / "server.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "almp.cli", "serve", "--port", str(self.port),
                                      "--workers", str(self.workers), "--policies", str(self.policies),
                                      "--database", self.db_url], cwd=self.cwd, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.cwd / "server.log").read_text()[-3000:]
            try:
                if httpx.get(self.base + "/v1/health", timeout=1).status_code == 200:
                    # every worker must answer, not just the first one up
                    if all(httpx.get(self.base + "/v1/health", timeout=2).status_code == 200 for _ in range(6)):
                        return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        pytest.fail("almp serve did not answer within 60 s")

    def kill(self) -> None:
        """SIGKILL the server and its workers at once (no shutdown, no flush)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live(tmp_path, db_url, api_policies):
    servers = []

    def start():
        server = LiveServer(tmp_path, db_url, api_policies).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.kill()


def _body(person) -> dict:
    return {"policy": DUL, "as_of": "2014-03-01", "person": person}


def stored_ids(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT id FROM decisions"))]
    finally:
        engine.dispose()


def chain_report(db_url: str):
    store = Store(db_url)
    try:
        with store.reading() as session:
            return verify_chain(session)
    finally:
        store.close()


async def _hammer(base: str, bodies: list[dict], clients: int, deadline: float, acknowledged: list,
                  answers: dict | None = None, stop: threading.Event | None = None) -> int:
    """``clients`` keep-alive connections share ``bodies``; returns how many requests failed in transport."""
    queue: asyncio.Queue = asyncio.Queue()
    for i, body in enumerate(bodies):
        queue.put_nowait((i, body))
    failures = 0

    async def client():
        nonlocal failures
        async with httpx.AsyncClient(base_url=base, headers=EVALUATE, timeout=30) as http:
            while not queue.empty() and time.monotonic() < deadline and not (stop and stop.is_set()):
                i, body = queue.get_nowait()
                try:
                    response = await http.post("/v1/eligibility", json=body)
                except httpx.TransportError:
                    failures += 1
                    continue
                if response.status_code == 200:
                    answer = response.json()
                    acknowledged.append(answer["decision_id"])
                    if answers is not None:
                        answers[i] = answer
    await asyncio.gather(*(client() for _ in range(clients)))
    return failures


def _without_id(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "decision_id"}


def test_32_concurrent_clients_lose_nothing_and_answer_as_one_client_would(live, db_url):
    server = live()
    people = persons(120, seed=11)
    # single-threaded answers first, one per person
    with httpx.Client(base_url=server.base, headers=EVALUATE, timeout=30) as http:
        alone = []
        for person in people:
            response = http.post("/v1/eligibility", json=_body(person))
            assert response.status_code == 200, response.text
            alone.append(response.json())
    bodies = [_body(people[i % len(people)]) for i in range(2400)]
    acknowledged, answers = [], {}
    failures = asyncio.run(_hammer(server.base, bodies, 32, time.monotonic() + 120, acknowledged, answers))
    server.stop()
    assert failures == 0
    assert len(answers) == len(bodies), f"only {len(answers)} of {len(bodies)} requests got a 200"
    for i, answer in answers.items():
        assert _without_id(answer) == _without_id(alone[i % len(people)]), f"request {i} answered differently"
    every = [a["decision_id"] for a in alone] + acknowledged
    assert len(set(every)) == len(every), "duplicate decision ids"
    rows = stored_ids(db_url)
    assert sorted(rows) == sorted(every), "the rows stored are not exactly the decisions answered"
    report = chain_report(db_url)
    assert report.ok and report.checked == len(every), report.problem


def test_sigkill_in_the_middle_of_load_loses_no_acknowledged_decision(live, db_url):
    server = live()
    bodies = [_body(p) for p in persons(20000, seed=5)]
    acknowledged: list[str] = []
    stop = threading.Event()
    result = {}

    def load():
        result["failures"] = asyncio.run(_hammer(server.base, bodies, 16, time.monotonic() + 60, acknowledged,
                                                 stop=stop))
    thread = threading.Thread(target=load)
    thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(acknowledged) >= 300, "the load never got going"
    server.kill()  # mid-load: requests in flight, batches being committed
    killed_at = len(acknowledged)
    stop.set()
    thread.join(timeout=90)
    assert not thread.is_alive()
    assert result["failures"] > 0 or len(acknowledged) < len(bodies)  # the kill really cut the load short
    assert len(acknowledged) >= killed_at

    rows = set(stored_ids(db_url))
    lost = [d for d in acknowledged if d not in rows]
    assert not lost, f"{len(lost)} acknowledged decision(s) missing after SIGKILL, e.g. {lost[:3]}"
    report = chain_report(db_url)
    assert report.ok, report.problem

    server = live()  # restart on the same store: it serves again and the chain continues unbroken
    with httpx.Client(base_url=server.base, headers=EVALUATE, timeout=30) as http:
        after = [http.post("/v1/eligibility", json=bodies[0]) for _ in range(5)]
    server.stop()
    assert all(r.status_code == 200 for r in after), [r.text for r in after]
    report = chain_report(db_url)
    assert report.ok and report.checked == len(rows) + 5, report.problem
    assert {r.json()["decision_id"] for r in after} <= set(stored_ids(db_url))
