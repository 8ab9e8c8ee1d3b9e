"""Immutable, compiled form of a policy edition (what the evaluators run)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from ..errors import SourceLocation
from ..expr.nodes import Node


@dataclass(frozen=True)
class Figure:
    """A number taken from a source, with its provenance."""

    value: Decimal | int | None
    status: str  # confirmed | uncertain | placeholder
    source: str | None
    missing: str
    path: tuple
    location: SourceLocation
    note: str = field(default="", compare=False)  # why an uncertain figure is uncertain (listed by validate)

    @property
    def provisional(self) -> bool:
        return self.status != "confirmed"

    def as_dict(self) -> dict:
        out = {"value": None if self.value is None else str(self.value), "status": self.status}
        if self.source:
            out["source"] = self.source
        if self.missing:
            out["missing"] = self.missing
        return out


@dataclass(frozen=True)
class Reference:
    act: str
    article: str
    title: str
    url: str

    def as_dict(self) -> dict:
        out = {"act": self.act, "title": self.title}
        if self.article:
            out["article"] = self.article
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class Condition:
    text: str
    node: Node  # checked, in negation normal form
    fn: Callable = field(compare=False, repr=False)
    reads: frozenset = frozenset()  # facts (parameters are substituted as constants)
    location: SourceLocation = SourceLocation()
    parameters: tuple = ()  # ((name, Figure), ...) the rule read


@dataclass(frozen=True)
class Rule:
    """One condition the rules engine evaluates. ``key`` is unique within the policy."""

    key: str
    id: str
    kind: str  # eligibility | alternative | points | band
    label: str
    condition: Condition
    reference: Reference
    points: Figure | None = None


@dataclass(frozen=True)
class EligibilityRule:
    id: str
    label: str
    reason: str
    reference: Reference
    alternatives: tuple  # of Rule; one element when the rule has a plain 'when'


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    rule: Rule
    amount: Figure | None
    duration_months: Figure | None
    max_doti: Figure | None


@dataclass(frozen=True)
class Policy:
    id: str
    version: str
    title: str
    authority: str
    subject: str
    status: str
    valid_from: dt.date
    valid_to: dt.date | None
    content_hash: str
    file: str
    bundle: dict  # the exact texts this edition was compiled from (policy + fact dictionary)
    document: dict  # the policy as plain data
    facts: tuple
    needed_inputs: frozenset
    eligibility: tuple
    points: tuple
    bands: tuple
    budget: Figure | None
    figures: tuple
    ordinals: dict = field(compare=False, repr=False)
    dictionary: object = field(compare=False, repr=False, default=None)
    costs: object = field(compare=False, repr=False, default=None)  # engine.policy.basket.Costs: basket and outcomes

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def rules(self):
        """Every rule the engine evaluates, in file order."""
        for rule in self.eligibility:
            yield from rule.alternatives
        yield from self.points
        for band in self.bands:
            yield band.rule

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def retention_years(self) -> int | None:
        """Years the decision store keeps personal facts after a decision (``retention:``), None if unstated."""
        for fig in self.figures:
            if fig.path == ("retention", "years") and isinstance(fig.value, int):
                return fig.value
        return None

    @property
    def placeholders(self) -> list[Figure]:
        return [f for f in self.figures if f.status == "placeholder"]

    def summary(self) -> dict:
        return {"id": self.id, "version": self.version, "title": self.title, "authority": self.authority,
                "status": self.status, "valid_from": self.valid_from.isoformat(),
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "content_hash": self.content_hash}
