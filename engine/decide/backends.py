"""Rule backends: given a compiled policy and a subject's facts, which rules fire.

Two stages: stage 1 evaluates eligibility and points rules over the facts; stage 2
evaluates band rules over the facts plus the total ``points``. The ``reference``
backend runs the compiled closures of ``expr.evaluator`` (the reference semantics, and
the fast batch path). The ``durable`` backend (``durable_backend.py``) runs the same
rules on the durable-rules Rete engine and must agree with it.
"""
from __future__ import annotations

from typing import Protocol

from ..policy.model import Policy


class RuleBackend(Protocol):
    name: str

    def match(self, stage: int, env: dict) -> frozenset:
        """Keys of the rules of ``stage`` whose condition holds for ``env``."""


def stage_rules(policy: Policy, stage: int):
    if stage == 1:
        for rule in policy.eligibility:
            yield from rule.alternatives
        yield from policy.points
    else:
        for band in policy.bands:
            yield band.rule


class ReferenceBackend:
    """Evaluates conditions with the reference evaluator's compiled closures."""

    name = "reference"

    def __init__(self, policy: Policy):
        self._stages = {s: tuple((r.key, r.condition.fn) for r in stage_rules(policy, s)) for s in (1, 2)}

    def match(self, stage: int, env: dict) -> frozenset:
        return frozenset(key for key, fn in self._stages[stage] if fn(env))
