"""Deciding (evaluate role) and reading / replaying stored decisions (audit role)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Request, Response

from engine.i18n import _

from .. import integrity
from ..deps import Auditor, Evaluator, ServiceDep
from ..integrity import CheckedDecisionOut
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from ..limits import BodyProblems
from ..store.sealing import PersonalDataErased
from .reads import PURPOSE_RESPONSES, Purpose
from ..wire import (ClaimRequest, DecisionOut, EligibilityRequest, PlanRequest, Problem, ReplayOut, ReplayRequest,
                    ValidationErrorOut)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, min_length=1,
                                              description="a retry with the same key and body returns the "
                                                          "same decision; another body gets 409")]
_AUTH = {401: {"model": Problem, "description": "no or unknown API key"},
         403: {"model": Problem, "description": "the key lacks the role"}}
_TOO_LARGE = {413: {"model": Problem, "description": "the body is larger than 1 MiB; nothing was read or stored"}}
_DECIDE = {**_AUTH, **_TOO_LARGE, 404: {"model": Problem, "description": "no such policy, version or edition in force"},
           409: {"model": Problem, "description": "Idempotency-Key reused with another body"},
           422: {"model": ValidationErrorOut, "description": "bad input; every bad field by path"},
           503: {"model": Problem, "description": "the decision store is unavailable; nothing was stored"}}


def _answer(answer) -> Response:
    return Response(answer.text.encode("utf-8"), media_type="application/json",
                    headers={"Location": f"/v1/decisions/{answer.decision_id}",
                             "Idempotent-Replayed": "false" if answer.created else "true"})


def build_router() -> APIRouter:
    """The decision routes (evaluate role) and the audit routes."""
    router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)
    router.add_api_route("/eligibility", eligibility, methods=["POST"], response_model=DecisionOut,
                         responses=_DECIDE, tags=["decisions"])
    router.add_api_route("/plans", plans, methods=["POST"], response_model=DecisionOut, responses=_DECIDE,
                         tags=["decisions"])
    router.add_api_route("/claims", claims, methods=["POST"], response_model=DecisionOut, responses=_DECIDE,
                         tags=["decisions"])
    router.add_api_route("/decisions/{decision_id}", get_decision, methods=["GET"],
                         response_model=CheckedDecisionOut, tags=["audit"],
                         responses={**_AUTH, **PURPOSE_RESPONSES, 200: {"headers": integrity.HEADER_DOC},
                                    404: {"model": Problem, "description": "no such decision"},
                                    410: {"description": "the subject's personal facts were erased: code "
                                                         "personal_data_erased, the date, and the decision "
                                                         "without them (outcome, band, edition)"}})
    router.add_api_route("/decisions/{decision_id}/replay", replay, methods=["POST"], response_model=ReplayOut,
                         tags=["audit"], dependencies=[Depends(_no_null_body)],
                         responses={**_AUTH, **_TOO_LARGE, **PURPOSE_RESPONSES,
                                    200: {"headers": integrity.HEADER_DOC},
                                    404: {"model": Problem, "description": "no such decision or version"},
                                    410: {"description": "the subject's personal facts were erased "
                                                         "(code personal_data_erased): nothing to replay"},
                                    422: {"model": ValidationErrorOut,
                                          "description": "bad body, or the stored input does not fit the "
                                                         "edition asked for"}})
    return router


async def eligibility(request: EligibilityRequest, service: ServiceDep, key: Evaluator,
                idempotency_key: IdempotencyKey = None):
    """Evaluate a person; the decision is stored (and chained) before this answers."""
    return _answer(await service.eligibility(request.model_dump(), caller=key.caller,
                                             idempotency_key=idempotency_key))


async def plans(request: PlanRequest, service: ServiceDep, key: Evaluator, idempotency_key: IdempotencyKey = None):
    """Cost a plan of services (PIP) against the edition's basket; stored as a decision of kind "plan"."""
    return _answer(await service.plan(request.model_dump(), caller=key.caller, idempotency_key=idempotency_key))


async def claims(request: ClaimRequest, service: ServiceDep, key: Evaluator, idempotency_key: IdempotencyKey = None):
    """Price a claim for payment of delivered services and outcomes; stored as a decision of kind "claim"."""
    return _answer(await service.claim(request.model_dump(), caller=key.caller, idempotency_key=idempotency_key))


def get_decision(decision_id: str, request: Request, service: ServiceDep, key: Auditor, purpose: Purpose):
    """A stored decision: input, result, trace, the edition's content hash, its place in the chain, and
    whether the row passed its hash and chain checks (``integrity``, also the ``Almp-Integrity`` header):
    a row altered outside the service is still shown, flagged ``failed``, never as sound. Once the
    subject is erased: 410 with the decision without their facts (outcome, band, edition). Every read is
    recorded in the read log (who, when, purpose) before it is answered."""
    d = service.get(decision_id)
    service.record_read(caller=key.caller, decision_id=d.id, what="read", purpose=purpose,
                        outcome="erased" if d.erased else "ok")
    with service.store.reading() as session:
        checked = integrity.check(session, decision_id) or {"status": "failed", "problems": []}
    if d.erased:  # the person's facts are gone; what is not theirs stays readable
        from .subjects import erased_body, request_language
        lang = request_language(request)
        body = erased_body(PersonalDataErased(d.id, d.erased_at), lang)
        body["decision"] = {"id": d.id, "seq": d.seq, "created_at": d.created_at, "kind": d.kind,
                            "policy_id": d.policy_id, "version": d.version, "content_hash": d.content_hash,
                            "as_of": d.as_of.isoformat(), "summary": d.summary, "row_hash": d.row_hash,
                            "integrity": checked}
        return ExactJSONResponse(body, status_code=410, headers={"Content-Language": lang,
                                                                 integrity.HEADER: checked["status"]})
    return ExactJSONResponse({
        "id": d.id, "seq": d.seq, "created_at": d.created_at, "kind": d.kind, "policy_id": d.policy_id,
        "version": d.version, "content_hash": d.content_hash, "engine_version": d.engine_version,
        "as_of": d.as_of.isoformat(), "caller": d.caller, "input": d.input, "result": d.result,
        "trace": d.trace, "row_hash": d.row_hash, "integrity": checked},
        headers={integrity.HEADER: checked["status"]})


async def _no_null_body(request: Request) -> None:
    # FastAPI reads a JSON null as "no body" (an exact replay); a body, when sent, is an object.
    if (await request.body()).strip() == b"null":
        raise BodyProblems([{"loc": ["body"], "msg": _("the body, when sent, must be a JSON object: {} or "
                                                       "{\"version\": \"...\"}"), "type": "model_attributes_type"}])


def replay(decision_id: str, service: ServiceDep, key: Auditor, purpose: Purpose,
           request: Annotated[ReplayRequest, Body()] = None):
    """Re-evaluate under the exact stored edition (identical true/false plus differences), or, given a
    version, a what-if under that edition of the same programme. The ``Almp-Integrity`` header says whether
    the stored row replayed passed its hash and chain checks. Every replay is recorded in the read log."""
    version = request.version if request else None
    what = "replay" if version is None else "what-if"
    try:
        report = service.replay(decision_id, version)
    except PersonalDataErased:
        service.record_read(caller=key.caller, decision_id=decision_id, what=what, purpose=purpose, outcome="erased")
        raise
    service.record_read(caller=key.caller, decision_id=decision_id, what=what, purpose=purpose)
    with service.store.reading() as session:
        checked = integrity.check(session, decision_id) or {"status": "failed"}
    return ExactJSONResponse(report, headers={integrity.HEADER: checked["status"]})
