"""What /v1/health checks: what every request needs, not only that the database answers.

A store that answers but has no tables (never migrated) or an older schema, or a key file that
cannot be read, made every request fail while health said ok. Health now checks the schema
revision against the migrations shipped with this version and the key file, and answers 503
with reason codes a load balancer or an operator can act on. A request that meets a store
without its tables is answered 503 with the fix (`almp db upgrade`), not 500.
"""
from __future__ import annotations

import functools
import logging
from typing import Literal

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool

from engine.i18n import N_, _

from .exact_json import ExactJSONResponse
from .keymaterial import KeyMaterialError
from .store.db import alembic_config, current_revision

REASONS = {
    "database_unavailable": "the database does not answer",
    "schema_missing": "the database has no almp tables: run `almp db upgrade`",
    "schema_outdated": "the database schema is older than this version: run `almp db upgrade`",
    "schema_unknown": "the database schema is newer than this version (or foreign): deploy the newer version",
    "key_file_unreadable": "the API key file cannot be read: only the keys of ALMP_API_KEYS work",
    "sealing_key_unreadable": "the master key that seals personal facts cannot be read: no decision can be stored",
    "pseudonym_key_unreadable": "the pseudonym key cannot be read: no decision with a codice fiscale can be stored",
}
STATE_WORDS = {"missing": N_("missing (no tables)"), "outdated": N_("older than this version"),
               "unknown": N_("newer than this version, or not almp's")}
log = logging.getLogger("almp.api")
Reason = Literal[tuple(REASONS)]  # type: ignore[valid-type]


class HealthOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    schema_state: Literal["ok", "missing", "outdated", "unknown", "unchecked"] = Field(alias="schema")
    keys: Literal["ok", "lines_skipped", "unreadable"] = Field(
        description="lines_skipped: malformed lines of the key file were left out (said at start, file:line)")
    reasons: list[Reason] = Field(description="why the status is degraded (503): " +  # type: ignore[valid-type]
                                  "; ".join(f"`{k}`: {v}" for k, v in REASONS.items()))
    policies: int
    engine_version: str


@functools.lru_cache(maxsize=1)
def migrations() -> tuple[str, frozenset]:
    """(the head revision, every revision) of the migrations shipped with this version."""
    from alembic.script import ScriptDirectory
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def schema_state(engine) -> str:
    revision = current_revision(engine)
    head, known = migrations()
    if revision is None:
        return "missing"
    if revision == head:
        return "ok"
    return "outdated" if revision in known else "unknown"


def report(service, keys) -> tuple[dict, int]:
    """The health body and its status code."""
    reasons = []
    try:
        service.store.ping()
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure to reach the store means "unavailable" here
        database = "unavailable"
        reasons.append("database_unavailable")
    schema = "unchecked"
    if database == "ok":
        try:
            schema = schema_state(service.store.engine)
        except Exception:  # noqa: BLE001 - the store went away between the two checks
            database, schema = "unavailable", "unchecked"
            reasons.append("database_unavailable")
        if schema != "ok" and schema != "unchecked":
            reasons.append(f"schema_{schema}")
    key_state = keys.state()
    if key_state == "unreadable":
        reasons.append("key_file_unreadable")
    reasons += _key_material()
    body = {"status": "degraded" if reasons else "ok", "database": database, "schema": schema, "keys": key_state,
            "reasons": reasons, "policies": len(service.registry.policies), "engine_version": service.engine_version}
    return body, 503 if reasons else 200


def _key_material() -> list[str]:
    """Reasons for the key files outside the database that decisions need (each read once, then kept)."""
    from . import pseudonym
    from .store import sealing
    found = []
    for reason, load in (("sealing_key_unreadable", sealing.default), ("pseudonym_key_unreadable", pseudonym.default)):
        try:
            load()
        except (KeyMaterialError, ValueError) as exc:
            log.error("%s", _("key material unreadable: {problem}", problem=exc))
            found.append(reason)
    return found


def _missing_table(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def install(app: FastAPI) -> None:
    """Read the key file once now (a malformed line is said at start), and answer a request that meets a
    store without its tables with 503 and the fix instead of 500."""
    app.state.keys.state()

    def schema_problem(request: Request) -> str | None:
        try:
            state = schema_state(request.app.state.service.store.engine)
        except Exception:  # noqa: BLE001 - cannot tell: the other handlers answer
            return None
        return None if state == "ok" else state

    for kind in (sa_exc.ProgrammingError, sa_exc.OperationalError):
        fallback = app.exception_handlers.get(kind) or app.exception_handlers.get(Exception)

        async def handler(request: Request, exc: Exception, fallback=fallback):
            if _missing_table(exc):
                state = await run_in_threadpool(schema_problem, request)
                if state:
                    head = migrations()[0]
                    detail = _("the decision store's schema is {state} (this version needs revision {head}); "
                               "nothing was stored: run `almp db upgrade`", state=_(STATE_WORDS[state]), head=head)
                    return ExactJSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "30"})
            if fallback is None:
                raise exc
            return await fallback(request, exc)
        app.add_exception_handler(kind, handler)

    @app.exception_handler(KeyMaterialError)
    async def key_material(_request: Request, exc: KeyMaterialError):
        # the operator reads where (the log); the caller only that nothing was stored
        log.error("%s", _("key material unreadable: {problem}", problem=exc))
        return ExactJSONResponse({"detail": _("the service's key material cannot be read; nothing was stored. "
                                              "Retry later.")}, status_code=503, headers={"Retry-After": "30"})
