"""The OpenAPI document, with the request subjects spelled out from the fact dictionary.

The wire models keep ``person``, ``plan`` and ``claim`` as JSON objects (the engine checks them
and names every bad field by path); here their schemas say what the engine accepts: every fact
a caller may send with its type, values and bounds (from the same code as the fact contracts),
no other key, and which facts are required: none for eligibility, screening and batch (a fact
left out is unknown; the answer may be undetermined), every fact the edition reads for plans
and claims (listed per edition, ``x-almp-required-for-decided``, at GET …/{version}/facts).
"""
from __future__ import annotations

from decimal import Decimal

from fastapi.openapi.utils import get_openapi

from engine.costs.pricing import DELIVERIES, MAX_LINES
from engine.policy import codice_fiscale
from engine.policy.basket import CONTRACT_TYPES
from engine.policy.contract import _nullable, _number, _value_schema
from engine.policy.facts import REGIONS_ENUM
from engine.values import FIRST_DATE, LARGEST, LAST_DATE

from .exact_json import ExactJSONResponse
from .limits import MAX_BODY_BYTES
from .wire import FACT_CONTRACT

DATE = {"type": "string", "format": "date", "pattern": r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
        "description": f"YYYY-MM-DD, from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"}
QUANTITY = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": int(LARGEST), "multipleOf": Decimal("0.01"),
            "description": "hours or units, at most two decimals; default 1"}
PARTIAL = ("No fact is required: a fact left out is unknown, and the answer may then be undetermined "
           "(`outcome`, `missing`, `ask_next`). The facts an edition needs for a decided answer are listed "
           "in its fact contract: GET /v1/policies/{authority}/{programme}/{version}/facts, "
           "`x-almp-required-for-decided`. A birth date may not lie after `as_of`.")
COMPLETE = ("Every fact the edition reads is required (its fact contract lists them: GET /v1/policies/"
            "{authority}/{programme}/{version}/facts, `x-almp-required-for-decided`); a missing one is a 422 "
            "naming it. A birth date may not lie after `as_of`.")


def person_schema(dictionary) -> dict:
    """Every fact a person may carry (derived facts excluded: callers send what they come from)."""
    properties = {}
    for name, fact in dictionary.facts.items():
        if not fact.of("person") or fact.computed:
            continue
        value = {"title": fact.label, "description": fact.description, **_value_schema(fact)}
        if fact.type.kind == "date":
            value.update(DATE, description=fact.description)
        elif fact.type.kind == "int":
            value.setdefault("minimum", 1 - int(LARGEST))
            value.setdefault("maximum", int(LARGEST) - 1)
        elif fact.type.kind == "decimal":
            value = {"title": fact.label, "description": fact.description, "anyOf": _decimal(fact)}
        elif fact.values_from == REGIONS_ENUM:
            value = {"title": fact.label, "type": "string", "enum": _region_forms(fact.type.values),
                     "description": fact.description + " The almp code, the ISTAT code (with or without its "
                                                       "leading zero) or the official name; also any spelling "
                                                       "of a name differing only in case, accents, spaces or "
                                                       "punctuation."}
        if fact.nullable:
            value = _nullable(value)
            if "enum" in value:
                value["enum"] = [*value["enum"], None]
        properties[name] = value
    properties[codice_fiscale.FIELD] = {
        "title": "Codice fiscale", "type": "string", "pattern": r"^([A-Za-z0-9]{16}|\d{11})$",
        "description": "optional; checked (check character, omocodia); birth_date and gender are read from it "
                       "and must agree with them when sent. Never stored in clear."}
    return {"type": "object", "title": "Person", "additionalProperties": False,
            "maxProperties": dictionary.max_facts("person"), "properties": properties, "required": []}


def _decimal(fact) -> list[dict]:
    """A JSON number, or its text (which keeps every decimal digit exact), within the fact's bounds."""
    number = {"type": "number", "exclusiveMinimum": -int(LARGEST), "exclusiveMaximum": int(LARGEST)}
    if fact.minimum is not None:
        number["minimum"] = _plain(fact.minimum)
    if fact.maximum is not None:
        number["maximum"] = _plain(fact.maximum)
    sign = "" if fact.minimum is not None and fact.minimum >= 0 else "-?"
    if fact.minimum == 0 and fact.maximum == 1:
        text = r"^(0(\.\d{1,6})?|1(\.0{1,6})?)$"
    else:
        text = rf"^{sign}\d{{1,15}}(\.\d{{1,6}})?$"
    return [number, {"type": "string", "pattern": text}]


def _plain(value):
    return _number(value)  # exact, as in the fact contract: the document is written by the exact writer


def _region_forms(values) -> list[str]:
    """Every exact form the region reader takes for the regions in ``values``."""
    from engine.policy.regions import _lookup, regions
    allowed = set(values)
    forms = {key for key, region in _lookup().items() if region.almp_code in allowed}
    for region in regions():
        if region.almp_code in allowed:
            forms |= {region.name, region.istat_code, region.almp_code}
    return sorted(forms)


