"""almp side by side with the engines a user would pick instead, on one workload, in one run.

    python -m bench.compare [--persons 100000] [--seconds 10] [--postgres URL] [--skip api]

The workload is Dote Unica Lavoro 2013 (eligibility, profiling points, fascia) for seeded
persons (``bench.common.persons``). Every answer of every engine is checked against an
independent oracle (``bench.oracle``); almp must have 0 mismatches (exit 1 otherwise).
The peers are OpenFisca 46 with its country template (``bench.peers.openfisca_dul``), from the
optional ``bench`` extra (``pip install -e '.[bench]'``); a peer that is not installed is
skipped with a message.

Comparisons (each printed as ``RATIO <name> <almp throughput / peer throughput>``):

- ``batch_vs_openfisca_vectorised``: a whole population given as columns of raw JSON values
  (ISO dates, texts, null) -> (eligible, fascia) per person, input checks and derived facts
  included on both sides: almp's columnar batch path against one OpenFisca simulation;
- ``decision_path_vs_durable_c_core``: one person at a time on durable-rules, input checks
  included, against the same ruleset's C core driven directly with pre-encoded JSON through the
  stock binding's calls (one reused state, each fact retracted after its actions; the goal, ≤ 1.5x
  the core's time, is a ratio ≥ 0.67); the table adds the core through almp's own drained call
  (``assert_drain_retract``, which writes no action messages), to show almp's share around it;
- ``explained_vs_openfisca_single``: almp's full explained decision (checks, both stages on
  durable-rules, reasons, and the trace rendered to the canonical text the service stores, every
  result kept) against one OpenFisca simulation per person;
- ``api_vs_openfisca_calculate``: ``POST /v1/eligibility`` on ``almp serve`` (2 workers, every
  decision stored and chained in PostgreSQL) against OpenFisca's web API ``POST /calculate``
  (gunicorn, 2 workers x 16 threads, stateless), same load generator, 32 connections, closed
  loop; then almp open loop at 50% and 80% of its peak (``bench.openloop``: latency from each
  request's due time, no coordinated omission), printed as ``P50_MS/P99_MS/P999_MS open_50`` and
  ``open_80``, and the same against a SQLite store (``open_50_sqlite``, ``open_80_sqlite``);
- ``batch_endpoint_stored`` (a ``RATE``, no peer): ``POST /v1/eligibility/batch`` decisions answered, hence
  stored and chained in PostgreSQL, per second (``bench.batch_endpoint``).

In-process figures are CPU time of this process (``time.process_time``; the machine is shared,
wall time swings with other load), medians of alternating passes. HTTP figures are wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import openloop  # noqa: E402
from bench.common import AS_OF, persons  # noqa: E402
from bench.oracle import answer  # noqa: E402

DUL = "lombardia/dote-unica-lavoro"
LINES: list[str] = []   # RATIO / P99_MS lines, printed as measured and again before the table
TABLE: list[tuple] = []  # (comparison, almp figure, peer figure, ratio, note)
MISMATCHES: dict[str, int] = {}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def emit(kind: str, name: str, value: float) -> None:
    line = f"{kind} {name} {value:.2f}"
    LINES.append(line)
    print(line, flush=True)


def check(label: str, answers, expected) -> int:
    bad = sum(1 for got, want in zip(answers, expected) if tuple(got) != tuple(want))
    bad += abs(len(answers) - len(expected))
    MISMATCHES[label] = bad
    say(f"  {label}: {len(answers)} answers checked against the oracle, {bad} mismatch(es)")
    return bad


def cpu_rate(fn, count: int) -> float:
    began = time.process_time()
    fn()
    return count / max(time.process_time() - began, 1e-9)


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def load_policy():
    from engine.policy.registry import Registry
    return Registry.load(REPO / "policies").get(DUL, "2013")


def openfisca():
    try:
        from bench.peers import openfisca_dul
        return openfisca_dul
    except ImportError as exc:
        say(f"  OpenFisca peer skipped: {exc} (install the bench extra: pip install -e '.[bench]')")
        return None


# -- batch ----------------------------------------------------------------------------------
def bench_batch(policy, people, expected, passes: int) -> None:
    from engine.decide.columns import ColumnDecider
    say(f"batch: {len(people):,} persons as columns, {passes} alternating passes")
    columns = {name: [p[name] for p in people] for name in people[0]}
    decider = ColumnDecider(policy)
    results, chunk = decider.decide_columns(columns, AS_OF)
    assert not chunk.problems, chunk.errors()
    check("almp batch (columns)", [(r[0], r[1]) for r in results], expected)
    rows_results, _ = decider.decide_rows(people, AS_OF)
    check("almp batch (rows)", [(r[0], r[1]) for r in rows_results], expected)
    peer = openfisca()
    vectorised = peer.Vectorised() if peer else None
    if vectorised:
        eligible, bands = vectorised.run(columns, AS_OF)
        check("OpenFisca vectorised (peer)", list(zip(eligible, bands)), expected)
    almp, almp_rows, of = [], [], []
    n = len(people)
    for _ in range(passes):
        almp.append(cpu_rate(lambda: decider.decide_columns(columns, AS_OF), n))
        almp_rows.append(cpu_rate(lambda: decider.decide_rows(people, AS_OF), n))
        if vectorised:
            of.append(cpu_rate(lambda: vectorised.run(columns, AS_OF), n))
    chunk = decider.preparer.from_columns(columns, AS_OF)
    decide_only = median([cpu_rate(lambda: decider.run(chunk), n) for _ in range(passes)])
    TABLE.append(("batch, columns in (checks + derived facts + decision)", f"{median(almp):,.0f}/s",
                  f"{median(of):,.0f}/s" if of else "skipped", median(almp) / median(of) if of else None,
                  "peer: OpenFisca vectorised, one simulation"))
    TABLE.append(("batch, rows in (JSON objects, as the batch endpoint gets them)", f"{median(almp_rows):,.0f}/s",
                  "", None, ""))
    TABLE.append(("batch, compiled decision alone (columns already prepared)", f"{decide_only:,.0f}/s", "", None, ""))
    if of:
        emit("RATIO", "batch_vs_openfisca_vectorised", median(almp) / median(of))


# -- decision path on durable-rules -----------------------------------------------------------
def bench_decision(policy, people, expected, passes: int) -> None:
    from bench import durable_peer
    from engine.decide.durable import DurableBackend
    from engine.decide.evaluate import decide, prepare_facts
    from engine.decide.state import is_eligible
    say(f"decision path: {len(people):,} persons, one at a time on durable-rules")
    durable = DurableBackend.for_policy(policy)

    def band_of(fired, banded):
        if not is_eligible(policy, fired):
            return (False, None)
        return (True, next((b.id for b in policy.bands if b.rule.key in banded), None))

    def almp_one(p):
        fired, banded, _ = decide(policy, prepare_facts(policy, p, AS_OF), durable)
        return fired, banded

    check("almp decision path (durable-rules)", [band_of(*almp_one(p)) for p in people], expected)
    # the peer: the same asserts, encoded beforehand, through the C core as almp drives it (bench.durable_peer)
    texts, fresh = durable_peer.encode(policy, durable, [prepare_facts(policy, p, AS_OF) for p in people])

    def c_core():
        durable_peer.drive(durable, texts)

    def c_core_drained():  # the core as almp calls it: assert_drain_retract
        durable_peer.drive_drained(durable, texts)

    def c_core_fresh_states():  # the peer before almp reused its state
        durable_peer.drive_fresh_states(durable, fresh)

    def almp_all():
        for p in people:
            almp_one(p)
    n = len(people)
    almp, raw, raw_fresh, faults, drained = [], [], [], [], []
    for _ in range(passes):
        raw.append(cpu_rate(c_core, n))
        drained.append(cpu_rate(c_core_drained, n))
        almp.append(cpu_rate(almp_all, n))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        raw_fresh.append(cpu_rate(c_core_fresh_states, n))
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / n)
    ratio = median(almp) / median(raw)
    TABLE.append(("decision path on durable-rules, input checks included", f"{median(almp):,.0f}/s",
                  f"{median(raw):,.0f}/s", ratio,
                  f"peer: the C core driven directly; almp takes {1 / ratio:.2f}x its time (goal <= 1.5x)"))
    TABLE.append(("  the C core through almp's drained call (assert_drain_retract, no action messages)",
                  "", f"{median(drained):,.0f}/s", None,
                  f"almp takes {median(drained) / median(almp):.2f}x its time: almp's own share around the core"))
    TABLE.append(("  the C core driven with a fresh sid per assert, deleted after (before reuse)",
                  "", f"{median(raw_fresh):,.0f}/s", None,
                  f"almp {median(almp) / median(raw_fresh):.2f}x its rate; {median(faults):.1f} page faults per "
                  f"person (its time depends on the heap layout: ~0 fast, ~47 slow)"))
    emit("RATIO", "decision_path_vs_durable_c_core", ratio)


# -- full explained decision ---------------------------------------------------------------------
def bench_explained(policy, people, expected, single_people) -> None:
    from engine.decide.durable import DurableBackend
    from engine.decide.evaluate import evaluate
    say(f"explained decision: {len(people):,} persons (almp), {len(single_people):,} (OpenFisca, one each)")
    durable = DurableBackend.for_policy(policy)
    out = [evaluate(policy, p, AS_OF, durable) for p in people]
    check("almp full explained decision", [(o["eligible"], o["band"]["id"] if o["band"] else None) for o in out],
          expected)
    compact = [evaluate(policy, p, AS_OF, durable, compact=True) for p in people]
    bad = sum(1 for c, o in zip(compact, out) if c["trace"].entries() != o["trace"]
              or {**c, "trace": None} != {**o, "trace": None})
    MISMATCHES["almp compact explanation vs entries"] = bad
    del out, compact  # checked: not kept alive (and scanned by every garbage collection) while timing

    def explained():  # as the service makes it: the trace a record, rendered to the text it stores
        kept = []
        for p in people:
            result = evaluate(policy, p, AS_OF, durable, compact=True)
            kept.append((result, result["trace"].canonical()))
        return kept
    almp = median([cpu_rate(explained, len(people)) for _ in range(3)])

    def dropped():  # the same, each result and text dropped once written (the service keeps neither)
        for p in people:
            evaluate(policy, p, AS_OF, durable, compact=True)["trace"].canonical()
    almp_dropped = median([cpu_rate(dropped, len(people)) for _ in range(3)])
    entries = median([cpu_rate(lambda: [evaluate(policy, p, AS_OF, durable) for p in people], len(people))
                      for _ in range(3)])
    peer = openfisca()
    of = None
    if peer:
        from openfisca_core.simulations import SimulationBuilder
        tbs = peer.tax_benefit_system()
        day = AS_OF.isoformat()

        def one(p):
            sim = SimulationBuilder().build_from_entities(tbs, peer.situation(p, day))
            return bool(sim.calculate("dul_eligible", day)[0]), peer.band_id(sim.calculate("dul_band", day)
                                                                               .decode_to_str()[0])
        check("OpenFisca one simulation per person (peer)", [one(p) for p in single_people],
              expected[:len(single_people)])
        of = median([cpu_rate(lambda: [one(p) for p in single_people], len(single_people)) for _ in range(3)])
    TABLE.append(("full explained decision (checks, durable-rules, reasons, trace as its stored text)",
                  f"{1e6 / almp:,.1f} µs", f"{1e6 / of:,.1f} µs" if of else "skipped",
                  almp / of if of else None, "peer: OpenFisca, one simulation per person; goal <= 50 µs"))
    TABLE.append(("the same, each result and text dropped once written (as in the service)",
                  f"{1e6 / almp_dropped:,.1f} µs", "", None, "the line above keeps all 10,000 alive"))
    TABLE.append(("full explained decision, trace as a list of entries (evaluate's default)",
                  f"{1e6 / entries:,.1f} µs", "", None, ""))
    emit("US", "full_explained_decision", 1e6 / almp)
    if of:
        emit("RATIO", "explained_vs_openfisca_single", almp / of)


# -- HTTP APIs -----------------------------------------------------------------------------------
def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(port: int, path: str, proc, log: Path, timeout: float = 120) -> None:
    import httpx
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"server on port {port} did not start")


def _stop(proc) -> None:
    import signal
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _request(path: str, body: bytes, headers: dict) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n" + body.decode("latin-1")


def _load(port: int, requests: list[str], tmp: Path, *, seconds: float, connections: int, rate: float | None = None,
          keep: int = 0, max_requests: int = 1_000_000) -> dict:
    spec = tmp / f"spec-{uuid.uuid4().hex[:8]}.json"
    answers = spec.with_suffix(".out.json")
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": port, "requests": requests, "connections": connections,
                                "seconds": seconds, "rate": rate, "keep": keep, "max_requests": max_requests,
                                "output": str(answers)}))
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", str(spec)], cwd=REPO, capture_output=True,
                         text=True, timeout=seconds + 300, env={**os.environ, "PYTHONPATH": str(REPO)})
    if out.returncode != 0:
        raise SystemExit(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(answers.read_text())


def _oracle_of_answers(result: dict, expected: list, parse) -> list:
    got, want = [], []
    for index, status, body in result["answers"]:
        got.append(parse(status, body))
        want.append(expected[index])
    return got, want


def _openfisca_api(args, sample, expected, tmp: Path):
    """OpenFisca's web API on the same persons, measured before almp runs: almp's run leaves PostgreSQL
    flushing hundreds of MB of new rows for a while, which must not slow the peer down (it did: the peer
    measured 411-475 req/s right after almp, 900-1,020 alone)."""
    peer_rate = None
    peer = openfisca()
    if peer and shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        say("  OpenFisca web API skipped: gunicorn is not installed (install the bench extra)")
        peer = None
    if peer:
        port = _free_port()
        log = tmp / "openfisca.log"
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        proc = subprocess.Popen([gunicorn, "--workers", "2", "--threads", "16", "--worker-class", "gthread",
                                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                                 "bench.peers.openfisca_dul:create_app()"], cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                                stderr=open(log, "ab"), start_new_session=True)
        try:
            _wait_http(port, "/spec", proc, log)
            day = AS_OF.isoformat()
            of_requests = [_request("/calculate", json.dumps(peer.situation(p, day)).encode(), {}) for p in sample]
            _load(port, of_requests, tmp, seconds=3, connections=args.connections, max_requests=1000)
            # gunicorn hands each keep-alive connection to whichever worker accepts it first: when most land on
            # one worker, that run is GIL-bound on one core (~half the rate). Two runs, the peer's better one.
            of_runs = [_load(port, of_requests, tmp, seconds=args.seconds, connections=args.connections,
                             keep=10 ** 6) for _ in range(2)]
            say("  OpenFisca /calculate runs: " + ", ".join(f"{r['rate']:,.0f} req/s" for r in of_runs)
                + " (the better one is the peer's figure)")
            of_closed = max(of_runs, key=lambda r: r["rate"])
        finally:
            _stop(proc)

        def parse_of(status, body):
            if status != 200:
                return ("status", status)
            person = json.loads(body)["persons"]["p"]
            return (person["dul_eligible"][day], peer.band_id(person["dul_band"][day]))
        got, want = _oracle_of_answers(of_closed, expected, parse_of)
        check("OpenFisca /calculate answers (peer)", got, want)
        peer_rate = of_closed["rate"]
        TABLE.append(("OpenFisca POST /calculate (peer, closed loop, stateless)", f"{of_closed['rate']:,.0f} req/s",
                      "", None, f"p50 {of_closed['p50']:.1f} / p99 {of_closed['p99']:.1f} / "
                                f"p99.9 {of_closed['p999']:.1f} ms"))
        emit("P99_MS", "openfisca_calculate", of_closed["p99"])
    return peer_rate


def bench_api(args, expected_of, tmp: Path) -> None:
    from bench.api_load import _pg_database, stored_ids
    if not args.postgres:
        say("api: skipped (set ALMP_TEST_POSTGRES_URL or --postgres URL: decisions are stored in PostgreSQL)")
        return
    sample = persons(512, seed=7)
    expected = [answer(p, AS_OF) for p in sample]
    peer_rate = _openfisca_api(args, sample, expected, tmp)
    say(f"api: almp serve --workers 2 on PostgreSQL, {args.connections} connections, {args.seconds:.0f} s per run")
    url, drop = _pg_database(args.postgres)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
    env.update(PYTHONPATH=str(REPO), ALMP_DATABASE_URL=url)
    almp = [sys.executable, "-m", "almp.cli"]
    cwd = tmp / "almp"
    cwd.mkdir()
    almp_peak = None
    try:
        key = subprocess.run([*almp, "keys", "add", "--role", "evaluate", "--name", "bench"], cwd=cwd, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        requests = [_request("/v1/eligibility", json.dumps({"policy": DUL, "as_of": AS_OF.isoformat(),
                                                             "person": p}).encode(), {"X-API-Key": key})
                    for p in sample]
        port = _free_port()
        log = cwd / "server.log"
        proc = subprocess.Popen([*almp, "serve", "--port", str(port), "--workers", "2"], cwd=cwd, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True)
        try:
            _wait_http(port, "/v1/health", proc, log)
            _load(port, requests, tmp, seconds=3, connections=args.connections, max_requests=2000)  # warm-up
            closed = _load(port, requests, tmp, seconds=args.seconds, connections=args.connections, keep=10 ** 6)
            almp_peak = closed["rate"]
            opens = {}
            for share in openloop.SHARES:
                opens[share] = _load(port, requests, tmp, seconds=args.seconds, connections=args.connections,
                                     rate=share * almp_peak, keep=10 ** 6)
        finally:
            _stop(proc)
        verify = subprocess.run([*almp, "audit", "verify"], cwd=cwd, env=env, capture_output=True, text=True)
        stored = set(stored_ids(url))
    finally:
        drop()

    def parse_almp(status, body):
        if status != 200:
            return ("status", status)
        data = json.loads(body)
        return (data["eligible"], data["band"]["id"] if data["band"] else None)

    answered = []
    for result in [closed, *opens.values()]:
        got, want = _oracle_of_answers(result, expected, parse_almp)
        answered += [json.loads(body)["decision_id"] for _, status, body in result["answers"] if status == 200]
        check(f"almp API answers ({'closed' if result is closed else 'open'} loop)", got, want)
    missing = set(answered) - stored
    say(f"  stored rows {len(stored)}; answered decisions not stored: {len(missing)}; "
        f"audit verify: {(verify.stdout or verify.stderr).strip().splitlines()[0] if (verify.stdout or verify.stderr) else verify.returncode}")
    MISMATCHES["almp API answered but not stored"] = len(missing)
    MISMATCHES["almp audit verify failed"] = int(verify.returncode != 0)

    TABLE.append(("almp POST /v1/eligibility (closed loop, stored + chained in PostgreSQL)",
                  f"{closed['rate']:,.0f} req/s", f"{peer_rate:,.0f} req/s" if peer_rate else "skipped",
                  closed["rate"] / peer_rate if peer_rate else None,
                  f"p50 {closed['p50']:.1f} / p99 {closed['p99']:.1f} / p99.9 {closed['p999']:.1f} ms; "
                  f"non-200: {closed['requests'] - closed['status'].get('200', 0)}"))
    for share, result in opens.items():
        TABLE.append((f"almp open loop at {share:.0%} of its peak ({share * almp_peak:,.0f} req/s offered)",
                      f"{result['rate']:,.0f} req/s", "", None,
                      f"p50 {result['p50']:.1f} / p99 {result['p99']:.1f} / p99.9 {result['p999']:.1f} ms "
                      f"(from the scheduled time; {result['connections']} connections, "
                      f"send lag max {result['send_lag_ms']:.0f} ms)"))
    for name, value in openloop.figures({"results": {"closed": closed, **opens}}).items():
        if not name.startswith("RATE"):
            emit(*name.split(" "), value)
    emit("P99_MS", "api_eligibility", closed["p99"])
    if peer_rate:
        emit("RATIO", "api_vs_openfisca_calculate", closed["rate"] / peer_rate)


def bench_openloop_sqlite(args) -> None:
    """The same closed peak and open-loop runs against a SQLite store (bench.openloop)."""
    say("openloop: almp serve --workers 2 on SQLite, closed peak then 50% and 80% of it in open loop")
    for label, suffix, fresh in openloop.stores(None, sqlite=True):
        with fresh() as url:
            run = openloop.run_store(url, seconds=args.seconds, connections=args.connections)
        say("  " + openloop.describe(run, label))
        MISMATCHES["almp API answers (SQLite, closed and open loop)"] = run["mismatches"]
        MISMATCHES["almp API answered but not stored (SQLite)"] = run["not_stored"]
        MISMATCHES["almp audit verify failed (SQLite)"] = int(not run["verified"])
        for name, value in openloop.figures(run, suffix).items():
            if not name.startswith("RATE"):
                emit(*name.split(" "), value)
        r = run["results"]
        TABLE.append(("almp POST /v1/eligibility (closed loop, SQLite)", f"{r['closed']['rate']:,.0f} req/s", "",
                      None, f"p50 {r['closed']['p50']:.1f} / p99 {r['closed']['p99']:.1f} / "
                            f"p99.9 {r['closed']['p999']:.1f} ms"))
        for share in openloop.SHARES:
            o = r[share]
            TABLE.append((f"almp open loop at {share:.0%} of its peak, SQLite ({o['offered']:,.0f} req/s offered)",
                          f"{o['rate']:,.0f} req/s", "", None,
                          f"p50 {o['p50']:.1f} / p99 {o['p99']:.1f} / p99.9 {o['p999']:.1f} ms "
                          f"(from the scheduled time; {o['connections']} connections)"))


def bench_batch_endpoint(args) -> None:
    """POST /v1/eligibility/batch on almp serve, every decision stored in PostgreSQL (bench.batch_endpoint)."""
    from bench import batch_endpoint
    if not args.postgres:
        say("batch_endpoint: skipped (set ALMP_TEST_POSTGRES_URL or --postgres URL)")
        return
    say("batch_endpoint: almp serve --workers 2 on PostgreSQL, 6 batches of 10,000 lines, 2 in flight")
    figures = batch_endpoint.measure(args.postgres, 10_000, 6)
    for line in batch_endpoint.describe(figures, 10_000):
        say(line)
    MISMATCHES["almp batch endpoint (oracle, stored, chain)"] = batch_endpoint.failures(figures)
    TABLE.append(("almp POST /v1/eligibility/batch, decisions stored + chained in PostgreSQL",
                  f"{figures['rate']:,.0f}/s", "", None,
                  f"batches of 10,000 lines, 2 in flight; load {figures['load'][0]:.1f}"))
    emit("RATE", "batch_endpoint_stored", figures["rate"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", default=os.environ.get("ALMP_TEST_POSTGRES_URL"))
    parser.add_argument("--skip", action="append", default=[],
                        choices=["batch", "decision", "explained", "api", "openloop_sqlite", "batch_endpoint"])
    args = parser.parse_args(argv)
    say(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}")
    policy = load_policy()
    people = persons(args.persons)
    expected = [answer(p, AS_OF) for p in people]
    if "batch" not in args.skip:
        bench_batch(policy, people, expected, args.passes)
    if "decision" not in args.skip:
        bench_decision(policy, people[:20_000], expected[:20_000], args.passes)
    if "explained" not in args.skip:
        bench_explained(policy, people[:10_000], expected[:10_000], people[:1_000])
    if "api" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                bench_api(args, expected, Path(tmp))
            except SystemExit as exc:  # a server that did not start: say so, keep the other figures
                say(f"api: FAILED: {exc}")
                MISMATCHES["almp API run failed"] = 1
    if "batch_endpoint" not in args.skip:
        try:
            bench_batch_endpoint(args)
        except SystemExit as exc:
            say(f"batch_endpoint: FAILED: {exc}")
            MISMATCHES["almp batch endpoint run failed"] = 1
    if "openloop_sqlite" not in args.skip:
        try:
            bench_openloop_sqlite(args)
        except SystemExit as exc:
            say(f"openloop (SQLite): FAILED: {exc}")
            MISMATCHES["almp API run failed (SQLite)"] = 1
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    for line in LINES:
        print(line)
    print()
    print(f"| {'comparison':78} | {'almp':>16} | {'peer':>16} | {'ratio':>6} | note")
    print(f"|{'-' * 80}|{'-' * 18}|{'-' * 18}|{'-' * 8}|------")
    for name, mine, theirs, ratio, note in TABLE:
        ratio_text = f"{ratio:5.2f}x" if ratio is not None else ""
        print(f"| {name:78} | {mine:>16} | {theirs:>16} | {ratio_text:>6} | {note}")
    almp_bad = {k: v for k, v in MISMATCHES.items() if v and "(peer)" not in k}
    print()
    print("oracle mismatches: " + ", ".join(f"{k} {v}" for k, v in MISMATCHES.items()))
    print("MISMATCHES almp", sum(almp_bad.values()))
    return 1 if almp_bad else 0


if __name__ == "__main__":
    sys.exit(main())
