"""A decision's trace sealed as a small record, its plan's text stored once (api.store.trace_plans): read back,
it is the very trace answered and the one built rule by rule; rows stored with the full trace still read and
verify; a plan altered or missing is found by reads and by ``audit verify``."""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, text

from api import jsontext
from api.screening import pending_eligibility
from api.service import Service, Store, run_engine
from api.store import bulk, repository, trace_plans
from api.store.audit import verify_chain
from api.store.tables import Decision, TracePlanText
from bench.common import AS_OF, persons
from engine.avviso.synthetic import Generator
from engine.decide import Trace, decide, prepare_facts
from engine.decide.backends import ReferenceBackend
from engine.decide.trace import TracePlan

from ..decide import explain_reference
from .conftest import DUL, POLICIES, decide as decide_over_http, headers

# editions with bands and without, on persons and on partnership workers
EDITIONS = ["lombardia/dote-unica-lavoro@2013", "lombardia/dote-unica-lavoro@2019", "lombardia/dote-unica-lavoro@2023",
            "basilicata/capitale-lavoro@2018", "basilicata/destinazione-over-35@2018",
            "lombardia/reti-di-partenariato-destinatari@2012", "national/assegno-di-ricollocazione@2017"]


@pytest.fixture(scope="module")
def all_policies():
    from engine.policy.registry import Registry
    return Registry.load(POLICIES)


@pytest.fixture
def service(db_url, all_policies):
    service = Service(all_policies, Store(db_url))
    yield service
    service.store.close()


def _sql(db_url: str, query: str, **params):
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(query), params).all() if query.lstrip().upper().startswith("SELECT") \
                else conn.execute(text(query), params)
    finally:
        engine.dispose()


def _pending(service, policy, person: dict, as_of, full_trace: bool = False):
    """A decision as POST /v1/eligibility stores it; ``full_trace``: with the whole trace sealed, as before."""
    result = run_engine("eligibility", policy, person, as_of)
    if full_trace and isinstance(result.get("trace"), Trace):
        result = {**result, "trace": result["trace"].entries()}
    return result, pending_eligibility(service, policy, person, as_of, result, caller="test", idempotency_key=None,
                                       version=policy.version)


def _store(service, pendings: list, in_bulk: bool) -> list[str]:
    if in_bulk:
        with service.store.transaction() as session:
            outcomes = bulk.append_bulk(session, pendings, service.store.stored_texts, [])
    else:
        outcomes = [service.committer.submit(p).result() for p in pendings]
    return [found.id for found, created in outcomes]


def _read(service, ids: list[str]) -> list:
    with service.store.reading() as session:
        return [repository.get_decision(session, decision_id) for decision_id in ids]


