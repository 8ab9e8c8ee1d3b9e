"""The words of a 422 found by the request models (pydantic), in the request's language.

Pydantic writes its messages in English and some echo the value sent; the answer instead says,
from the error's ``type`` and ``ctx`` (bounds, patterns, allowed values: never the input), what
was expected. The ``type`` stays pydantic's English identifier.
"""
from __future__ import annotations

from engine.i18n import N_, _

_EXPECTED = {
    "missing": N_("field required"),
    "extra_forbidden": N_("unknown field: it is not accepted here"),
    "string_type": N_("expected a text"),
    "string_unicode": N_("expected a text"),
    "int_type": N_("expected a whole number"),
    "int_parsing": N_("expected a whole number"),
    "int_from_float": N_("expected a whole number"),
    "float_type": N_("expected a number"),
    "float_parsing": N_("expected a number"),
    "decimal_type": N_("expected a number"),
    "decimal_parsing": N_("expected a number"),
    "bool_type": N_("expected true or false"),
    "bool_parsing": N_("expected true or false"),
    "date_type": N_("expected a date YYYY-MM-DD"),
    "date_parsing": N_("expected a date YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("expected a date YYYY-MM-DD"),
    "date_from_datetime_inexact": N_("expected a date YYYY-MM-DD"),
    "dict_type": N_("expected an object"),
    "model_type": N_("expected an object"),
    "model_attributes_type": N_("expected an object"),
    "list_type": N_("expected a list"),
    "literal_error": N_("expected {expected}"),
    "enum": N_("expected {expected}"),
    "string_pattern_mismatch": N_("expected a text matching {pattern}"),
    "string_too_short": N_("expected a text of at least {min_length} characters"),
    "string_too_long": N_("expected a text of at most {max_length} characters"),
    "too_short": N_("expected at least {min_length} items"),
    "too_long": N_("expected at most {max_length} items"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "multiple_of": N_("must be a multiple of {multiple_of}"),
    "decimal_max_places": N_("at most {decimal_places} decimal places are accepted"),
    "json_invalid": N_("the body is not valid JSON text"),
    "none_required": N_("expected null"),
}
_VALUE_ERROR = "value_error"


def validation_message(error: dict) -> str:
    """What ``error`` (one item of a pydantic ValidationError) expected, in the current language."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == _VALUE_ERROR and "error" in ctx:
        # one of almp's own validators: its message was built in the request's language already
        return str(ctx["error"])
    template = _EXPECTED.get(kind)
    if template is None:
        return _("invalid value ({type})", type=kind)
    try:
        return _(template, **{name: str(value) for name, value in ctx.items()})
    except (KeyError, IndexError):  # a pydantic version whose ctx lacks a field the template names
        return _("invalid value ({type})", type=kind)
