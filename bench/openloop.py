"""Open-loop latency of `almp serve`: the closed-loop peak, then fixed arrival rates at 50% and 80% of it.

    python -m bench.openloop [--runs 3] [--seconds 10] [--connections 32] [--postgres URL] [--no-sqlite]

For each store (PostgreSQL in a fresh database created and dropped by each run, when ``--postgres``
or ALMP_TEST_POSTGRES_URL is set; a SQLite file in a fresh folder) it starts `almp serve --workers 2`,
warms it up, measures the closed-loop peak of ``POST /v1/eligibility`` (K connections, each sending
its next request when the previous answer arrives), then offers 50% and 80% of that peak in open
loop (``bench.loadgen``: request k due at start + k/rate, latency from the due time, connections
opened on demand, so neither a stall nor the generator hides waiting: no coordinated omission).
Every answer is checked against the oracle, every decision answered must be stored, and
`almp audit verify` must pass.

Prints, medians over the runs (PostgreSQL names plain, SQLite names suffixed ``_sqlite``)::

    RATE open_peak <req/s>            (closed loop)
    P50_MS open_50 <ms>   P99_MS open_50 <ms>   P999_MS open_50 <ms>
    P50_MS open_80 <ms>   ...
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.api_load import ALMP, Server, _pg_database, http_request, stored_ids  # noqa: E402
from bench.common import AS_OF, persons  # noqa: E402
from bench.oracle import answer  # noqa: E402

DUL = "lombardia/dote-unica-lavoro"
SHARES = (0.5, 0.8)


def load(port: int, requests: list[str], tmp: Path, *, seconds: float, connections: int,
         rate: float | None = None, keep: int = 10 ** 6, max_requests: int = 10 ** 6) -> dict:
    """One run of the load generator in its own process (so it does not share a GIL with this one)."""
    spec = tmp / f"spec-{uuid.uuid4().hex[:8]}.json"
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": port, "requests": requests, "connections": connections,
                                "seconds": seconds, "rate": rate, "keep": keep, "max_requests": max_requests}))
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", str(spec)], cwd=REPO, capture_output=True,
                         text=True, timeout=seconds + 300, env={**os.environ, "PYTHONPATH": str(REPO)})
    spec.unlink()
    if out.returncode != 0:
        raise SystemExit(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def peak_then_open(port: int, requests: list[str], tmp: Path, seconds: float, connections: int) -> dict:
    """{"closed": result, 0.5: result, 0.8: result} against a warmed-up server."""
    load(port, requests, tmp, seconds=3, connections=connections, keep=0, max_requests=2000)  # warm-up
    out = {"closed": load(port, requests, tmp, seconds=seconds, connections=connections)}
    for share in SHARES:
        out[share] = load(port, requests, tmp, seconds=seconds, connections=connections,
                          rate=share * out["closed"]["rate"])
    return out


def parse_answer(status: int, body: str):
    if status != 200:
        return ("status", status)
    data = json.loads(body)
    return (data["eligible"], data["band"]["id"] if data["band"] else None)


def check(results: dict, expected: list) -> tuple[int, list[str]]:
    """Oracle mismatches (non-200s count as mismatches) and the decision ids answered."""
    bad, ids = 0, []
    for result in results.values():
        for index, status, body in result["answers"]:
            bad += parse_answer(status, body) != tuple(expected[index])
            if status == 200:
                ids.append(json.loads(body)["decision_id"])
        bad += result["requests"] - len(result["answers"])
    return bad, ids


def run_store(url: str, *, seconds: float, connections: int, workers: int = 2) -> dict:
    """Start `almp serve` on ``url`` (an empty store), measure, stop; the figures and the checks."""
    sample = persons(512, seed=7)
    expected = [answer(p, AS_OF) for p in sample]
    with tempfile.TemporaryDirectory(prefix="almp-openloop-") as folder:
        cwd = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env.update(PYTHONPATH=str(REPO), ALMP_DATABASE_URL=url)
        key = subprocess.run([*ALMP, "keys", "add", "--role", "evaluate", "--name", "bench"], cwd=cwd, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        requests = [http_request("POST", "/v1/eligibility", json.dumps(
            {"policy": DUL, "as_of": AS_OF.isoformat(), "person": p}).encode(), {"X-API-Key": key}) for p in sample]
        server = Server(cwd, env, workers).start()
        try:
            results = peak_then_open(server.port, requests, cwd, seconds, connections)
        finally:
            server.stop()
        verify = subprocess.run([*ALMP, "audit", "verify"], cwd=cwd, env=env, capture_output=True, text=True)
        mismatches, ids = check(results, expected)
        missing = len(set(ids) - set(stored_ids(url)))
    return {"results": results, "mismatches": mismatches, "not_stored": missing,
            "verified": verify.returncode == 0}


def figures(run: dict, suffix: str = "") -> dict[str, float]:
    """``{"RATE open_peak": .., "P99_MS open_50": .., ...}`` of one run."""
    results = run["results"]
    out = {f"RATE open_peak{suffix}": results["closed"]["rate"]}
    for share in SHARES:
        name = f"open_{int(share * 100)}{suffix}"
        for kind, key in (("P50_MS", "p50"), ("P99_MS", "p99"), ("P999_MS", "p999")):
            out[f"{kind} {name}"] = results[share][key]
        out[f"RATE {name}"] = results[share]["rate"]
    return out


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def describe(run: dict, label: str) -> str:
    r = run["results"]
    parts = [f"{label}: closed peak {r['closed']['rate']:,.0f} req/s (p99 {r['closed']['p99']:.1f} ms)"]
    for share in SHARES:
        o = r[share]
        parts.append(f"{share:.0%}: offered {o['offered']:,.0f}, got {o['rate']:,.0f} req/s, p50 {o['p50']:.1f} / "
                     f"p99 {o['p99']:.1f} / p99.9 {o['p999']:.1f} ms, {o['connections']} connections, "
                     f"send lag max {o['send_lag_ms']:.1f} ms")
    parts.append(f"mismatches {run['mismatches']}, answered but not stored {run['not_stored']}, "
                 f"audit verify {'ok' if run['verified'] else 'FAILED'}")
    return "\n  ".join(parts)


def stores(postgres: str | None, sqlite: bool):
    """(label, name suffix, context manager yielding a fresh empty store URL)."""
    from contextlib import contextmanager

    @contextmanager
    def fresh_postgres():
        url, drop = _pg_database(postgres)
        try:
            yield url
        finally:
            drop()

    @contextmanager
    def fresh_sqlite():
        with tempfile.TemporaryDirectory(prefix="almp-openloop-db-") as folder:
            yield f"sqlite:///{Path(folder) / 'almp.db'}"
    out = []
    if postgres:
        out.append(("PostgreSQL", "", fresh_postgres))
    if sqlite:
        out.append(("SQLite", "_sqlite", fresh_sqlite))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("ALMP_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    if not args.postgres:
        print("PostgreSQL skipped: set ALMP_TEST_POSTGRES_URL or --postgres URL", file=sys.stderr)
    failed = False
    lines: dict[str, list[float]] = {}
    for label, suffix, fresh in stores(args.postgres, not args.no_sqlite):
        for number in range(args.runs):
            with fresh() as url:  # a fresh database per run
                run = run_store(url, seconds=args.seconds, connections=args.connections, workers=args.workers)
            print(describe(run, f"{label} run {number + 1}, load average {os.getloadavg()[0]:.1f}"),
                  file=sys.stderr, flush=True)
            failed |= bool(run["mismatches"] or run["not_stored"] or not run["verified"])
            for name, value in figures(run, suffix).items():
                lines.setdefault(name, []).append(value)
    print(f"medians of {args.runs} run(s), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for name, values in lines.items():
        print(f"{name} {median(values):.2f}")
    print("MISMATCHES almp_openloop", int(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
