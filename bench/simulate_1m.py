"""Benchmark: synthesise a population, then simulate one edition and compare two over it; print the figures.

    python -m bench.simulate_1m [--size 1000000] [--workers N] [--runs 3] [--version 2013] [--compare 2019]
                                [--keep DIR | --population FILE]

The population is written once (the synthetic generator, ``engine.avviso.synthetic``) and then
streamed by ``engine.avviso.simulate.run`` in chunks through ``--workers`` processes (default:
every core). Each run times two phases:

- ``simulate``: the edition ``--version`` alone (eligibility, fascia, commitments);
- ``whatif``: ``--version`` against ``--compare`` (both editions per person, transitions).

Printed per phase, medians of ``--runs``: wall time, persons/s and CPU seconds (this process and
its workers: the figure other load on the machine does not inflate); then the peak resident memory
of this process and of the largest worker (``resource.getrusage``, ru_maxrss in KiB on Linux;
RUSAGE_CHILDREN is the largest child reaped), and the load average. The first 1,000 people are
checked on the durable-rules backend (0 mismatches). Machine-readable lines::

    TIME_S simulate <s>     RATE simulate <persons/s>     CPU_S simulate <s>     (and the same for whatif)
    PEAK_RSS_MIB main <MiB>     PEAK_RSS_MIB worker <MiB>
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
from engine.avviso.synthetic import write_population  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402

POLICY = "lombardia/dote-unica-lavoro"


def peak_mib(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def cpu_s() -> float:
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in used)


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--version", default="2013")
    parser.add_argument("--compare", default="2019", help="the second edition of the what-if phase")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2014, 3, 1))
    parser.add_argument("--keep", help="write the population in this folder and keep it")
    parser.add_argument("--population", help="reuse this population file (skips the synthesis)")
    args = parser.parse_args(argv)

    registry = Registry.load(REPO / "policies")
    first, second = registry.get(POLICY, args.version), registry.get(POLICY, args.compare)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="almp-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    population = Path(args.population) if args.population else folder / f"population-{args.size}.csv"
    print(f"cores {os.cpu_count()}, workers {args.workers}, load average {os.getloadavg()[0]:.1f} at the start",
          flush=True)
    if not args.population:
        started = time.perf_counter()
        write_population(registry.dictionary, population, args.size, "lombardia", 1, args.as_of, args.workers)
        synth_s = time.perf_counter() - started
        print(f"synthesis            {synth_s:.1f} s  ({args.size / synth_s:,.0f} people/s)", flush=True)
    size_mib = population.stat().st_size / 2 ** 20

    times: dict[str, list[float]] = {"simulate": [], "whatif": []}
    cpu: dict[str, list[float]] = {"simulate": [], "whatif": []}
    people = 0
    failed = False
    try:
        for number in range(args.runs):
            for phase, policies in (("simulate", [first]), ("whatif", [first, second])):
                before = cpu_s()
                started = time.perf_counter()
                tally = sim.run(policies, population, args.as_of, args.workers)
                elapsed = time.perf_counter() - started
                times[phase].append(elapsed)
                cpu[phase].append(cpu_s() - before)
                people = tally.people
                print(f"run {number + 1} {phase:9s} {elapsed:6.1f} s  ({tally.people / elapsed:,.0f} persons/s; "
                      f"{' vs '.join(p.key for p in policies)}), {cpu[phase][-1]:.1f} CPU-s, "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
                if phase == "whatif" and number == 0:
                    summary = [sim.summarise(p, tally.states[i], tally.people, {}) for i, p in enumerate(policies)]
                    change = sim.compare(summary[0], summary[1], tally.transitions)
                    for s in summary:
                        print(f"  {s['policy']}: eligible {s['eligible']:,}, commitments {s['commitments']} EUR")
                    print(f"  changed state {change['changed_people']:,}, "
                          f"commitments delta {change['commitments_delta']} EUR")
        checked, mismatches = sim.verify_sample([first, second], population, args.as_of)
        failed = bool(mismatches)
    finally:
        if not args.keep and not args.population:
            population.unlink(missing_ok=True)
            Path(str(population) + ".meta.json").unlink(missing_ok=True)
            folder.rmdir()

    print(f"population           {people:,} people, {size_mib:.0f} MiB CSV")
    print(f"durable-rules check  {checked} decisions, {len(mismatches)} mismatch(es)")
    print(f"medians of {args.runs} run(s), load average {os.getloadavg()[0]:.1f} at the end "
          f"(other processes on this machine slow the wall time)")
    for phase, values in times.items():
        print(f"TIME_S {phase} {median(values):.2f}")
        print(f"RATE {phase} {people / median(values):.0f}")
        print(f"CPU_S {phase} {median(cpu[phase]):.2f}")  # this process and its workers: what load does not inflate
    print(f"PEAK_RSS_MIB main {peak_mib(resource.RUSAGE_SELF):.0f}")
    print(f"PEAK_RSS_MIB worker {peak_mib(resource.RUSAGE_CHILDREN):.0f}")
    print("MISMATCHES simulate", len(mismatches))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
