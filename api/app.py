"""The FastAPI application factory: wiring of routes, error mapping, and settings from the environment."""
from __future__ import annotations

import gc
import logging
import os
import sys
import uuid
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import InputErrors, PolicyErrors, PolicyNotFound
from engine.i18n import N_, _
from engine.policy.registry import Registry

from . import health
from .exact_json import ExactJSONResponse
from .keys import KeyRing
from .language import RequestLanguage, error_headers, scope_language
from . import batch, openapi
from .limits import MAX_BODY_BYTES, BodyLimit, error_items
from .problems import validation_message
from .routes import catalogue, decisions, direct, reads, screening, statements, subjects
from .service import DecisionNotFound, Service, Store, StoredInputMismatch
from .store.db import upgrade
from .store.repository import IdempotencyConflict

log = logging.getLogger("almp.api")
SWITCH_INTERVAL = 0.0005  # seconds a thread holds the GIL while another waits for it (see app_from_env)
DEFAULT_POLICIES = Path(__file__).resolve().parent.parent / "policies"

DESCRIPTION = """Eligibility, costing and audit replay for Italian active labour-market programmes.

Decisions are stored, hash-chained, before they are answered. Keys: `evaluate` (POST decisions),
`audit` (read and replay decisions), `admin` (all, and erasing a subject's personal facts).
Health and the policy catalogue are public.
Bad input gets 422 with the path (`loc`) of every bad field (the first 50, then how many more), never
the values sent. A body over 1 MiB (64 MiB for the batch) gets 413 before it is read.
Texts a person reads (error details included) are Italian; `Accept-Language: en` (or the query field
`lang=en`) asks for English. Error codes (`type`, `code`) are English identifiers in both."""


