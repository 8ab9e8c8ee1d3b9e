"""Screening: one person against every programme edition in force on a date ("what can this person get?").

Each edition is decided from the facts given, exactly as a single eligibility request would be
(partial evaluation when facts are missing), and the answers come sorted: eligible first, then
undetermined, then not eligible; by programme id within each group.
"""
from __future__ import annotations

import datetime as dt

from ..errors import InputErrors, InputProblem
from ..suggest import suggest
from ..policy.registry import Registry
from .partial import ELIGIBLE, NOT_ELIGIBLE, UNDETERMINED, evaluate_available

ORDER = {ELIGIBLE: 0, UNDETERMINED: 1, NOT_ELIGIBLE: 2}


def editions_in_force(registry: Registry, as_of: dt.date, authority: str | None = None, subject: str = "person"):
    """Every non-draft edition in force on ``as_of`` for ``subject``, optionally of one authority (the id prefix)."""
    out = []
    for editions in registry.by_id.values():
        for policy in editions:
            if policy.status == "draft" or not policy.in_force(as_of) or policy.subject != subject:
                continue
            if authority is not None and policy.id.split("/")[0] != authority:
                continue
            out.append(policy)
    return sorted(out, key=lambda p: p.id)


def authorities(registry: Registry) -> list[str]:
    return sorted({p.id.split("/")[0] for p in registry.policies})


def screen(registry: Registry, person: dict, as_of: dt.date, authority: str | None = None,
           backend_kind: str = "durable") -> list[tuple]:
    """[(edition, decision)] for every edition in force, best outcome first.

    A fact value wrong for the dictionary is wrong for every edition: the first edition's
    ``InputErrors`` is raised (paths under ``person``).
    """
    if authority is not None and authority not in authorities(registry):
        known = authorities(registry)
        hint = suggest(authority, known)
        raise InputErrors([InputProblem(("authority",), "unknown_authority",
                                        f"no programmes of authority '{authority}'"
                                        + (f"; {hint}" if hint else f" (authorities: {', '.join(known)})"))])
    # checked against the dictionary even when no edition is in force: a wrong fact is wrong on any day
    registry.dictionary.prepare(person, set(), as_of, "person", ("person",))
    results = [(policy, evaluate_available(policy, person, as_of, backend_kind))
               for policy in editions_in_force(registry, as_of, authority)]
    results.sort(key=lambda pr: (ORDER[pr[1]["outcome"]], pr[0].id))
    return results
