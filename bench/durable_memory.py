"""RSS of the durable-rules decision path over many decisions (must stay flat).

    python bench/durable_memory.py [N]

Prints RSS every N/10 decisions; the last figure as a ratio of the first shows growth.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AS_OF, persons  # noqa: E402
from engine.decide.durable import DurableBackend  # noqa: E402
from engine.decide.evaluate import decide, prepare_facts  # noqa: E402
from engine.policy.registry import Registry  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    policy = Registry.load(Path(__file__).resolve().parent.parent / "policies").get("lombardia/dote-unica-lavoro",
                                                                                     "2013")
    envs = [prepare_facts(policy, p, AS_OF) for p in persons(10_000)]
    backend = DurableBackend.for_policy(policy)
    step = max(n // 10, 1)
    first = None
    start = time.perf_counter()
    for i in range(n):
        decide(policy, envs[i % len(envs)], backend)
        if (i + 1) % step == 0:
            rss = rss_mib()
            first = first or rss
            print(f"{i + 1:>9,} decisions  RSS {rss:7.1f} MiB  ({rss / first:.3f}x of the first sample)  "
                  f"{(i + 1) / (time.perf_counter() - start):,.0f}/s", flush=True)


if __name__ == "__main__":
    main()