def create_app(*, policies: str | Path | None = None, database_url: str | None = None,
               keys: KeyRing | None = None, registry: Registry | None = None, migrate: bool = True,
               analyse_bands: bool = True) -> FastAPI:
    """Build the app. Defaults: shipped policies (or ALMP_POLICIES), ALMP_DATABASE_URL or ./almp.db,
    keys from ALMP_API_KEYS_FILE (default ./almp-keys.txt) and ALMP_API_KEYS."""
    registry = registry or Registry.load(policies or os.environ.get("ALMP_POLICIES") or DEFAULT_POLICIES,
                                         analyse_bands=analyse_bands)
    store = Store(database_url)
    if migrate:
        upgrade(store.url)
    service = Service(registry, store)
    app = FastAPI(title="almp", version="1", description=DESCRIPTION,
                  default_response_class=ExactJSONResponse)
    app.add_middleware(BodyLimit, default=MAX_BODY_BYTES, by_path={"/v1/eligibility/batch": batch.MAX_BODY_BYTES})
    app.add_middleware(RequestLanguage)  # outermost: even BodyLimit's 413 speaks the request's language
    app.state.service = service
    app.state.keys = keys or KeyRing.from_environment()
    app.include_router(catalogue.router)
    app.include_router(statements.router)
    app.include_router(decisions.build_router())
    app.router.routes.insert(0, direct.direct_route())  # POST /v1/eligibility without dependency solving
    app.include_router(screening.router)
    app.include_router(subjects.router)
    app.include_router(reads.router)
    from .console import mount as mount_console  # the web console at /console
    mount_console(app)
    _add_error_handlers(app)
    subjects.add_handlers(app)
    health.install(app)  # after the handlers it falls back to
    openapi.install(app, registry)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory api.app:app_from_env`` (what ``almp serve`` runs)."""
    # Requests are evaluated in worker threads while the event loop and the group committer wait on
    # sockets: each time one of those two wakes it queues for the GIL behind a CPU-bound thread for up
    # to the switch interval (5 ms by default), with the chain head locked in the committer's case.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # ALMP_POLICIES_CHECKED=1: the parent `almp serve` has fully checked these files already
    app = create_app(migrate=os.environ.get("ALMP_MIGRATE", "1") != "0",
                     analyse_bands=os.environ.get("ALMP_POLICIES_CHECKED") != "1")
    from .checkpointer import start_from_env  # signed checkpoints every ALMP_CHECKPOINT_EVERY seconds
    start_from_env(app)
    from .retention import start_from_env as start_retention  # erasure past retention every ALMP_RETENTION_EVERY s
    start_retention(app)
    # Everything built so far (modules, compiled editions, the app) lives as long as the worker: moved out of
    # the collector's sight, a full collection walks only what requests left behind, instead of pausing every
    # request of the worker for as long as it takes to walk the whole heap (the tail of the latency figures).
    gc.collect()
    gc.freeze()
    return app


# What the router answers by itself (no route for the path, or not for the method), in the caller's language.
_ROUTING_PHRASES = {"Not Found": N_("no such address in this service"),
                    "Method Not Allowed": N_("this address does not take this method")}


def _errors(items: list[dict], status: int = 422) -> ExactJSONResponse:
    return ExactJSONResponse({"detail": error_items(items)}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_request: Request, exc: RequestValidationError):
        # loc/msg/type only: echoing the input back would copy personal data into error logs.
        return _errors([{"loc": list(e.get("loc", ())), "msg": validation_message(e), "type": e.get("type", "")}
                        for e in exc.errors()])

    @app.exception_handler(InputErrors)
    async def input_errors(_request: Request, exc: InputErrors):
        return _errors([{"loc": ["body", *p.path], "msg": p.message, "type": p.code} for p in exc.problems])

    @app.exception_handler(StoredInputMismatch)
    async def stored_input_mismatch(_request: Request, exc: StoredInputMismatch):
        # The request was fine; the stored input does not fit the edition asked for, so the paths
        # point into the stored decision, not the body.
        return _errors([{"loc": ["decision", "input", *p.path],
                         "msg": _("edition {version}: {message}", version=exc.version, message=p.message),
                         "type": p.code} for p in exc.problems])

    @app.exception_handler(PolicyErrors)
    async def edition_does_not_compile(_request: Request, exc: PolicyErrors):
        # Only reachable when a stored edition no longer compiles under this engine version.
        return ExactJSONResponse({"detail": _("the stored edition cannot be compiled by this engine version: "
                                              "{errors}", errors="; ".join(e.render() for e in exc.errors[:5]))},
                                 status_code=409)

    @app.exception_handler(PolicyNotFound)
    async def policy_not_found(_request: Request, exc: PolicyNotFound):
        return ExactJSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(DecisionNotFound)
    async def decision_not_found(_request: Request, exc: DecisionNotFound):
        return ExactJSONResponse({"detail": str(exc)}, status_code=404)  # said in the request's language

    @app.exception_handler(IdempotencyConflict)
    async def conflict(_request: Request, exc: IdempotencyConflict):
        return ExactJSONResponse({"detail": _("Idempotency-Key '{key}' was already used with another request "
                                              "body; use a new key for a new request", key=exc)}, status_code=409)

    async def store_down(_request: Request, exc: Exception):
        log.warning("decision store unavailable: %s", exc)
        return ExactJSONResponse({"detail": _("the decision store is unavailable; nothing was stored. "
                                              "Retry later.")}, status_code=503, headers={"Retry-After": "5"})

    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                 sa_exc.DisconnectionError):
        app.add_exception_handler(kind, store_down)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if isinstance(detail, str) and detail in _ROUTING_PHRASES and detail == HTTPStatus(exc.status_code).phrase:
            # the router's own words (English): said in the caller's language
            detail = _(_ROUTING_PHRASES[detail])
        return ExactJSONResponse({"detail": detail}, status_code=exc.status_code,
                                 headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def backstop(request: Request, exc: Exception):
        # A backstop only: every expected failure above has its own status. Starlette calls it outside
        # the middleware (the request's language is gone by then): it asks the request again.
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s", incident)
        detail = _("internal error (incident {incident})", lang=scope_language(request.scope), incident=incident)
        return ExactJSONResponse({"detail": detail}, status_code=500, headers=error_headers(request.scope))
