"""Public routes: health and the policy catalogue."""
from __future__ import annotations

from fastapi import APIRouter, Request

from typing import Any

from engine.values import plain
from engine.policy.contract import fact_contract

from ..deps import ServiceDep
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from ..health import HealthOut, report
from ..wire import Edition, PolicyList, PolicySummary, Problem

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)
NOT_FOUND = {404: {"model": Problem, "description": "no such policy or version"}}


@router.get("/health", response_model=HealthOut, tags=["service"],
            responses={503: {"model": HealthOut, "description": "something every request needs is missing: the "
                                                                "body's `reasons` say what"}})
def health(request: Request, service: ServiceDep):
    """Whether requests can be served: the store answers at this version's schema, the key file reads."""
    body, status = report(service, request.app.state.keys)
    return ExactJSONResponse(body, status_code=status)


@router.get("/policies", response_model=PolicyList, tags=["policies"])
def list_policies(service: ServiceDep):
    """Every edition of every programme: id, version, window, status, content hash."""
    return {"policies": [p.summary() for p in service.registry.policies]}


@router.get("/policies/{authority}/{programme}", response_model=list[PolicySummary], tags=["policies"],
            responses=NOT_FOUND)
def list_editions(authority: str, programme: str, service: ServiceDep):
    """The editions of one programme, oldest first."""
    return [p.summary() for p in service.registry.editions(f"{authority}/{programme}")]


@router.get("/policies/{authority}/{programme}/{version}", response_model=Edition, tags=["policies"],
            responses=NOT_FOUND)
def get_edition(authority: str, programme: str, version: str, service: ServiceDep):
    """One edition as JSON: its summary and the whole policy document."""
    policy = service.registry.get(f"{authority}/{programme}", version)
    return {"summary": policy.summary(), "document": plain(policy.document)}


@router.get("/policies/{authority}/{programme}/{version}/facts", tags=["policies"], responses=NOT_FOUND,
            response_model=dict[str, Any])
def get_fact_contract(authority: str, programme: str, version: str, service: ServiceDep):
    """The fact contract of one edition: the JSON Schema of the facts a caller may send, with types, units,
    bounds, allowed values with their Italian labels, nullability, and which facts a decided answer needs
    (`x-almp-required-for-decided`). Build forms and extracts from it; the request bodies of
    `POST /v1/eligibility`, `/v1/screening` and `/v1/eligibility/batch` take a `person` that validates against it."""
    policy = service.registry.get(f"{authority}/{programme}", version)
    return ExactJSONResponse(fact_contract(policy))
