"""Engine throughput on Dote Unica Lavoro 2013 (eligibility + band), every figure a ratio.

    python bench/engine_decisions.py [N]

Decision path: almp's durable-rules backend vs the same compiled ruleset's C core driven directly
(pre-encoded JSON, no almp code), the way almp drives it: ``bench.durable_peer``, the peer
``bench.compare`` uses too. Batch path: the reference
evaluator (compiled closures) vs a hand-written Python function of the same logic,
checked equal to the durable-rules path on every person. Rates are per CPU second of this process.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import durable_peer  # noqa: E402
from bench.common import AS_OF, peak_rss_mib, persons  # noqa: E402
from engine.decide.backends import ReferenceBackend  # noqa: E402
from engine.decide.batch import BatchDecider  # noqa: E402
from engine.decide import durable as durable_module  # noqa: E402
from engine.decide.durable import DurableBackend  # noqa: E402
from engine.decide.evaluate import decide, evaluate, prepare_facts  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "policies"


def raw_assert(ruleset: str, fact: dict) -> None:
    """Drive durable-rules through its stock Host API, no almp code around it (the raw baseline)."""
    host = durable_module._HOST
    host.assert_fact(ruleset, fact)
    host.get_ruleset(ruleset).delete_state(fact["sid"])


def cpu_rate(run, count: int, passes: int = 3) -> float:
    """Median items per CPU second of this process over ``passes`` calls of ``run()``, each handling ``count``
    items (CPU time, as bench.compare: the machine is shared and wall time swings with the others' load)."""
    results = []
    for _ in range(passes):
        start = time.process_time()
        run()
        results.append(count / max(time.process_time() - start, 1e-9))
    return sorted(results)[passes // 2]


def each(fn, items):
    """``run()`` for cpu_rate: ``fn`` on every item."""
    def run():
        for item in items:
            fn(item)
    return run


def hand_written(env):
    """DUL 2013 written by hand, with the edition's current parameter values."""
    lomb = env["residence_region"] == "lombardia" or env["domicile_region"] == "lombardia"
    status, age, months, wp = env["employment_status"], env["age"], env["unemployment_months"], env["workplace_region"]
    solid, last = env["solidarity_agreement"], env["last_cigd_period"]
    eligible = ((status == "unemployed" and lomb)  # young inoccupati need a DID too, so they are unemployed
                or (status == "unemployed" and env["income_support"] == "mobility" and wp == "lombardia")
                or (status == "suspended" and env["income_support"] in ("cigd", "cigs") and wp == "lombardia")
                or (solid and wp == "lombardia") or (last and wp == "lombardia"))
    if not eligible:
        return None
    if solid or last:
        return "4"
    points = 0
    if months is not None and months >= 12:
        points += 3
    if months is not None and 6 <= months < 12:
        points += 2
    if age <= 29:
        points += 1
    if age >= 55:
        points += 2
    if env["education_level"] in ("none", "primary", "lower_secondary"):
        points += 1
    if env["gender"] == "F" and age > 35:
        points += 1
    return "1" if points < 2 else "2" if points < 4 else "3"


def band_of(policy, fired, banded):
    eligible = all(any(a.key in fired for a in r.alternatives) for r in policy.eligibility)
    if not eligible:
        return None
    return next(b.id for b in policy.bands if b.rule.key in banded)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    registry = Registry.load(ROOT)
    policy = registry.get("lombardia/dote-unica-lavoro", "2013")
    people = persons(n)
    envs = [prepare_facts(policy, p, AS_OF) for p in people]
    durable = DurableBackend.for_policy(policy)
    reference = ReferenceBackend(policy)

    # correctness first: every person, three ways
    batch = BatchDecider(policy)
    mismatches = 0
    for env in envs:
        d = band_of(policy, *decide(policy, env, durable)[:2])
        r = band_of(policy, *decide(policy, env, reference)[:2])
        b = batch.decide(env)[1]
        if not (d == r == b == hand_written(env)):
            mismatches += 1
    # raw durable-rules through its stock Host API: the same asserts per person, events encoded beforehand
    events = []
    for i, env in enumerate(envs):
        fired, banded, points = decide(policy, env, reference)
        first = dict(durable.event(1, env), sid=f"r1-{i}")
        second = dict(durable.event(2, {**env, "points": points}), sid=f"r2-{i}") if banded else None
        events.append((first, second))

    def raw(pair):
        raw_assert(durable.ruleset, pair[0])
        if pair[1] is not None:
            raw_assert(durable.ruleset, pair[1])

    # the peer: the C core driven directly as almp drives it, the same driver as bench.compare's
    sample = envs[: min(n, 30_000)]
    texts, fresh = durable_peer.encode(policy, durable, sample)
    peer_rate = cpu_rate(lambda: durable_peer.drive(durable, texts), len(sample))
    fresh_rate = cpu_rate(lambda: durable_peer.drive_fresh_states(durable, fresh), len(sample))
    raw_rate = cpu_rate(each(raw, events[: len(sample)]), len(sample))
    almp_rate = cpu_rate(each(lambda env: decide(policy, env, durable), sample), len(sample))
    full = people[: min(n, 10_000)]
    full_rate = cpu_rate(each(lambda p: evaluate(policy, p, AS_OF, durable), full), len(full))
    ref_rate = cpu_rate(each(lambda env: decide(policy, env, reference), envs), n)
    batch_rate = cpu_rate(each(batch.decide, envs), n)
    hand_rate = cpu_rate(each(hand_written, envs), n)
    checked = people[: min(n, 30_000)]
    prep_rate = cpu_rate(each(lambda p: prepare_facts(policy, p, AS_OF), checked), len(checked))

    print(f"persons: {n}   mismatches durable/reference/hand-written: {mismatches}   cores: {os.cpu_count()}")
    print(f"{'path':58} {'decisions/s':>12} {'µs/decision':>12} {'ratio':>8}")
    rows = [
        ("raw durable-rules, stock Host API, pre-encoded events", raw_rate, peer_rate / raw_rate),
        ("C core direct as almp drives it (bench.durable_peer)", peer_rate, 1.0),
        ("C core direct, fresh sid per assert (before reuse)", fresh_rate, peer_rate / fresh_rate),
        ("almp decision path: durable-rules (encode+2 stages+band)", almp_rate, peer_rate / almp_rate),
        ("almp full evaluate() on durable (checks+explanation)", full_rate, peer_rate / full_rate),
        ("input checking + derived facts only (prepare_facts)", prep_rate, None),
        ("hand-written Python function", hand_rate, 1.0),
        ("almp reference evaluator via decide() (generic closures)", ref_rate, hand_rate / ref_rate),
        ("almp batch path: policy compiled to one Python function", batch_rate, hand_rate / batch_rate),
    ]
    for name, r, ratio in rows:
        ratio_text = "" if ratio is None else f"{ratio:7.2f}x"
        print(f"{name:58} {r:12,.0f} {1e6 / r:12.2f} {ratio_text:>8}")
    print("ratios: durable rows are slowdown vs the C core driven as almp drives it (one reused state, facts "
          "retracted); the rest vs the hand-written function")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