def _line(extra: dict, required: list) -> dict:
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 64,
                                    "description": "a service code of the edition's basket"},
                           "quantity": QUANTITY, "delivery": {"enum": list(DELIVERIES)}, **extra}}


def plan_schema() -> dict:
    return {"type": "object", "title": "Plan", "additionalProperties": False, "required": ["person", "services"],
            "properties": {"person": {"$ref": "#/components/schemas/Person", "description": COMPLETE},
                           "services": {"type": "array", "maxItems": MAX_LINES, "items": _line({}, ["code"])}}}


def claim_schema(dictionary) -> dict:
    regions = dictionary.enums.get("regions")
    outcome = {"type": "object", "additionalProperties": False, "required": ["contract_type", "start", "job_region"],
               "properties": {"contract_type": {"enum": list(CONTRACT_TYPES)}, "start": DATE, "end": DATE,
                              "duration_months": {"type": "integer", "minimum": 0, "maximum": 1200},
                              "part_time_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                                                  "multipleOf": Decimal("0.0001")},
                              "job_region": {"enum": list(regions.values)} if regions else {"type": "string"}}}
    return {"type": "object", "title": "Claim", "additionalProperties": False,
            "required": ["person", "start_date", "services"],
            "properties": {"person": {"$ref": "#/components/schemas/Person", "description": COMPLETE},
                           "start_date": DATE, "extended": {"type": "boolean"},
                           "services": {"type": "array", "maxItems": MAX_LINES,
                                        "items": _line({"date": DATE}, ["code", "date"])},
                           "outcome": {"anyOf": [outcome, {"type": "null"}]}}}


def install(app, registry) -> None:
    """``app.openapi`` builds the document once, with the subjects' schemas from ``registry``'s dictionary."""
    def build() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _too_large(schema)
        _language_header(schema)
        dictionary = getattr(registry, "dictionary", None)
        if dictionary is not None:
            _spell_out(schema, dictionary, sorted({p.id.split("/")[0] for p in registry.policies}))
        app.openapi_schema = schema
        return schema
    app.openapi = build

    async def document(_request):
        # FastAPI's own route writes with json.dumps, which knows no Decimal: the bounds are written exactly
        return ExactJSONResponse(build())
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != app.openapi_url]
    app.add_route(app.openapi_url, document, include_in_schema=False)


def _language_header(schema: dict) -> None:
    """Every /v1 operation says it reads Accept-Language (api.language sets it per request, for all of them)."""
    from .language import ACCEPT_LANGUAGE_DOC
    param = {"name": "Accept-Language", "in": "header", "required": False, "description": ACCEPT_LANGUAGE_DOC,
             "schema": {"type": "string", "examples": ["it", "en", "en-GB,en;q=0.9"]}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            params = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and p.get("name", "").lower() == "accept-language" for p in params):
                params.append(dict(param))


def _too_large(schema: dict) -> None:
    """Every operation taking a body may be answered 413 (``api.limits.BodyLimit`` guards them all)."""
    problem = {"description": f"the body is too large (over {MAX_BODY_BYTES // 1024} KiB; 64 MiB for the batch); "
                              "nothing was read or stored",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", problem)


def _spell_out(schema: dict, dictionary, authorities: list[str]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Person"] = person_schema(dictionary)
    components["Plan"] = plan_schema()
    components["Claim"] = claim_schema(dictionary)
    partial = {"$ref": "#/components/schemas/Person", "description": PARTIAL, "x-almp-fact-contract": FACT_CONTRACT}
    for name in ("EligibilityRequest", "ScreeningRequest", "BatchLine"):
        if name in components:
            components[name]["properties"]["person"] = partial
    if "PlanRequest" in components:
        components["PlanRequest"]["properties"]["plan"] = {"$ref": "#/components/schemas/Plan"}
    if "ClaimRequest" in components:
        components["ClaimRequest"]["properties"]["claim"] = {"$ref": "#/components/schemas/Claim"}
    if "ScreeningRequest" in components and authorities:
        components["ScreeningRequest"]["properties"]["authority"] = {
            "anyOf": [{"enum": authorities}, {"type": "null"}],
            "description": "only this authority's programmes (the first part of the policy id)"}
    if "EraseRequest" in components:  # exactly one of the two, as the service checks
        components["EraseRequest"]["oneOf"] = [
            {"required": ["subject"], "properties": {"subject": {"type": "string"}, "codice_fiscale": {"type": "null"}}},
            {"required": ["codice_fiscale"],
             "properties": {"codice_fiscale": {"type": "string"}, "subject": {"type": "null"}}}]
    batch = (schema.get("paths", {}).get("/v1/eligibility/batch", {}).get("post", {}).get("requestBody", {})
             .get("content", {}).get("application/x-ndjson", {}).get("schema"))
    if batch and "person" in batch.get("properties", {}):
        batch["properties"]["person"] = partial
    models = [*components.values(), *([batch] if batch else [])]
    for model in models:  # as_of and every other date of a request: within the accepted range
        for prop in model.get("properties", {}).values():
            if prop.get("format") == "date" and "pattern" in prop:
                prop["pattern"] = DATE["pattern"]
