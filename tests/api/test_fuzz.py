"""Schemathesis fuzzes every operation of the OpenAPI schema with valid keys: no 500s, answers match the schema.

Bounded (150 examples per operation) so it runs in about a minute; SQLite only (the
store's behaviour on both backends is covered by the other service tests).
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.keys import KeyRing

from .conftest import KEYS, KEYS_ENV


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


CHECKS = [checks.not_a_server_error, checks.response_schema_conformance, checks.status_code_conformance,
          checks.content_type_conformance]


class _NoPolicies:
    policies: list = []


def _operations():
    from api.app import create_app
    # only to read the schema at collection (never called): no database, no policies needed
    app = create_app(database_url="sqlite://", migrate=False, registry=_NoPolicies(), keys=KeyRing(None, ""))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return sorted(f"{op.ok().method.upper()} {op.ok().path}" for op in schema.get_all_operations())


@pytest.mark.parametrize("operation", _operations())
def test_every_operation_survives_fuzzing(fuzz_app, operation):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    found = [op.ok() for op in schema.get_all_operations()
             if f"{op.ok().method.upper()} {op.ok().path}" == operation]
    assert len(found) == 1

    @given(case=found[0].as_strategy())
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        # the admin key holds every role, so the fuzzer reaches past authentication into each operation
        case.call_and_validate(headers={"X-API-Key": KEYS["admin"]}, checks=CHECKS)

    fuzz()
