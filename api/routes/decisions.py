"""Deciding (evaluate role) and reading / replaying stored decisions (audit role)."""
from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Body, Header, Response

from ..deps import Auditor, Evaluator, ServiceDep
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from .. import jsontext
from ..store.repository import AppendedRow
from ..wire import (ClaimRequest, DecisionOut, EligibilityRequest, PlanRequest, Problem, ReplayOut, ReplayRequest,
                    StoredDecisionOut, ValidationErrorOut)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, min_length=1,
                                              description="a retry with the same key and body returns the "
                                                          "same decision; another body gets 409")]
_AUTH = {401: {"model": Problem, "description": "no or unknown API key"},
         403: {"model": Problem, "description": "the key lacks the role"}}
_DECIDE = {**_AUTH, 404: {"model": Problem, "description": "no such policy, version or edition in force"},
           409: {"model": Problem, "description": "Idempotency-Key reused with another body"},
           422: {"model": ValidationErrorOut, "description": "bad input; every bad field by path"},
           503: {"model": Problem, "description": "the decision store is unavailable; nothing was stored"}}


def _decision_response(found, created: bool) -> Response:
    """The decision as stored: its id, then the result's canonical text with the trace last.

    A new decision is answered with the very texts its row holds (no re-parse, no re-encode, which
    was a third of the request's CPU); an idempotent replay re-encodes the stored values to the
    same canonical form, so both answers are the same bytes.
    """
    if isinstance(found, AppendedRow):
        decision_id, result, trace = found.values["id"], found.values["result_json"], found.values["trace_json"]
    else:
        decision_id, result, trace = found.id, jsontext.canonical(found.result), jsontext.canonical(found.trace)
    parts = ['{"decision_id":', json.dumps(decision_id)]
    if result != "{}":
        parts += [",", result[1:-1]]
    if trace != "null":
        parts += [',"trace":', trace]
    parts.append("}")
    return Response("".join(parts).encode("utf-8"), media_type="application/json",
                    headers={"Location": f"/v1/decisions/{decision_id}",
                             "Idempotent-Replayed": "false" if created else "true"})


async def _decide(service, kind: str, request, key, idempotency_key):
    # Evaluated on the event loop (short, CPU-bound, and durable-rules serialises every call anyway);
    # the response waits, without holding a thread, until the group committer has committed its row.
    pending = service.prepare(kind, request.model_dump(), caller=key.caller, idempotency_key=idempotency_key)
    outcome = await asyncio.wrap_future(service.committer.submit(pending))
    return _decision_response(*outcome)


def build_router(kinds) -> APIRouter:
    """The decision routes; plan and claim routes only when the engine provides them."""
    router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)
    router.add_api_route("/eligibility", eligibility, methods=["POST"], response_model=DecisionOut,
                         responses=_DECIDE, tags=["decisions"])
    if "plan" in kinds:
        router.add_api_route("/plans", plans, methods=["POST"], response_model=DecisionOut, responses=_DECIDE,
                             tags=["decisions"])
    if "claim" in kinds:
        router.add_api_route("/claims", claims, methods=["POST"], response_model=DecisionOut, responses=_DECIDE,
                             tags=["decisions"])
    router.add_api_route("/decisions/{decision_id}", get_decision, methods=["GET"],
                         response_model=StoredDecisionOut, tags=["audit"],
                         responses={**_AUTH, 404: {"model": Problem, "description": "no such decision"}})
    router.add_api_route("/decisions/{decision_id}/replay", replay, methods=["POST"], response_model=ReplayOut,
                         tags=["audit"],
                         responses={**_AUTH, 404: {"model": Problem, "description": "no such decision or version"},
                                    422: {"model": ValidationErrorOut,
                                          "description": "bad body, or the stored input does not fit the "
                                                         "edition asked for"}})
    return router


async def eligibility(request: EligibilityRequest, service: ServiceDep, key: Evaluator,
                idempotency_key: IdempotencyKey = None):
    """Evaluate a person; the decision is stored (and chained) before this answers."""
    return await _decide(service, "eligibility", request, key, idempotency_key)


async def plans(request: PlanRequest, service: ServiceDep, key: Evaluator, idempotency_key: IdempotencyKey = None):
    """Cost a plan of services (PIP) against the edition's basket; stored as a decision of kind "plan"."""
    return await _decide(service, "plan", request, key, idempotency_key)


async def claims(request: ClaimRequest, service: ServiceDep, key: Evaluator, idempotency_key: IdempotencyKey = None):
    """Price a claim for payment of delivered services and outcomes; stored as a decision of kind "claim"."""
    return await _decide(service, "claim", request, key, idempotency_key)


def get_decision(decision_id: str, service: ServiceDep, key: Auditor):
    """A stored decision: input, result, trace, the edition's content hash, its place in the chain."""
    d = service.get(decision_id)
    return ExactJSONResponse({
        "id": d.id, "seq": d.seq, "created_at": d.created_at, "kind": d.kind, "policy_id": d.policy_id,
        "version": d.version, "content_hash": d.content_hash, "engine_version": d.engine_version,
        "as_of": d.as_of.isoformat(), "caller": d.caller, "input": d.input, "result": d.result,
        "trace": d.trace, "row_hash": d.row_hash})


def replay(decision_id: str, service: ServiceDep, key: Auditor,
           request: Annotated[ReplayRequest | None, Body()] = None):
    """Re-evaluate under the exact stored edition (identical true/false plus differences), or, given a
    version, a what-if under that edition of the same programme."""
    return ExactJSONResponse(service.replay(decision_id, request.version if request else None))