def _reference_trace(policy, person: dict, as_of) -> list:
    env = prepare_facts(policy, person, as_of)
    fired, banded, points = decide(policy, env, ReferenceBackend(policy))
    return explain_reference.explain(policy, env, as_of, fired, banded, points, "test")["trace"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_stored_trace_reads_back_as_answered_and_as_built_rule_by_rule(service, data):
    count = data.draw(st.integers(1, 4))
    decided = []
    for _ in range(count):
        programme, version = data.draw(st.sampled_from(EDITIONS)).split("@")
        policy = service.registry.get(programme, version)
        region = data.draw(st.sampled_from(["lombardia", "basilicata"]))
        person = Generator(service.registry.dictionary, region, policy.valid_from).person(
            random.Random(data.draw(st.integers(0, 10 ** 9))))
        person = {k: list(v) if isinstance(v, tuple) else v for k, v in person.items()}
        if data.draw(st.integers(0, 4)) == 0:  # a fact left out: a partial (undetermined or decided) answer
            person.pop(data.draw(st.sampled_from(sorted(person))))
        as_of = policy.valid_from
        result, pending = _pending(service, policy, person, as_of, full_trace=data.draw(st.integers(0, 5)) == 0)
        decided.append((policy, person, as_of, result, pending))
    ids = _store(service, [pending for *_, pending in decided], in_bulk=data.draw(st.booleans()))
    trace_plans.forget()  # read as another process would: the plans from the store
    for (policy, person, as_of, result, pending), stored in zip(decided, _read(service, ids)):
        assert stored.intact
        answered = jsontext.canonical(result["trace"])
        assert answered == pending.answer_trace_json
        assert jsontext.canonical(stored.trace) == answered
        if isinstance(result["trace"], Trace):  # every fact given: the trace built rule by rule is the same
            assert jsontext.canonical(stored.trace) == jsontext.canonical(_reference_trace(policy, person, as_of))
            assert json.dumps(stored.trace, ensure_ascii=False, default=str) == \
                json.dumps(jsontext.loads(answered), ensure_ascii=False, default=str)
    with service.store.reading() as session:
        assert verify_chain(session).ok


def _dul(service):
    return service.registry.get(DUL, "2013")


def test_rows_with_the_full_trace_and_with_a_record_read_and_verify_together(service, db_url):
    policy = _dul(service)
    people = persons(30, seed=7)
    decided = [_pending(service, policy, person, AS_OF, full_trace=i % 3 == 0) for i, person in enumerate(people)]
    assert {result["eligible"] for result, _ in decided} == {True, False}  # traces with bands and without
    ids = _store(service, [pending for _, pending in decided[:15]], in_bulk=False)
    ids += _store(service, [pending for _, pending in decided[15:]], in_bulk=True)
    trace_plans.forget()
    for (result, pending), stored in zip(decided, _read(service, ids)):
        assert stored.intact and jsontext.canonical(stored.trace) == jsontext.canonical(result["trace"])
        assert stored.answer_text().startswith('{"decision_id":')
    sizes = {row.id: (len(row.sealed), row.trace_json) for row in _rows(service)}
    for i, decision_id in enumerate(ids):
        size, clear = sizes[decision_id]
        if i % 3 == 0:  # the full trace sealed, as before: several KB, nothing in clear
            assert size > 8000 and clear == "null"
        else:  # the record: the plan's hash in clear (no personal data), the values sealed
            assert size < 4000 and clear == trace_plans.reference(_plan_of(service))
    plans = _sql(db_url, "SELECT hash, text FROM trace_plans")
    assert len(plans) == 1 and TracePlan.from_text(plans[0].text).hash == plans[0].hash
    with service.store.reading() as session:
        report = verify_chain(session)
    assert report.ok, report.problem


def _plan_of(service) -> TracePlan:
    from engine.decide.evaluate import explainer
    return explainer(_dul(service)).trace_plan


def _rows(service) -> list:
    with service.store.reading() as session:
        return session.query(Decision).order_by(Decision.seq).all()


def _one_stored(service) -> str:
    _, pending = _pending(service, _dul(service), persons(1, seed=3)[0], AS_OF)
    return _store(service, [pending], in_bulk=False)[0]


def test_an_altered_plan_text_reads_as_altered_and_fails_verify(service, db_url):
    decision_id = _one_stored(service)
    (plan,) = _sql(db_url, "SELECT hash, text FROM trace_plans")
    altered = plan.text.replace("Dote", "Dose", 1)
    assert altered != plan.text
    _sql(db_url, "UPDATE trace_plans SET text = :t WHERE hash = :h", t=altered, h=plan.hash)
    try:
        trace_plans.forget()
        (stored,) = _read(service, [decision_id])
        assert not stored.intact and stored.trace is None
        assert stored.input["person"] and stored.result["outcome"]  # the rest of the decision still reads
        with service.store.reading() as session:
            report = verify_chain(session)
        assert not report.ok and plan.hash in report.problem
    finally:
        _sql(db_url, "UPDATE trace_plans SET text = :t WHERE hash = :h", t=plan.text, h=plan.hash)
        trace_plans.forget()
    (stored,) = _read(service, [decision_id])
    assert stored.intact and stored.trace


def test_a_missing_plan_reads_as_altered_and_fails_verify(service, db_url):
    decision_id = _one_stored(service)
    (plan,) = _sql(db_url, "SELECT hash, text FROM trace_plans")
    _sql(db_url, "DELETE FROM trace_plans WHERE hash = :h", h=plan.hash)
    try:
        trace_plans.forget()
        (stored,) = _read(service, [decision_id])
        assert not stored.intact and stored.trace is None
        with service.store.reading() as session:
            report = verify_chain(session)
        assert not report.ok and report.decision_id == decision_id and plan.hash in report.problem
    finally:
        with service.store.transaction() as session:
            session.add(TracePlanText(hash=plan.hash, text=plan.text, stored_at=dt.datetime.now(dt.timezone.utc)))
        trace_plans.forget()
    with service.store.reading() as session:
        assert verify_chain(session).ok


def test_a_decision_just_stored_reads_back_even_once_the_parsed_plans_are_dropped(service):
    result, pending = _pending(service, _dul(service), persons(1, seed=4)[0], AS_OF)
    (outcome,) = [service.committer.submit(pending).result()]
    trace_plans.forget()
    stored = outcome[0].stored()
    assert stored.intact and jsontext.canonical(stored.trace) == jsontext.canonical(result["trace"])


def test_reading_a_decision_whose_plan_was_altered_says_so(client, db_url):
    decision_id = decide_over_http(client)["decision_id"]
    sound = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
    assert sound.json()["integrity"] == {"status": "ok", "problems": []} and sound.json()["trace"]
    (plan,) = _sql(db_url, "SELECT hash, text FROM trace_plans")
    _sql(db_url, "UPDATE trace_plans SET text = :t WHERE hash = :h", t=plan.text + " ", h=plan.hash)
    try:
        trace_plans.forget()
        got = client.get(f"/v1/decisions/{decision_id}", headers=headers("audit"))
        assert got.status_code == 200 and got.headers["Almp-Integrity"] == "failed"
        assert got.json()["integrity"]["problems"] == ["trace_plan_mismatch"] and got.json()["trace"] is None
    finally:
        _sql(db_url, "UPDATE trace_plans SET text = :t WHERE hash = :h", t=plan.text, h=plan.hash)
        trace_plans.forget()
