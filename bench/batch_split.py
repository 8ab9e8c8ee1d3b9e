"""Benchmark: where a batch chunk's time goes, in one process: deciding vs storing, µs per line.

    python -m bench.batch_split [--chunks 5] [--postgres URL]

Runs the batch endpoint's own two halves (``api.batch._decide_chunk`` and ``api.batch._store_chunk``)
on chunks of ``api.batch.CHUNK`` Dote Unica Lavoro 2013 lines (``bench.common.persons``) against a fresh
store (a new PostgreSQL database, made and dropped, when ``--postgres URL`` or ALMP_TEST_POSTGRES_URL is
set; a SQLite file otherwise), one after the other (no overlap, unlike the endpoint). Prints
``SPLIT decide_us_per_line``, ``SPLIT store_us_per_line`` (medians over the chunks after a warm-up chunk)
and ``BYTES sealed_per_row`` (the average length of the stored sealed text), then checks the chain.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import AS_OF, persons  # noqa: E402

DUL = "lombardia/dote-unica-lavoro"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("ALMP_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    from sqlalchemy import func, select

    from api import batch
    from api.service import Service, Store
    from api.store.audit import verify_chain
    from api.store.db import upgrade
    from api.store.tables import Decision
    from api.wire import BatchLine
    from engine.policy.registry import Registry
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ALMP_SEALING_KEY_FILE", str(Path(tmp) / "sealing.key"))
        if args.postgres:
            from bench.api_load import _pg_database
            url, drop = _pg_database(args.postgres)
        else:
            url, drop = f"sqlite:///{Path(tmp) / 'almp.db'}", (lambda: None)
        try:
            upgrade(url)
            store = Store(url)
            service = Service(Registry.load(REPO / "policies"), store)
            people = persons(batch.CHUNK * (args.chunks + 1), seed=11)
            lines = [json.dumps({"ref": i, "policy": DUL, "version": "2013", "as_of": AS_OF.isoformat(),
                                 "person": p}).encode() for i, p in enumerate(people)]
            decide_us, store_us = [], []
            for start in range(0, len(lines), batch.CHUNK):
                t0 = time.perf_counter()
                decided = batch._decide_chunk(service, lines, start, BatchLine, "bench", f"split-{start}")
                t1 = time.perf_counter()
                pendings = [pending for _, _, pending, _, _ in decided if pending is not None]
                outcomes = batch._store_chunk(service, pendings)
                t2 = time.perf_counter()
                assert outcomes is not None and len(outcomes) == len(pendings)
                if start:  # the first chunk compiles and warms up
                    decide_us.append((t1 - t0) * 1e6 / len(decided))
                    store_us.append((t2 - t1) * 1e6 / len(pendings))
            with store.reading() as session:
                sealed = session.execute(select(func.avg(func.length(Decision.sealed)))).scalar_one()
                report = verify_chain(session)
            store.close()
        finally:
            drop()
    decide_us.sort()
    store_us.sort()
    print(f"SPLIT decide_us_per_line {decide_us[len(decide_us) // 2]:.1f}")
    print(f"SPLIT store_us_per_line {store_us[len(store_us) // 2]:.1f}")
    print(f"BYTES sealed_per_row {float(sealed):.0f}")
    print(f"CHAIN {'ok' if report.ok else 'BROKEN: ' + report.problem}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
