"""Benchmark: ``POST /v1/eligibility/batch`` on ``almp serve``, every decision stored and chained.

    python -m bench.batch_endpoint [--lines 10000] [--requests 6] [--concurrency 2] [--workers 2]
                                   [--postgres URL] [--no-idempotency-key]

Starts ``almp serve`` on a fresh store (a new PostgreSQL database made and dropped by the run
when ``--postgres URL`` or ALMP_TEST_POSTGRES_URL is set, a SQLite file otherwise), posts
``--requests`` batches of ``--lines`` Dote Unica Lavoro 2013 persons (``bench.common.persons``,
each batch different persons, ``--concurrency`` batches in flight), and checks that every
answer line agrees with the oracle (``bench.oracle``), that every decision answered is stored,
once, and that ``almp audit verify`` passes. Prints ``RATE batch_endpoint_stored <decisions/s>``
(decisions answered, hence committed, per second of wall time from the first request sent to
the last answer line read) and the time of each phase. Exit 1 if a check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import AS_OF, persons  # noqa: E402
from bench.oracle import answer  # noqa: E402

DUL = "lombardia/dote-unica-lavoro"
ALMP = [sys.executable, "-m", "almp.cli"]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bodies(lines: int, requests: int) -> tuple[list[bytes], list[list[tuple]]]:
    """The NDJSON body of each request and, per request, the oracle's answer for each of its lines."""
    people = persons(lines * requests, seed=11)
    out, expected = [], []
    for r in range(requests):
        chunk = people[r * lines:(r + 1) * lines]
        out.append(b"".join(json.dumps({"ref": f"r{r}-{i}", "policy": DUL, "version": "2013",
                                        "as_of": AS_OF.isoformat(), "person": p}).encode() + b"\n"
                            for i, p in enumerate(chunk)))
        expected.append([answer(p, AS_OF) for p in chunk])
    return out, expected


