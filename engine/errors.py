"""Every error almp reports about a policy or an input, as data.

An error carries a stable ``code`` (phase-prefixed, OPA style), a message, where it
happened (file, line, column and the path inside the document) and a hint on how to
fix it. Validation collects errors instead of stopping at the first one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


class Code:
    """Every stable error code, declared once (as OPA's ``ast/errors.go`` does).

    Codes are English identifiers that never change meaning: callers and tests match on them,
    people read the message. ``policy_*``/``expr_*`` are problems in a policy file,
    the others problems in a request's input.
    """

    POLICY_BASKET_ERROR = "policy_basket_error"
    POLICY_YAML_ERROR = "policy_yaml_error"
    POLICY_VALUE_ERROR = "policy_value_error"
    POLICY_PROVENANCE_ERROR = "policy_provenance_error"
    POLICY_PARAM_ERROR = "policy_param_error"
    POLICY_PLACEMENT_ERROR = "policy_placement_error"
    POLICY_IO_ERROR = "policy_io_error"
    POLICY_LIMIT_ERROR = "policy_limit_error"  # an edition past a bound on its size (engine.policy.limits)
    POLICY_DUPLICATE_ID = "policy_duplicate_id"
    EXPR_TYPE_ERROR = "expr_type_error"
    EXPR_SYNTAX_ERROR = "expr_syntax_error"
    POLICY_WINDOW_OVERLAP = "policy_window_overlap"
    POLICY_WINDOW_ERROR = "policy_window_error"
    POLICY_SCHEMA_ERROR = "policy_schema_error"
    POLICY_REF_ERROR = "policy_ref_error"
    POLICY_PARAM_UNUSED = "policy_param_unused"
    POLICY_FACT_UNUSED = "policy_fact_unused"
    POLICY_FACT_ERROR = "policy_fact_error"
    POLICY_BAND_UNREACHABLE = "policy_band_unreachable"
    POLICY_BAND_OVERLAP = "policy_band_overlap"
    POLICY_BAND_GAP = "policy_band_gap"
    POLICY_UNIT_ERROR = "policy_unit_error"  # a figure not written the way its unit is (1.800 for euro)
    POLICY_PUBLISHED_CHANGED = "policy_published_changed"  # a published edition's file changed
    POLICY_PUBLISHED_UNSEALED = "policy_published_unsealed"  # status published without a publication record
    FACTS_ERROR = "facts_error"
    CATALOGUE_ERROR = "catalogue_error"
    TEST_FORMAT_ERROR = "test_format_error"

    TYPE_ERROR = "type_error"
    UNKNOWN_FACT = "unknown_fact"
    DERIVED_FACT = "derived_fact"
    INVALID_VALUE = "invalid_value"
    MISSING_FACT = "missing_fact"
    NO_BASKET = "no_basket"
    FORMULA_ERROR = "formula_error"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    TOO_MANY_ITEMS = "too_many_items"  # more facts, lines or list items than the edition can take
    TOO_MANY_ERRORS = "too_many_errors"  # the marker closing a capped list of problems
    INVALID_TEXT = "invalid_text"  # text that is not Unicode (a lone surrogate)


def json_path(path: Iterable[str | int]) -> str:
    """Render a document path as ``$.a.b[2].c``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a policy file: 1-based line and column, plus the document path."""

    file: str = ""
    line: int = 0
    column: int = 0
    path: tuple = field(default=(), compare=False)

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}:{self.column}"
        return where


@dataclass(frozen=True)
class PolicyError:
    """One problem found in a policy file or expression."""

    code: str
    message: str
    location: SourceLocation = SourceLocation()
    hint: str = ""

    def render(self) -> str:
        path = f" {json_path(self.location.path)}:" if self.location.path else ""
        text = f"{self.location}: {self.code}:{path} {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": json_path(self.location.path),
            "hint": self.hint,
        }


class AlmpError(Exception):
    """Root of every exception almp raises on purpose."""


class PolicyErrors(AlmpError):
    """A policy (or set of policies) failed to load; ``errors`` lists every problem."""

    def __init__(self, errors: list[PolicyError]):
        self.errors = sorted(errors, key=lambda e: (e.location.file, e.location.line, e.location.column))
        super().__init__("\n".join(e.render() for e in self.errors))


@dataclass(frozen=True)
class InputProblem:
    """One problem in a request: the path of the bad field, a code and a message."""

    path: tuple
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"path": json_path(self.path), "loc": list(self.path), "code": self.code, "message": self.message}


class InputErrors(AlmpError):
    """The facts or options given for an evaluation are wrong; ``problems`` lists them all."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{json_path(p.path)}: {p.message}" for p in problems))


class PolicyNotFound(AlmpError):
    """No edition of the programme matches the id, version or date asked for."""


class EvaluationError(AlmpError):
    """The engine could not complete an evaluation (a bug or a backend failure, never bad input)."""
