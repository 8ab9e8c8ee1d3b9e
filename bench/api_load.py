"""Benchmark: `almp serve` over real HTTP, with the load generator in a separate process on loopback.

    python -m bench.api_load [--workers 2] [--connections 32] [--seconds 10] [--postgres URL] [--no-sqlite]

For each store (a SQLite file in a temporary folder; then PostgreSQL when ``--postgres URL`` or
ALMP_TEST_POSTGRES_URL is set, in a fresh database created and dropped by the run) it starts
`almp serve --workers N` on a free loopback port, then runs the load generator (a separate
Python process: asyncio on raw sockets, K keep-alive connections, bounded in requests and time):

- ``GET /v1/health`` (pings the store, no decision): the reference measured in the same run;
- ``POST /v1/eligibility`` (evaluate, store and chain the decision, then answer).

It prints req/s, p50/p95/p99 latency, non-200 answers, the rows stored against the 200s
received (every decision id answered must be in the store, no duplicates) and `almp audit
verify`; and the ratio of each figure to the health reference. Exit 1 if a check fails.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALMP = [sys.executable, "-m", "almp.cli"]
DUL = "lombardia/dote-unica-lavoro"


# ---------------------------------------------------------------------------------------------
# The load generator (runs in its own process: `python -m bench.api_load --loadgen SPEC.json`)
# ---------------------------------------------------------------------------------------------
async def _connection(host, port, requests, deadline, budget, out):
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            raw = requests[(out["n"] + i) % len(requests)]
            i += 1
            began = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await reader.readexactly(length) if length else b""
            out["latencies"].append(time.perf_counter() - began)
            out["status"][status] = out["status"].get(status, 0) + 1
            if status == 200 and body.startswith(b'{"decision_id":"'):
                out["ids"].append(body[16:52].decode())
            if close:
                break
    finally:
        writer.close()


async def _load(spec: dict) -> dict:
    requests = [r.encode("latin-1") for r in spec["requests"]]
    out = {"latencies": [], "status": {}, "ids": [], "n": 0, "errors": 0}
    budget = [spec["max_requests"]]
    began = time.monotonic()
    deadline = began + spec["seconds"]
    tasks = [asyncio.create_task(_connection(spec["host"], spec["port"], requests[k::spec["connections"]]
                                             or requests, deadline, budget, out))
             for k in range(spec["connections"])]
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            out["errors"] += 1
    out["elapsed"] = time.monotonic() - began
    return out


def loadgen_main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    out = asyncio.run(_load(spec))
    lat = sorted(out["latencies"])

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")
    print(json.dumps({"requests": len(lat), "elapsed": out["elapsed"], "rate": len(lat) / out["elapsed"],
                      "p50": pct(.50), "p95": pct(.95), "p99": pct(.99), "max": lat[-1] * 1000 if lat else None,
                      "status": out["status"], "connection_errors": out["errors"], "ids": out["ids"]}))
    return 0


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1").decode("latin-1") + body.decode("latin-1")


def eligibility_requests(key: str, count: int = 256) -> list[str]:
    """Varied persons (seeded), so the server sees eligible and ineligible people of every band."""
    sys.path.insert(0, str(REPO))
    from bench.common import persons
    out = []
    for person in persons(count, seed=7):
        body = json.dumps({"policy": DUL, "as_of": "2014-03-01", "person": person}).encode()
        out.append(http_request("POST", "/v1/eligibility", body, {"X-API-Key": key}))
    return out


class Server:
    def __init__(self, cwd: Path, env: dict, workers: int, extra: list[str] | None = None):
        self.cwd, self.env, self.workers, self.extra = cwd, env, workers, extra or []
        self.port = free_port()
        self.proc = None

    def start(self, timeout: float = 90) -> "Server":
        import httpx
        self.proc = subprocess.Popen([*ALMP, "serve", "--port", str(self.port), "--workers", str(self.workers),
                                      *self.extra], cwd=self.cwd, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=open(self.cwd / "server.log", "ab"),
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"almp serve exited: {(self.cwd / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("almp serve did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def run_load(port: int, requests: list[str], connections: int, seconds: float, max_requests: int,
             tmp: Path) -> dict:
    spec = tmp / f"spec-{uuid.uuid4().hex[:8]}.json"
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": port, "requests": requests,
                                "connections": connections, "seconds": seconds, "max_requests": max_requests}))
    out = subprocess.run([sys.executable, "-m", "bench.api_load", "--loadgen", str(spec)], cwd=REPO,
                         capture_output=True, text=True, timeout=seconds + 120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    if out.returncode != 0:
        raise SystemExit(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def stored_ids(url: str) -> list[str]:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT id FROM decisions"))]
    finally:
        engine.dispose()


def _pg_database(server_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"almp_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def bench_store(label: str, url: str, args) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env["PYTHONPATH"] = str(REPO)
        env["ALMP_DATABASE_URL"] = url
        key = subprocess.run([*ALMP, "keys", "add", "--role", "evaluate", "--name", "bench"], cwd=cwd, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        server = Server(cwd, env, args.workers).start()
        try:
            decide = eligibility_requests(key)
            health = [http_request("GET", "/v1/health")]
            # warm-up: every worker compiles its rulesets and fills its pools (not counted)
            warm = run_load(server.port, decide, args.connections, 3, 400, cwd)
            ref = run_load(server.port, health, args.connections, args.seconds, args.max_requests, cwd)
            run = run_load(server.port, decide, args.connections, args.seconds, args.max_requests, cwd)
        finally:
            server.stop()
        verify = subprocess.run([*ALMP, "audit", "verify"], cwd=cwd, env=env, capture_output=True, text=True)
    rows = stored_ids(url)
    answered = warm["ids"] + run["ids"]
    missing = set(answered) - set(rows)
    dupes = len(answered) - len(set(answered))
    ok_status = lambda r: r["status"].get("200", 0)  # noqa: E731
    errors = run["requests"] - ok_status(run) + run["connection_errors"]
    print(f"\n== {label}: workers={args.workers} connections={args.connections} seconds<={args.seconds}")
    for name, r in (("GET /v1/health (reference)", ref), ("POST /v1/eligibility (stored)", run)):
        print(f"{name:32s} {r['rate']:8.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
              f"p99 {r['p99']:6.1f} ms  ({r['requests']} requests, non-200: "
              f"{r['requests'] - ok_status(r)}, connection errors: {r['connection_errors']})")
    print(f"ratio eligibility/health: throughput {run['rate'] / ref['rate']:.2f}x, "
          f"p50 {run['p50'] / ref['p50']:.2f}x, p99 {run['p99'] / ref['p99']:.2f}x")
    print(f"rows stored {len(rows)} vs 200s received {len(answered)} (warm-up included); "
          f"answered but not stored: {len(missing)}; duplicate ids: {dupes}")
    print("audit verify:", (verify.stdout or verify.stderr).strip().splitlines()[0])
    good = not missing and not dupes and errors == 0 and verify.returncode == 0 and len(rows) == len(answered)
    if not good:
        print("FAILED: see the figures above")
    return good


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--loadgen"]:
        return loadgen_main(argv[1])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("ALMP_TEST_POSTGRES_URL"),
                        help="PostgreSQL server URL (default: ALMP_TEST_POSTGRES_URL)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            ok &= bench_store("SQLite (file, WAL)", f"sqlite:///{Path(tmp) / 'almp.db'}", args)
    if args.postgres:
        url, drop = _pg_database(args.postgres)
        try:
            ok &= bench_store("PostgreSQL (loopback)", url, args)
        finally:
            drop()
    else:
        print("\n(PostgreSQL skipped: set ALMP_TEST_POSTGRES_URL or --postgres URL)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
