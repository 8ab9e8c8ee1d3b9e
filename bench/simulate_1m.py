"""Benchmark: synthesise a population and simulate an edition over it; print the figures.

    python bench/simulate_1m.py [--size 1000000] [--workers N] [--compare 2019] [--keep DIR]

Prints wall time and people per second of each phase, and the peak resident memory of
this process and of its worker processes (resource.getrusage; on Linux ru_maxrss is KiB).
The target (issue 6): 1,000,000 people in under 30 s and under 1 GiB on 2 cores.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.avviso import simulate as sim  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402
from engine.avviso.synthetic import write_population  # noqa: E402

POLICY = "lombardia/dote-unica-lavoro"


def peak_mib(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--version", default="2013")
    parser.add_argument("--compare", help="a second version to compare (doubles the rule work)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2014, 3, 1))
    parser.add_argument("--keep", help="write the population in this folder and keep it")
    parser.add_argument("--population", help="reuse this population file (skips the synthesis)")
    args = parser.parse_args()

    registry = Registry.load(REPO / "policies")
    policies = [registry.get(POLICY, args.version)]
    if args.compare:
        policies.append(registry.get(POLICY, args.compare))
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="almp-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    population = folder / f"population-{args.size}.csv"

    started = time.perf_counter()
    if args.population:
        population = Path(args.population)
    else:
        write_population(registry.dictionary, population, args.size, "lombardia", 1, args.as_of, args.workers)
    synth_s = time.perf_counter() - started
    size_mib = population.stat().st_size / 2 ** 20

    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tally = sim.run(policies, population, args.as_of, args.workers)
    run_s = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    started = time.perf_counter()
    checked, mismatches = sim.verify_sample(policies, population, args.as_of)
    check_s = time.perf_counter() - started

    print(f"cores available      {os.cpu_count()}, workers {args.workers}")
    print(f"population           {tally.people:,} people, {size_mib:.0f} MiB CSV ({population})")
    if not args.population:
        print(f"synthesis            {synth_s:.1f} s  ({args.size / synth_s:,.0f} people/s)")
    print(f"simulation           {run_s:.1f} s  ({tally.people / run_s:,.0f} people/s; "
          f"{' + '.join(p.key for p in policies)}); workers used {worker_cpu:.1f} CPU-s")
    print(f"load average         {os.getloadavg()[0]:.1f} (other processes on this machine slow the wall time)")
    print(f"durable-rules check  {checked} decisions in {check_s:.1f} s, {len(mismatches)} mismatch(es)")
    print(f"peak RSS             main {peak_mib(resource.RUSAGE_SELF):.0f} MiB, "
          f"largest worker {peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB")
    for policy, states in zip(policies, tally.states):
        print(f"{policy.key}: eligible {tally.people - states.get(sim.NOT_ELIGIBLE, 0):,}, "
              + ", ".join(f"fascia {b.id} {states.get(b.id, 0):,}" for b in policy.bands))
    if not args.keep and not args.population:
        population.unlink()
        Path(str(population) + ".meta.json").unlink()
        folder.rmdir()
    ok = run_s < 30 and not mismatches
    print("target (< 30 s, 0 mismatches):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
