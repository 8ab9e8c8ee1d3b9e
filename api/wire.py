"""Wire models: the request and response shapes of the HTTP API (storage models live in api.store)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _iso_date(value):
    # JSON has no date type: accept only "YYYY-MM-DD" text (pydantic would also take a Unix timestamp).
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date as text, YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), Field(examples=["2014-03-01"])]
PolicyId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*/[a-z][a-z0-9-]*$", max_length=128,
                                examples=["lombardia/dote-unica-lavoro"],
                                description="authority/programme")]
Version = Annotated[str | None, Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                                      description="pin an edition; by default the edition in force on as_of")]

PERSON_EXAMPLE = {
    "birth_date": "1960-05-01", "gender": "F", "residence_region": "lombardia",
    "domicile_region": "lombardia", "workplace_region": "lombardia", "employment_status": "unemployed",
    "unemployed_since": "2012-11-01", "education_level": "lower_secondary", "income_support": "none",
    "solidarity_agreement": False, "last_cigd_period": False,
}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EligibilityRequest(_Request):
    """Evaluate one person against a programme on a date."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "version": None,
         "person": PERSON_EXAMPLE}]})
    policy: PolicyId
    as_of: IsoDate
    version: Version = None
    person: dict[str, Any] = Field(description="the person's facts (names from policies/national/facts.yaml)")


class PlanRequest(_Request):
    """Cost a plan of services for a person under a programme."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "version": None,
         "plan": {"person": PERSON_EXAMPLE,
                  "services": [{"code": "a", "quantity": 4, "delivery": "individual"}]}}]})
    policy: PolicyId
    as_of: IsoDate
    version: Version = None
    plan: dict[str, Any] = Field(description="person (facts) and services: [{code, quantity, delivery}]")


class ClaimRequest(_Request):
    """Price a claim for payment of services delivered under a programme."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "version": None,
         "claim": {"person": PERSON_EXAMPLE, "start_date": "2014-03-01", "extended": False,
                   "services": [{"code": "e", "date": "2014-03-10", "quantity": 2, "delivery": "individual"}],
                   "outcome": {"contract_type": "fixed_term", "start": "2014-06-01", "duration_months": 8,
                               "job_region": "lombardia"}}}]})
    policy: PolicyId
    as_of: IsoDate
    version: Version = None
    claim: dict[str, Any] = Field(description="person, start_date, extended, services delivered "
                                              "[{code, date, quantity, delivery}], outcome")


class ReplayRequest(_Request):
    """Without a version: replay under the exact stored edition. With one: a what-if under that edition."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"version": "2013"}]})
    version: Version = None


class PolicySummary(BaseModel):
    id: str
    version: str
    title: str
    authority: str
    status: Literal["draft", "active", "closed"] | str
    valid_from: str
    valid_to: str | None
    content_hash: str

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "lombardia/dote-unica-lavoro", "version": "2013", "title": "Dote Unica Lavoro",
        "authority": "Regione Lombardia", "status": "active", "valid_from": "2013-10-21",
        "valid_to": "2015-06-30", "content_hash": "sha256:…"}]})


class PolicyList(BaseModel):
    policies: list[PolicySummary]


class Edition(BaseModel):
    summary: PolicySummary
    document: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    policies: int
    engine_version: str


class DecisionOut(BaseModel):
    """The engine's answer plus where it is stored. Other fields are those of the engine result."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "decision_id": "6f1c…", "eligible": True, "band": {"id": "1"}, "reasons": [], "trace": []}]})
    decision_id: str


class StoredDecisionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "6f1c…", "seq": 1, "created_at": "2024-05-02T10:00:00.000000Z", "kind": "eligibility",
        "policy_id": "lombardia/dote-unica-lavoro", "version": "2013", "content_hash": "sha256:…",
        "engine_version": "almp 0.1.0; durable-rules 2.0.28", "as_of": "2014-03-01", "caller": "key:ab12…",
        "input": {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "person": PERSON_EXAMPLE},
        "result": {"eligible": True}, "trace": [], "row_hash": "sha256:…"}]})
    id: str
    seq: int
    created_at: str
    kind: str
    policy_id: str
    version: str
    content_hash: str
    engine_version: str
    as_of: dt.date
    caller: str
    input: dict[str, Any]
    result: dict[str, Any]
    trace: list[Any] | None
    row_hash: str


class ReplayOut(BaseModel):
    decision_id: str
    mode: Literal["exact", "what-if"]
    stored: dict[str, Any]
    replayed: dict[str, Any]
    identical: bool
    differences: list[dict[str, Any]]
    result: dict[str, Any]


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": [
        {"loc": ["body", "person", "birth_date"], "msg": "fact 'birth_date' (Date of birth) is required by "
         "this policy", "type": "missing_fact"}]}]})
    detail: list[ErrorItem]


class Problem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "no policy 'lombardia/unknown'"}]})
    detail: str
