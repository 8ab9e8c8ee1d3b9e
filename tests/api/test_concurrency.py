"""Several processes append at once: the chain stays one unbroken line (no fork, no lost row)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

from api.store.repository import verify_chain

from .conftest import REPO, decide

WRITER = textwrap.dedent("""
    import datetime as dt, json, sys
    from engine.policy.registry import Registry
    from api.service import Service, Store
    url, policies, person, count = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    service = Service(Registry.load(policies), Store(url))
    body = {"policy": "lombardia/dote-unica-lavoro", "as_of": dt.date(2014, 3, 1), "person": person}
    for _ in range(count):
        service.decide("eligibility", body, caller="writer")
    service.store.close()
""")


def test_processes_appending_at_once_keep_one_chain(client, db_url, api_policies):
    import json
    from .conftest import PERSON
    workers, each = 4, 10
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(api_policies), json.dumps(PERSON),
                               str(each)], cwd=REPO, stderr=subprocess.PIPE) for _ in range(workers)]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
    with client.app.state.service.store.reading() as session:
        report = verify_chain(session)
    assert report.ok, report.problem
    assert report.checked == workers * each


def test_threads_of_one_app_keep_one_chain(client):
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: decide(client)["decision_id"], range(24)))
    assert len(set(ids)) == 24
    with client.app.state.service.store.reading() as session:
        report = verify_chain(session)
    assert report.ok and report.checked == 24
