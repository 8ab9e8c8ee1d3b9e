"""A subject's state under an edition in one word: not eligible, no band, or the band id.

The one definition of "eligible" shared by explanation, simulation and what-if.
"""
from __future__ import annotations

from ..policy.model import Policy

NOT_ELIGIBLE = "not eligible"
NO_BAND = "no band"


def is_eligible(policy: Policy, fired: frozenset) -> bool:
    """Every eligibility rule has at least one alternative among the fired rule keys."""
    return all(any(a.key in fired for a in rule.alternatives) for rule in policy.eligibility)


def state_of(policy: Policy, backend, env: dict) -> str:
    """The state of one subject under ``policy`` (the same decision ``evaluate`` explains)."""
    from .evaluate import decide
    fired, banded, _ = decide(policy, env, backend)
    if not is_eligible(policy, fired):
        return NOT_ELIGIBLE
    for band in policy.bands:
        if band.rule.key in banded:
            return band.id
    return NO_BAND
