"""Over real HTTP: `almp serve` (uvicorn) on a loopback port, zero set-up, SQLite in the working directory.

List policies, evaluate, fetch with an audit key, replay; then edit the policy file, restart,
and the old decision still replays identically.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import DUL, PERSON, copy_policies

ALMP = [sys.executable, "-m", "almp.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, cwd: Path, policies: Path, env: dict):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([*ALMP, "serve", "--port", str(self.port), "--policies", str(policies)],
                                     cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"almp serve exited: {self.proc.stdout.read().decode()}")
            try:
                if httpx.get(self.base + "/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("almp serve did not answer within 60 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def new_key(cwd: Path, env: dict, role: str) -> str:
    out = subprocess.run([*ALMP, "keys", "add", "--role", role], cwd=cwd, env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_almp_serve_end_to_end(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    policies = copy_policies(tmp_path / "policies")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    evaluate_key, audit_key = new_key(cwd, env, "evaluate"), new_key(cwd, env, "audit")

    server = Server(cwd, policies, env)
    try:
        listed = httpx.get(server.base + "/v1/policies").json()["policies"]
        assert {"2013", "2019"} <= {p["version"] for p in listed if p["id"] == DUL}
        body = {"policy": DUL, "as_of": "2014-03-01", "person": PERSON}
        decision = httpx.post(server.base + "/v1/eligibility", json=body, headers={"X-API-Key": evaluate_key})
        assert decision.status_code == 200, decision.text
        decision_id = decision.json()["decision_id"]
        fetched = httpx.get(f"{server.base}/v1/decisions/{decision_id}", headers={"X-API-Key": audit_key})
        assert fetched.status_code == 200 and fetched.json()["input"]["person"] == PERSON
        assert httpx.get(f"{server.base}/v1/decisions/{decision_id}",
                         headers={"X-API-Key": evaluate_key}).status_code == 403
        replay = httpx.post(f"{server.base}/v1/decisions/{decision_id}/replay", headers={"X-API-Key": audit_key})
        assert replay.status_code == 200 and replay.json()["identical"] is True
    finally:
        server.stop()
    assert (cwd / "almp.db").exists()  # zero set-up: the store was created in the working directory

    edition = policies / "lombardia" / "dote-unica-lavoro" / "2013.yaml"
    edition.write_text(edition.read_text(encoding="utf-8").replace("title:", "title: EDITED", 1), encoding="utf-8")
    server = Server(cwd, policies, env)
    try:
        replay = httpx.post(f"{server.base}/v1/decisions/{decision_id}/replay", headers={"X-API-Key": audit_key})
        assert replay.status_code == 200 and replay.json()["identical"] is True
        current = httpx.get(f"{server.base}/v1/policies/{DUL}/2013").json()["summary"]["content_hash"]
        assert current != replay.json()["replayed"]["content_hash"]
    finally:
        server.stop()
    verify = subprocess.run([*ALMP, "audit", "verify"], cwd=cwd, env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
