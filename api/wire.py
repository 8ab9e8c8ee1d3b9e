"""Wire models: the request and response shapes of the HTTP API (storage models live in api.store)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.i18n import _
from engine.values import FIRST_DATE, LAST_DATE, read_date


def _iso_date(value):
    # JSON has no date type: accept only "YYYY-MM-DD" text (pydantic would also take a Unix timestamp, and
    # date.fromisoformat "20140301" or the week date "2014-W09-6"), within the dates any input may hold.
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(_("expected a date YYYY-MM-DD"))
    try:
        return read_date(value)
    except ValueError as exc:
        raise ValueError(exc.expected) from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date),
                    Field(examples=["2014-03-01"], json_schema_extra={
                        "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                        "description": f"YYYY-MM-DD, from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"})]
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


FACT_CONTRACT = "/v1/policies/{authority}/{programme}/{version}/facts"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data):
        # FastAPI would otherwise read the fields of any value as attributes (a body of 1.5 was a request)
        if not isinstance(data, (dict, BaseModel)):
            raise ValueError(_("the body must be a JSON object"))
        return data


class EligibilityRequest(_Request):
    """Evaluate one person against a programme on a date."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "version": None,
         "person": PERSON_EXAMPLE}]})
    policy: PolicyId
    as_of: IsoDate
    version: Version = None
    person: dict[str, Any] = Field(description="the person's facts (names from policies/national/facts.yaml); "
                                               "the edition's JSON Schema: GET " + "/v1/policies/{authority}/"
                                               "{programme}/{version}/facts. Facts left out are unknown: the "
                                               "answer may then be undetermined",
                                   json_schema_extra={"x-almp-fact-contract": FACT_CONTRACT})


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


# -- partial answers, screening, batch, fact contracts (issue 16) ------------------------------------------
AUTHORITY = Annotated[str | None, Field(default=None, pattern=r"^[a-z][a-z0-9-]*$", max_length=64,
                                        examples=["lombardia"],
                                        description="only this authority's programmes (the first part of "
                                                    "the policy id: lombardia, basilicata, national)")]


class ScreeningRequest(_Request):
    """One person, a date: every programme edition in force that day (optionally of one authority)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"as_of": "2019-06-01", "authority": None,
         "person": {"birth_date": "1961-01-15", "gender": "F", "residence_region": "03",
                    "employment_status": "unemployed", "unemployed_since": "2018-04-01",
                    "income_support": "none"}}]})
    as_of: IsoDate
    authority: AUTHORITY = None
    person: dict[str, Any] = Field(description="the facts you have (names from policies/national/facts.yaml; "
                                               "each edition's contract: GET /v1/policies/{authority}/"
                                               "{programme}/{version}/facts); facts left out are unknown",
                                   json_schema_extra={"x-almp-fact-contract": FACT_CONTRACT})


class ScreeningResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    decision_id: str
    policy: str
    version: str
    title: str
    outcome: Literal["eligible", "not_eligible", "undetermined"]
    eligible: bool | None
    band: dict[str, Any] | None
    benefit: dict[str, Any] | None
    reasons: list[dict[str, Any]]


class ScreeningOut(BaseModel):
    """Every programme in force on ``as_of``: eligible first, then undetermined, then not eligible."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "as_of": "2019-06-01", "authority": None, "results": [
            {"decision_id": "6f1c…", "policy": "lombardia/dote-unica-lavoro", "version": "2019",
             "title": "Dote Unica Lavoro – terza fase", "outcome": "eligible", "eligible": True,
             "band": {"id": "4", "label": "molto alta"}, "benefit": {"currency": "EUR", "amount": "3000.00"},
             "reasons": []}]}]})
    as_of: str
    authority: str | None
    results: list[ScreeningResult]


class BatchLine(EligibilityRequest):
    """One line of POST /v1/eligibility/batch: an eligibility request, plus your own reference."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"ref": "A1", "policy": "lombardia/dote-unica-lavoro", "as_of": "2014-03-01", "version": None,
         "person": PERSON_EXAMPLE}]})
    ref: Annotated[str, Field(max_length=128)] | int | None = Field(
        default=None, description="your reference, echoed on the answer line")
