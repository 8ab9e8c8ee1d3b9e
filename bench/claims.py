"""Claims priced per second: Dote Unica Lavoro 2013, 10 delivered services each plus an outcome.

    python bench/claims.py [N]

Figures are ratios against evaluating the same person's eligibility alone (the part of a
claim that decides the band), measured in the same run.
"""
from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AS_OF, peak_rss_mib, persons, rate  # noqa: E402
from engine.decide.backends import ReferenceBackend  # noqa: E402
from engine.costs.claims import price_claim  # noqa: E402
from engine.decide.durable import DurableBackend  # noqa: E402
from engine.decide.evaluate import evaluate  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "policies"


def claims(n: int, seed: int = 2):
    rng = random.Random(seed)
    eligible = [p for p in persons(n * 3, seed) if p["employment_status"] == "unemployed"
                and p["residence_region"] == "lombardia"][:n]
    out = []
    for p in eligible:
        services = []
        for _ in range(10):
            services.append({"code": rng.choice(["a", "d", "e", "g"]),
                             "date": (AS_OF + dt.timedelta(days=rng.randint(0, 240))).isoformat(),
                             "quantity": rng.randint(1, 8),
                             "delivery": rng.choice(["individual", "individual", "group"])})
        claim = {"person": p, "start_date": AS_OF.isoformat(), "services": services}
        if rng.random() < 0.5:
            claim["outcome"] = {"contract_type": rng.choice(["open_ended", "fixed_term"]),
                                "start": (AS_OF + dt.timedelta(days=rng.randint(30, 150))).isoformat(),
                                "duration_months": rng.randint(3, 12), "job_region": "lombardia"}
        out.append(claim)
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    policy = Registry.load(ROOT).get("lombardia/dote-unica-lavoro", "2013")
    items = claims(n)
    durable = DurableBackend.for_policy(policy)
    reference = ReferenceBackend(policy)
    errors = 0
    for claim in items[:200]:  # both backends must price identically
        if price_claim(policy, claim, durable) != price_claim(policy, claim, reference):
            errors += 1
    eval_rate = rate(lambda c: evaluate(policy, c["person"], AS_OF, durable), items)
    durable_rate = rate(lambda c: price_claim(policy, c, durable), items)
    reference_rate = rate(lambda c: price_claim(policy, c, reference), items)
    print(f"claims: {len(items)} (10 services each, half with an outcome)   backend mismatches: {errors}")
    print(f"{'path':52} {'per second':>11} {'µs each':>9} {'ratio':>7}")
    for name, r in (("eligibility evaluate() alone (durable)", eval_rate),
                    ("price_claim on durable-rules (decision path)", durable_rate),
                    ("price_claim on reference closures", reference_rate)):
        print(f"{name:52} {r:11,.0f} {1e6 / r:9.1f} {eval_rate / r:6.2f}x")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
