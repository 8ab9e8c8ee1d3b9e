"""How much work one edition may ask of the compiler: bounds on rules, bands and conditions.

The shipped editions have at most 10 eligibility rules, 8 bands, 400 characters in one
condition and 160 expression nodes in all; the bounds leave ample room above that, and keep
`almp validate` of a hostile file to about a second instead of minutes (1,000 bands of
1,900-character conditions took 39 s and 216 MB). Counts and condition text are checked
before anything is parsed; nodes as conditions are compiled; the band analysis samples fewer
subjects when the conditions are large (``band_samples``).
"""
from __future__ import annotations

from ..errors import Code, PolicyError
from ..i18n import _, number
from .loader import Document

MAX_BANDS = 50
MAX_RULES = 200  # eligibility rules and their any_of alternatives, plus points rules
MAX_CONDITION_TEXT = 20_000  # characters of every condition of the edition together
MAX_NODES = 2_000  # expression nodes of every condition together
BAND_WORK = 8_000_000  # subjects tried by the band analysis x expression nodes evaluated for each


def _exceeded(doc: Document, path, what: str, count: int, limit: int, hint: str) -> PolicyError:
    return PolicyError(Code.POLICY_LIMIT_ERROR,
                       _("too many {what}: {count} (at most {limit})", what=what, count=number(count),
                         limit=number(limit)), doc.location(path), hint)


def _conditions(data: dict):
    """(path, text) of every rule condition, in document order."""
    for i, rule in enumerate(data.get("eligibility") or []):
        if "when" in rule:
            yield ("eligibility", i, "when"), rule["when"]
        for j, alt in enumerate(rule.get("any_of") or []):
            yield ("eligibility", i, "any_of", j, "when"), alt.get("when", "")
    for key in ("points", "bands"):
        for i, rule in enumerate(data.get(key) or []):
            yield (key, i, "when"), rule.get("when", "")


def check_counts(doc: Document) -> list[PolicyError]:
    """Bounds that need no parsing: bands, rules and the condition text; each error sits on the first
    item past its bound."""
    data, errors = doc.data, []
    bands = data.get("bands") or []
    if len(bands) > MAX_BANDS:
        errors.append(_exceeded(doc, ("bands", MAX_BANDS), _("bands"), len(bands), MAX_BANDS,
                                _("an edition has a handful of bands; merge them or split the programme")))
    rules = []
    for i, rule in enumerate(data.get("eligibility") or []):
        rules.append(("eligibility", i))
        rules += [("eligibility", i, "any_of", j) for j in range(len(rule.get("any_of") or []))]
    rules += [("points", i) for i in range(len(data.get("points") or []))]
    if len(rules) > MAX_RULES:
        errors.append(_exceeded(doc, rules[MAX_RULES], _("rules"), len(rules), MAX_RULES,
                                _("group the conditions into fewer rules")))
    total = 0
    for path, text in _conditions(data):
        total += len(text) if isinstance(text, str) else 0
        if total > MAX_CONDITION_TEXT:
            errors.append(PolicyError(
                Code.POLICY_LIMIT_ERROR,
                _("the conditions of this edition pass {limit} characters in all here",
                  limit=number(MAX_CONDITION_TEXT)),
                doc.location(path), _("shorten the conditions: name repeated parts as parameters")))
            break
    return errors


class NodeBudget:
    """Expression nodes left for the edition's conditions; the first condition past the bound is
    reported once, and no later condition is compiled."""

    def __init__(self, limit: int = MAX_NODES):
        self.left = limit
        self.spent = False

    def take(self, count: int) -> bool:
        """Spend ``count`` nodes; False (and spent from then on) when that passes the bound."""
        self.left -= count
        self.spent = self.left < 0
        return not self.spent

    def message(self) -> tuple[str, str]:
        return (_("the conditions of this edition pass {limit} expression nodes in all here",
                  limit=number(MAX_NODES)),
                _("simplify the conditions, or split the programme into editions"))


def band_samples(node_count: int, grid: int) -> int:
    """Subjects the band analysis may try for conditions of ``node_count`` nodes (never below 1,000)."""
    return min(grid, max(1000, BAND_WORK // max(node_count, 1)))
