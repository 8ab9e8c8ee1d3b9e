"""Benchmark: eligibility decisions per second through `almp serve` over real HTTP (stored + chained).

    python tests/api/bench_service.py [--workers 4] [--clients 16] [--requests 2000] [--database URL]

Not collected by pytest (speed targets live here, not in unit tests). Default store: a SQLite
file in a temporary folder. Prints throughput and latency percentiles, then verifies the chain.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.api.test_http_serve import Server, new_key  # noqa: E402

PERSON = json.loads((REPO / "examples" / "person-dul.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env["PYTHONPATH"] = str(REPO)
        if args.database:
            env["ALMP_DATABASE_URL"] = args.database
        key = new_key(cwd, env, "evaluate")
        server = _serve(cwd, env, args.workers)
        body = {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": PERSON}
        try:
            with httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=30,
                              limits=httpx.Limits(max_connections=args.clients)) as client:
                for _ in range(20):  # warm every worker's compiled rulesets
                    client.post("/v1/eligibility", json=body)

                def one(_):
                    start = time.perf_counter()
                    response = client.post("/v1/eligibility", json=body)
                    assert response.status_code == 200, response.text
                    return time.perf_counter() - start
                began = time.perf_counter()
                with ThreadPoolExecutor(args.clients) as pool:
                    latencies = sorted(pool.map(one, range(args.requests)))
                elapsed = time.perf_counter() - began
        finally:
            server.stop()
        verify = subprocess.run([sys.executable, "-m", "almp.cli", "audit", "verify"], cwd=cwd, env=env,
                                capture_output=True, text=True)
    store = args.database.split("@")[-1] if args.database else "sqlite (temp file)"
    print(f"store={store} workers={args.workers} clients={args.clients} requests={args.requests}")
    print(f"throughput {args.requests / elapsed:.0f} decisions/s; latency p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms, p95 {latencies[int(len(latencies) * .95)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms")
    print("audit verify:", (verify.stdout or verify.stderr).strip())
    return 0


def _serve(cwd: Path, env: dict, workers: int) -> Server:
    server = Server.__new__(Server)
    from tests.api.test_http_serve import free_port
    server.port = free_port()
    server.base = f"http://127.0.0.1:{server.port}"
    server.proc = subprocess.Popen([sys.executable, "-m", "almp.cli", "serve", "--port", str(server.port),
                                    "--workers", str(workers)], cwd=cwd, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.base + "/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.stop()
    raise SystemExit("almp serve did not start")


if __name__ == "__main__":
    sys.exit(main())
