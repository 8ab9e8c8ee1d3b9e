"""Shared helpers for the benchmarks: a seeded population of DUL-like persons, timing, RSS."""
from __future__ import annotations

import datetime as dt
import random
import resource
import time

AS_OF = dt.date(2014, 3, 1)
REGIONS = ["lombardia"] * 8 + ["piemonte", "veneto", "emilia_romagna"]
EDU = ["none", "primary", "lower_secondary", "upper_secondary", "tertiary", "postgraduate"]


def persons(n: int, seed: int = 1):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        status = rng.choices(["unemployed", "employed", "suspended", "inactive", "student"], [60, 15, 15, 5, 5])[0]
        since = None
        if status == "unemployed":
            since = (AS_OF - dt.timedelta(days=rng.randint(1, 1500))).isoformat()
        region = rng.choice(REGIONS)
        out.append({
            "birth_date": (AS_OF - dt.timedelta(days=rng.randint(16 * 365, 66 * 365))).isoformat(),
            "gender": rng.choice("FM"),
            "residence_region": region,
            "domicile_region": region,
            "workplace_region": rng.choice(REGIONS + [None]),
            "employment_status": status,
            "unemployed_since": since,
            "education_level": rng.choice(EDU),
            "income_support": rng.choice(["none", "naspi", "cigs", "cigd", "mobility", "cig"]),
            "solidarity_agreement": rng.random() < 0.05,
            "last_cigd_period": rng.random() < 0.03,
        })
    return out


def rate(fn, items, passes: int = 3):
    """Median items/second over ``passes`` runs of ``fn`` over ``items``."""
    results = []
    for _ in range(passes):
        start = time.perf_counter()
        for item in items:
            fn(item)
        results.append(len(items) / (time.perf_counter() - start))
    results.sort()
    return results[len(results) // 2]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
