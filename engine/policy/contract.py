"""The fact contract of an edition: the JSON Schema (draft 2020-12) of the subject it evaluates.

Another system builds its form or its extract from this: every fact the caller may send, its
type, unit, bounds, allowed values with their Italian labels, whether null is allowed, and
which facts are needed for a decided answer (with fewer, the answer may be ``undetermined``:
see ``engine.decide.partial``). Derived facts (age, months of unemployment) are listed
separately, since callers send what they are derived from.
"""
from __future__ import annotations

from decimal import Decimal

from .facts import REGIONS_ENUM, Fact
from .model import Policy
from . import codice_fiscale

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def contract_url(policy: Policy) -> str:
    return f"/v1/policies/{policy.id}/{policy.version}/facts"


def _value_schema(fact: Fact) -> dict:
    typ = fact.type
    if typ.kind == "date":
        out = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif typ.kind == "bool":
        out = {"type": "boolean"}
    elif typ.kind == "int":
        out = {"type": "integer"}
    elif typ.kind == "decimal":
        # a JSON number or its text (text keeps every decimal digit exact)
        out = {"type": ["number", "string"], "pattern": r"^-?\d+(\.\d{1,6})?$"}
    elif typ.kind == "enum":
        out = {"type": "string", "anyOf": _choices(fact, typ.values)}
    elif typ.kind == "list":
        out = {"type": "array", "uniqueItems": True,
               "items": {"type": "string", "anyOf": _choices(fact, typ.item.values)}}
    else:  # unreachable: the dictionary is checked
        out = {}
    if typ.kind in ("int", "decimal"):
        if fact.minimum is not None:
            out["minimum"] = _number(fact.minimum)
        if fact.maximum is not None:
            out["maximum"] = _number(fact.maximum)
    return out


def _number(value):
    """A bound as declared: an int when whole, else the exact Decimal (written digit for digit by the
    service's JSON writer), never a float, which would turn 0.1 into the nearest binary fraction."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    return int(value) if value == value.to_integral_value() else value


def _choices(fact: Fact, values) -> list[dict]:
    labels = dict(fact.value_labels or {})
    if fact.values_from == REGIONS_ENUM:
        return _region_choices(values)
    return [{"const": v, "title": labels.get(v, v)} for v in values]


def _region_choices(values) -> list[dict]:
    from .regions import regions
    out = []
    for r in regions():
        if r.almp_code not in values:
            continue
        if r.kind == "regione":
            out.append({"const": r.almp_code, "title": r.name})
            out.append({"const": r.istat_code, "title": f"{r.name} (codice ISTAT)"})
        else:
            out.append({"const": r.istat_code, "title": f"Provincia autonoma di {r.name} (codice ISTAT)"})
        out.append({"const": r.name, "title": r.name})
    return out


def fact_contract(policy: Policy) -> dict:
    """The JSON Schema of ``policy``'s input subject."""
    dictionary = policy.dictionary
    needed = dictionary.closure(set(policy.needed_inputs))
    properties: dict = {}
    derived: dict = {}
    for name in sorted(set(policy.facts) | needed):
        fact = dictionary.facts[name]
        if fact.computed:
            derived[name] = {"title": fact.label, "description": fact.description,
                             "from": fact.derived_from or "as_of", "function": fact.derivation}
            if fact.unit:
                derived[name]["unit"] = fact.unit
            if not fact.derived_from:
                continue  # from the evaluation date alone
            name = fact.derived_from
            fact = dictionary.facts[name]
        if name in properties:
            continue
        schema = {"title": fact.label, "description": fact.description, **_value_schema(fact)}
        if fact.unit:
            schema["x-almp-unit"] = fact.unit
        if fact.nullable:
            schema = _nullable(schema)
        schema["x-almp-required-for-decided"] = name in needed
        properties[name] = schema
    if policy.subject == "person":
        properties[codice_fiscale.FIELD] = {
            "title": "Codice fiscale",
            "description": "Optional. Checked (format, omocodia, check character); birth_date and gender are "
                           "read from it when not sent, and must agree with it when sent. Not stored in clear.",
            "type": "string", "minLength": 11, "maxLength": 16, "pattern": r"^([A-Za-z0-9]{16}|\d{11})$",
            "x-almp-required-for-decided": False}
    return {
        "$schema": DIALECT,
        "$id": contract_url(policy),
        "title": f"{policy.title} ({policy.version}): fatti di {policy.subject}",
        "description": "Send the facts you have: a fact left out is unknown and may leave the answer "
                       "undetermined; a fact sent as null (where allowed) means 'does not apply'. "
                       "x-almp-required-for-decided lists the facts that guarantee a decided answer.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "x-almp-policy": policy.summary(),
        "x-almp-subject": policy.subject,
        "x-almp-required-for-decided": sorted(needed),
        "x-almp-derived": derived,
    }


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    out = dict(schema)
    if isinstance(kind, list):
        out["type"] = kind + ["null"]
    elif kind:
        out["type"] = [kind, "null"]
    if "anyOf" in out:
        out["anyOf"] = out["anyOf"] + [{"const": None, "title": "non applicabile"}]
    return out
