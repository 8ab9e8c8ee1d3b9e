"""Screening a person across programmes, and nightly batches of persons (evaluate role)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from ..batch import MAX_LINES, BatchTooLarge, answer_lines, read_lines
from ..deps import Evaluator, ServiceDep
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from ..screening import screening as screen_person
from ..wire import BatchLine, Problem, ScreeningOut, ScreeningRequest, ValidationErrorOut

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, min_length=1,
                                              description="a retry with the same key and body returns the same "
                                                          "decisions")]
_AUTH = {401: {"model": Problem, "description": "no or unknown API key"},
         403: {"model": Problem, "description": "the key lacks the role"},
         413: {"model": Problem, "description": "the body is too large; nothing was read or stored"}}


@router.post("/screening", response_model=ScreeningOut, tags=["decisions"],
             responses={**_AUTH, 409: {"model": Problem, "description": "Idempotency-Key reused with another body"},
                        422: {"model": ValidationErrorOut, "description": "bad input; every bad field by path"},
                        503: {"model": Problem, "description": "the decision store is unavailable"}})
async def screening(request: ScreeningRequest, service: ServiceDep, key: Evaluator,
                    idempotency_key: IdempotencyKey = None):
    """What can this person get? Every programme edition in force on `as_of` (optionally of one authority),
    each decided from the facts given (partial answers when some are missing) and stored as one decision;
    eligible first, then undetermined, then not eligible."""
    return ExactJSONResponse(await screen_person(service, request.model_dump(), caller=key.caller,
                                                 idempotency_key=idempotency_key))


_BATCH_BODY = {"requestBody": {"required": True, "description": f"up to {MAX_LINES} lines, each an eligibility "
                                                                "request (optionally with your `ref`)",
                               "content": {"application/x-ndjson": {"schema": BatchLine.model_json_schema(),
                                                                    "example": '{"ref": "A1", "policy": '
                                                                               '"lombardia/dote-unica-lavoro", "as_of": '
                                                                               '"2014-03-01", "person": {"birth_date": '
                                                                               '"1960-05-01"}}\n'}}},
               "responses": {"200": {"description": "one JSON line per input line, in order, each written once its "
                                                    "decision is stored: `{line, ref, status: 200, decision_id, "
                                                    "outcome, ...}` or `{line, ref, status: 4xx, detail}`",
                                     "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}}}


@router.post("/eligibility/batch", tags=["decisions"], openapi_extra=_BATCH_BODY, response_class=StreamingResponse,
             responses={**_AUTH, 422: {"model": ValidationErrorOut, "description": "too many lines or too large"}})
async def eligibility_batch(request: Request, service: ServiceDep, key: Evaluator,
                            idempotency_key: IdempotencyKey = None):
    """Nightly screening: JSON lines in, JSON lines out (streamed), each person decided on the batch path and
    stored as a decision. Lines that cannot be decided answer with their own status and error paths."""
    try:
        lines = await read_lines(request.stream())
    except BatchTooLarge as exc:
        return ExactJSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "too_large"}]},
                                 status_code=422)
    return StreamingResponse(answer_lines(service, lines, BatchLine, caller=key.caller,
                                          idempotency_key=idempotency_key), media_type="application/x-ndjson")
