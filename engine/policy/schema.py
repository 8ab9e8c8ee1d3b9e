"""Check a loaded policy document against the JSON Schema (draft 2020-12) of the format."""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import jsonschema
from jsonschema import Draft202012Validator

from ..errors import Code, PolicyError
from ..suggest import suggest
from .loader import Document

SCHEMA_PATH = Path(__file__).parent / "schemas" / "policy.schema.json"


@lru_cache(maxsize=1)
def policy_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    # YAML gives dates as date objects; they stand where the schema says "string, format date".
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "string", lambda _, value: isinstance(value, (str, dt.date)))
    cls = jsonschema.validators.extend(Draft202012Validator, type_checker=checker)
    return cls(policy_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_document(doc: Document) -> list[PolicyError]:
    """Every schema violation, each located at its file:line and document path."""
    errors = []
    for error in _validator().iter_errors(doc.data):
        path = tuple(error.absolute_path)
        message, hint = _explain(error)
        errors.append(PolicyError(Code.POLICY_SCHEMA_ERROR, message, doc.location(path), hint))
    return errors


def _explain(error) -> tuple[str, str]:
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        hints = [suggest(k, allowed) for k in extra]
        hint = "; ".join(h for h in hints if h) or f"allowed keys: {', '.join(allowed)}"
        return f"unknown key(s) {', '.join(repr(k) for k in extra)}", hint
    if validator == "required":
        return error.message.replace("is a required property", "is required"), "add the missing key"
    if validator == "enum":
        return f"{error.instance!r} is not allowed", "use one of: " + ", ".join(map(str, error.validator_value))
    if validator == "pattern":
        return f"{error.instance!r} has the wrong form", f"it must match {error.validator_value}"
    if validator == "oneOf" and error.schema.get("description", "").startswith("A number"):
        return f"{error.instance!r} is not a figure", \
            "write a number, or {value: ..., source: ..., status: confirmed|uncertain|placeholder}"
    if validator == "oneOf":
        return "give exactly one of 'when' or 'any_of'" if isinstance(error.instance, dict) and \
            "label" in error.instance else error.message, ""
    if validator == "type":
        return f"{error.instance!r} is not of type {error.validator_value}", ""
    if validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value}", "write dates as YYYY-MM-DD"
    return error.message, ""
