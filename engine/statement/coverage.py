"""Which texts a statement of reasons would miss for an edition (``almp validate`` warns about each).

A statement is written only from the edition's own texts; where one is missing the statement says
so in place ("[testo mancante nell'edizione: …]"), and this list tells the officer before it happens.
"""
from __future__ import annotations

from pathlib import Path

from .authority import AUTHORITY_FILE, authority_folder


def _blank(text) -> bool:
    return not isinstance(text, str) or not text.strip()


def missing_texts(policy, authorities: dict | None = None) -> list[str]:
    """One line per missing text, naming where to add it (YAML path)."""
    out = []
    for i, rule in enumerate(policy.eligibility):
        if _blank(rule.label):
            out.append(f"eligibility[{i}] ({rule.id}): label")
        if _blank(rule.reason):
            out.append(f"eligibility[{i}] ({rule.id}): reason (the sentence a refusal gives)")
        if len(rule.alternatives) > 1:
            for j, alt in enumerate(rule.alternatives):
                if _blank(alt.label):
                    out.append(f"eligibility[{i}].any_of[{j}] ({alt.id}): label")
    for i, rule in enumerate(policy.points):
        if _blank(rule.label):
            out.append(f"points[{i}] ({rule.id}): label")
    for i, band in enumerate(policy.bands):
        if _blank(band.label):
            out.append(f"bands[{i}] ({band.id}): label")
    acts = policy.document.get("legal_basis") or []
    if acts and not acts[0].get("date"):
        out.append(f"legal_basis[0] ({acts[0].get('id')}): date (the statement's heading cites the act with its date)")
    costs = policy.costs
    if costs is not None:
        for svc in costs.services:
            if _blank(svc.label):
                out.append(f"basket.services[{svc.index}] ({svc.code}): label")
        for rule in costs.outcomes.rules if costs.outcomes else ():
            if _blank(rule.label):
                out.append(f"outcomes.rules[{rule.index}] ({rule.id}): label")
            if len(rule.instalments) > 1:
                for k, inst in enumerate(rule.instalments):
                    if _blank(inst.label):
                        out.append(f"outcomes.rules[{rule.index}].instalments[{k}]: label")
    if authorities is not None and authority_folder(policy.id) not in authorities:
        out.append(f"{Path(authority_folder(policy.id)) / AUTHORITY_FILE}: missing (authority name, appeal clause "
                   "and art. 10-bis notice)")
    return out