def post(port: int, key: str, body: bytes, idempotency_key: str | None) -> dict:
    """One batch: the answer lines and when the first and the last arrived (seconds from sending)."""
    import httpx
    headers = {"X-API-Key": key, "Content-Type": "application/x-ndjson"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    began = time.perf_counter()
    first = None
    got = []
    with httpx.Client(timeout=600) as client:
        with client.stream("POST", f"http://127.0.0.1:{port}/v1/eligibility/batch", content=body,
                           headers=headers) as response:
            status = response.status_code
            for line in response.iter_lines():
                if first is None:
                    first = time.perf_counter() - began
                if line:
                    got.append(line)
    return {"status": status, "lines": got, "first": first or 0.0, "total": time.perf_counter() - began}


def run(port: int, key: str, payloads: list[bytes], concurrency: int, idempotency: bool) -> tuple[list, float]:
    """Every batch posted, ``concurrency`` at a time; (results in request order, wall seconds)."""
    results: list = [None] * len(payloads)
    todo = iter(range(len(payloads)))
    lock = threading.Lock()
    run_id = uuid.uuid4().hex[:8]

    def worker():
        while True:
            with lock:
                index = next(todo, None)
            if index is None:
                return
            results[index] = post(port, key, payloads[index], f"bench-{run_id}-{index}" if idempotency else None)
    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - began


def check_answers(results: list, expected: list) -> tuple[int, list[str]]:
    """(mismatches against the oracle, decision ids answered)."""
    bad, ids = 0, []
    for result, want in zip(results, expected):
        if result["status"] != 200:
            bad += len(want)
            continue
        lines = [json.loads(line) for line in result["lines"]]
        bad += abs(len(lines) - len(want))
        for number, (line, wanted) in enumerate(zip(lines, want), 1):
            if line.get("line") != number or line.get("status") != 200:
                bad += 1
                continue
            ids.append(line["decision_id"])
            got = (line["eligible"], line["band"]["id"] if line["band"] else None)
            bad += got != tuple(wanted)
    return bad, ids


def measure(store_url: str | None, lines: int, requests: int, concurrency: int = 2, workers: int = 2,
            idempotency: bool = True, warmup: bool = True) -> dict:
    """Start ``almp serve`` on a fresh store, post the batches, check everything; the figures."""
    from bench.api_load import _pg_database, stored_ids
    from bench.compare import _free_port, _stop, _wait_http
    phases: dict[str, float] = {}
    began = time.perf_counter()
    payloads, expected = bodies(lines, requests)
    phases["build bodies + oracle (client)"] = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        if store_url:
            url, drop = _pg_database(store_url)
        else:
            url, drop = f"sqlite:///{cwd / 'almp.db'}", (lambda: None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
        env.update(PYTHONPATH=str(REPO), ALMP_DATABASE_URL=url)
        try:
            key = subprocess.run([*ALMP, "keys", "add", "--role", "evaluate", "--name", "bench"], cwd=cwd, env=env,
                                 capture_output=True, text=True, check=True).stdout.strip()
            port = _free_port()
            log = cwd / "server.log"
            proc = subprocess.Popen([*ALMP, "serve", "--port", str(port), "--workers", str(workers)], cwd=cwd,
                                    env=env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
                                    start_new_session=True)
            try:
                _wait_http(port, "/v1/health", proc, log)
                warm_ids: list[str] = []
                if warmup:  # each worker compiles the edition and opens its connections before the clock starts
                    warm, _ = bodies(200, 1)
                    for result in run(port, key, warm * workers, workers, False)[0]:
                        warm_ids += [json.loads(x)["decision_id"] for x in result["lines"]]
                load_before = os.getloadavg()[0]
                results, wall = run(port, key, payloads, concurrency, idempotency)
                load_after = os.getloadavg()[0]
            finally:
                _stop(proc)
            t = time.perf_counter()
            mismatches, ids = check_answers(results, expected)
            phases["check answers against the oracle (client)"] = time.perf_counter() - t
            t = time.perf_counter()
            stored = stored_ids(url)
            phases["read stored ids"] = time.perf_counter() - t
            t = time.perf_counter()
            verify = subprocess.run([*ALMP, "audit", "verify"], cwd=cwd, env=env, capture_output=True, text=True)
            phases["almp audit verify"] = time.perf_counter() - t
        finally:
            drop()
    answered = len(ids)
    stored_set = set(stored)
    not_stored = sum(1 for i in ids if i not in stored_set)
    duplicates = len(stored) - len(stored_set) + (len(ids) - len(set(ids)))
    unexpected = len(stored_set) - len(set(ids) | set(warm_ids))
    firsts = sorted(r["first"] for r in results)
    totals = sorted(r["total"] for r in results)
    return {
        "rate": answered / wall, "answered": answered, "wall": wall, "mismatches": mismatches,
        "not_stored": not_stored, "duplicates": duplicates, "stored_not_answered": unexpected,
        "verified": verify.returncode == 0, "verify_text": (verify.stdout or verify.stderr).strip(),
        "first_line_s": firsts[len(firsts) // 2], "request_s": totals[len(totals) // 2],
        "phases": phases, "load": (load_before, load_after),
        "statuses": sorted({r["status"] for r in results}),
    }


def failures(figures: dict) -> int:
    return (figures["mismatches"] + figures["not_stored"] + figures["duplicates"] + figures["stored_not_answered"]
            + (not figures["verified"]))


def describe(figures: dict, lines: int) -> list[str]:
    out = [f"  {figures['answered']:,} decisions answered in {figures['wall']:.2f} s "
           f"(load average {figures['load'][0]:.1f} -> {figures['load'][1]:.1f}); HTTP statuses {figures['statuses']}",
           f"  per batch of {lines:,} lines: first answer line after {figures['first_line_s']:.3f} s, "
           f"whole answer {figures['request_s']:.3f} s (medians)",
           f"  oracle mismatches {figures['mismatches']}; answered but not stored {figures['not_stored']}; "
           f"duplicates {figures['duplicates']}; stored but not answered {figures['stored_not_answered']}; "
           f"audit verify: {figures['verify_text'].splitlines()[0] if figures['verify_text'] else '?'}"]
    out += [f"  phase {name}: {seconds:.2f} s" for name, seconds in figures["phases"].items()]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("ALMP_TEST_POSTGRES_URL"))
    parser.add_argument("--no-idempotency-key", action="store_true")
    args = parser.parse_args(argv)
    say(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}; store: {'PostgreSQL' if args.postgres else 'SQLite'}; "
        f"{args.requests} batches of {args.lines:,} lines, {args.concurrency} in flight, {args.workers} workers")
    figures = measure(args.postgres, args.lines, args.requests, args.concurrency, args.workers,
                      not args.no_idempotency_key)
    for line in describe(figures, args.lines):
        print(line)
    print(f"RATE batch_endpoint_stored {figures['rate']:.2f}")
    bad = failures(figures)
    print(f"MISMATCHES almp {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
