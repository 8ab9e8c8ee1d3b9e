"""Partial evaluation on Dote Unica Lavoro 2013: answers per second by how many facts are missing.

    python bench/partial.py [N]

Seeded persons with 0, 1, 3 and all-but-2 of their facts removed, decided on each path
(durable-rules, batch, reference) through ``evaluate_available`` (full evaluation when nothing
is missing); the complete case is the reference the others are a ratio of. Every answer is
checked equal across the three paths. Then screening (every programme in force) per person.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AS_OF, persons, rate  # noqa: E402
from engine.decide.partial import evaluate_available  # noqa: E402
from engine.decide.screening import screen  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "policies"


def dropped(people, k: int, seed: int = 7):
    rng = random.Random(seed)
    out = []
    for p in people:
        names = sorted(p)
        gone = set(rng.sample(names, min(k, len(names))))
        out.append({n: v for n, v in p.items() if n not in gone})
    return out


def main(n: int) -> None:
    registry = Registry.load(ROOT)
    dul = registry.get("lombardia/dote-unica-lavoro", "2013")
    people = persons(n)
    cases = [("complete", people), ("1 missing", dropped(people, 1)), ("3 missing", dropped(people, 3)),
             ("only 2 known", dropped(people, len(people[0]) - 2))]
    mismatches = 0
    for _, group in cases:
        for p in group:
            answers = [{k: v for k, v in evaluate_available(dul, p, AS_OF, kind).items() if k != "engine"}
                       for kind in ("durable", "batch", "reference")]
            mismatches += not (answers[0] == answers[1] == answers[2])
    print(f"Dote Unica Lavoro 2013, {n} persons per case; paths disagreeing: {mismatches}")
    print(f"{'case':<14}{'path':<11}{'answers/s':>11}{'µs':>9}{'vs complete':>13}{'undetermined':>14}")
    base = {}
    for label, group in cases:
        open_ = sum(evaluate_available(dul, p, AS_OF, "batch")["outcome"] == "undetermined" for p in group)
        for kind in ("durable", "batch", "reference"):
            per_s = rate(lambda p: evaluate_available(dul, p, AS_OF, kind), group, passes=1)
            base.setdefault(kind, per_s)
            print(f"{label:<14}{kind:<11}{per_s:>11,.0f}{1e6 / per_s:>9,.0f}{per_s / base[kind]:>12.2f}x"
                  f"{open_ / len(group):>13.0%}")
    screened = people[: max(1, n // 10)]
    per_s = rate(lambda p: screen(registry, p, AS_OF), screened, passes=1)
    print(f"screening (every programme in force on {AS_OF}): {per_s:,.0f} persons/s ({1e6 / per_s:,.0f} µs)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
