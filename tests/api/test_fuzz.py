"""Schemathesis fuzzes every operation of the OpenAPI schema with valid keys, with all its checks.

Positive phase (data the schema accepts: it must not be refused with 422, nor ever be a 500) and
negative phase (data the schema refuses: it must be refused, 4xx), every built-in check enabled
(server errors, status codes, content types, headers, response schemas, positive data
acceptance, negative data rejection, ...). Bounded (EXAMPLES per operation and phase) so it runs
in about a minute; SQLite only (the store's behaviour on both backends is covered elsewhere).

What JSON Schema cannot say is kept to by the positive cases (``_keep_to_the_semantics``,
``_to_an_edition_with_costs``), and one
check is not run on one operation (``NOT_RUN``), each saying why.
"""
from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.modes import GenerationMode

from api.keys import KeyRing

from .conftest import KEYS, KEYS_ENV

EXAMPLES = 40

# POST /v1/eligibility/batch answers 200 and gives every line its own status (a bad line never fails
# the batch: documented in its 200 response), so a schema-violating line is refused on its line, not by
# the whole answer: negative_data_rejection does not apply to it.
NOT_RUN = {"POST /v1/eligibility/batch": [checks.negative_data_rejection]}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, registry):
    from api.app import create_app
    from api.store.db import upgrade
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'almp.db'}"
    upgrade(url)
    app = create_app(database_url=url, keys=KeyRing(None, KEYS_ENV), migrate=False, registry=registry)
    yield app
    app.state.service.store.close()


@schemathesis.serializer("application/x-ndjson")
def _json_lines(_ctx, value) -> bytes:
    """POST /v1/eligibility/batch takes JSON lines: the fuzzer's value is one line."""
    import json
    return (json.dumps(value, default=str) + "\n").encode("utf-8")


class _NoPolicies:
    policies: list = []


def _operations(with_body_only: bool = False):
    from api.app import create_app
    # only to read the schema at collection (never called): no database, no policies needed
    app = create_app(database_url="sqlite://", migrate=False, registry=_NoPolicies(), keys=KeyRing(None, ""))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return sorted(f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations()
                  if not with_body_only or op.ok().method.upper() == "POST")


def _keep_to_the_semantics(body) -> None:
    """A codice fiscale has a check character and a real date of birth, nobody is born after the day they
    are decided for, and a decimal fact has at most 6 decimals (which a binary float's text may exceed):
    positive cases drop generated codes, move a later birth to that day and round decimals to 6 places."""
    if not isinstance(body, dict):
        return
    for subject, day in ((body.get("person"), body.get("as_of")),
                         ((body.get("plan") or {}).get("person") if isinstance(body.get("plan"), dict) else None,
                          body.get("as_of")),
                         ((body.get("claim") or {}).get("person") if isinstance(body.get("claim"), dict) else None,
                          (body.get("claim") or {}).get("start_date") if isinstance(body.get("claim"), dict)
                          else None)):
        if not isinstance(subject, dict):
            continue
        subject.pop("codice_fiscale", None)
        share = subject.get("profiling_index")
        if isinstance(share, float):  # a binary float's text may carry more decimals than the 6 accepted
            subject["profiling_index"] = round(share, 6)
        born = subject.get("birth_date")
        if isinstance(born, str) and isinstance(day, str) and born > day:
            subject["birth_date"] = day


def _to_an_edition_with_costs(body, registry) -> None:
    """Plans and claims are priced on the edition's service basket, which not every edition has (DUL 2019
    pays none): the schema cannot say which days fall in such an edition, so a positive case naming one
    is moved to the first day of an edition of the same programme that has a basket."""
    if not isinstance(body, dict) or not isinstance(body.get("policy"), str) or not isinstance(body.get("as_of"), str):
        return
    try:
        policy = registry.get(body["policy"], body.get("version"), dt.date.fromisoformat(body["as_of"]))
    except Exception:  # noqa: BLE001 - no such programme or edition: answered 404, which positive data may get
        return
    if policy.costs is not None:
        return
    priced = [p for p in registry.editions(body["policy"]) if p.costs is not None]
    if priced:
        body["as_of"] = priced[0].valid_from.isoformat()
        body.pop("version", None)


def _run(app, operation: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [op.ok() for op in schema.get_all_operations()
             if f"{op.ok().method.upper()} {op.ok().path}" == operation]
    assert len(found) == 1

    @given(case=found[0].as_strategy(generation_mode=mode))
    # the same cases on every run, fresh ones with ALMP_HYPOTHESIS=explore: the profile in conftest.py
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case):
        if mode is GenerationMode.POSITIVE:
            _keep_to_the_semantics(case.body)
            if operation in ("POST /v1/plans", "POST /v1/claims"):
                _to_an_edition_with_costs(case.body, app.state.service.registry)
        # the admin key holds every role, so the fuzzer reaches past authentication into each operation;
        # no `checks=`: every check schemathesis has, as `--checks all`
        case.call_and_validate(headers={"X-API-Key": KEYS["admin"]}, excluded_checks=NOT_RUN.get(operation, []))

    fuzz()


@pytest.mark.parametrize("operation", _operations())
def test_every_operation_accepts_what_its_schema_allows(fuzz_app, operation):
    _run(fuzz_app, operation, GenerationMode.POSITIVE)


@pytest.mark.parametrize("operation", _operations(with_body_only=True))
def test_every_operation_refuses_what_its_schema_forbids(fuzz_app, operation):
    """Operations without a body have nothing a request could get wrong that the schema forbids
    (path segments are free text, answered 404 when unknown)."""
    _run(fuzz_app, operation, GenerationMode.NEGATIVE)


def test_the_semantic_adjustment_keeps_cases_valid():
    body = {"as_of": "2014-03-01", "person": {"birth_date": "2020-01-01", "codice_fiscale": "RSSMRA80A01F205X"}}
    _keep_to_the_semantics(body)
    assert body["person"] == {"birth_date": "2014-03-01"}
    assert dt.date.fromisoformat(body["person"]["birth_date"]) <= dt.date(2014, 3, 1)


def test_a_plan_on_an_edition_without_a_basket_is_moved_to_one_with(registry):
    body = {"policy": "lombardia/dote-unica-lavoro", "as_of": "2019-06-01", "version": "2019", "plan": {}}
    assert registry.get(body["policy"], "2019").costs is None  # the case schemathesis found
    _to_an_edition_with_costs(body, registry)
    moved = registry.get(body["policy"], None, dt.date.fromisoformat(body["as_of"]))
    assert moved.costs is not None and "version" not in body
