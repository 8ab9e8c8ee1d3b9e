"""Check a loaded policy document against the JSON Schema (draft 2020-12) of the format."""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import jsonschema
from jsonschema import Draft202012Validator

from ..errors import Code, PolicyError
from ..i18n import N_, _, excerpt
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
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # one error per unknown key, on the key's own line (a typo like valid_form is found where it is)
            allowed = sorted(error.schema.get("properties", {}))
            for key in [k for k in error.instance if k not in allowed]:
                hint = suggest(key, allowed)
                hint = _("did you mean '{name}'?", name=hint.split("'")[1]) if hint else \
                    _("allowed keys: {keys}", keys=", ".join(allowed))
                errors.append(PolicyError(Code.POLICY_SCHEMA_ERROR, _("unknown key '{key}'", key=key),
                                          doc.location(path + (key,)), hint))
            continue
        message, hint = _explain(error)
        errors.append(PolicyError(Code.POLICY_SCHEMA_ERROR, message, doc.location(path), hint))
    return errors


def _explain(error) -> tuple[str, str]:
    validator = error.validator
    shown = excerpt(repr(error.instance)) if not isinstance(error.instance, (dict, list)) else \
        (_("a list") if isinstance(error.instance, list) else _("a mapping"))
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return _("'{key}' is required", key=missing), _("add the missing key")
    if validator == "enum":
        return _("{value} is not allowed", value=shown), \
            _("use one of: {values}", values=", ".join(map(str, error.validator_value)))
    if validator == "pattern":
        return _("{value} has the wrong form", value=shown), _("it must match {pattern}", pattern=error.validator_value)
    if validator == "oneOf" and error.schema.get("description", "").startswith("A number"):
        return _("{value} is not a figure", value=shown), \
            _("write a number, or {value: ..., source: ..., status: confirmed|uncertain|placeholder}")
    if validator == "oneOf":
        return (_("give exactly one of 'when' or 'any_of'") if isinstance(error.instance, dict) and
                "label" in error.instance else excerpt(error.message)), ""
    if validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return _("{value} is not {kinds}", value=shown, kinds=" / ".join(_(TYPE_WORDS.get(k, k)) for k in kinds)), ""
    if validator == "format":
        return _("{value} is not a valid {format}", value=shown, format=error.validator_value), \
            _("write dates as YYYY-MM-DD")
    if validator in ("minLength", "minItems"):
        return _("{value} is empty or too short", value=shown), ""
    if validator in ("maxLength", "maxItems"):
        return _("{value} is too long", value=shown), ""
    return excerpt(error.message), ""


TYPE_WORDS = {"string": N_("a text"), "number": N_("a number"), "integer": N_("a whole number"),
              "object": N_("a mapping"), "array": N_("a list"), "null": N_("empty"), "boolean": N_("true or false")}
