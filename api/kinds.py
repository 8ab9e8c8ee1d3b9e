"""What the service can decide: eligibility, and plan costing / claim pricing once the engine has them.

Each kind names the request field holding its subject and a function running the engine on
an edition; the same table drives live decisions and replays, so both run identical code.
"""
from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Callable

from engine.decide.durable import DurableBackend


@dataclass(frozen=True)
class Kind:
    name: str
    field: str
    run: Callable[[object, dict, dt.date], dict]


def _eligibility(policy, payload: dict, as_of: dt.date) -> dict:
    from engine.decide.evaluate import evaluate
    return evaluate(policy, payload, as_of, DurableBackend.for_policy(policy))


def _optional(module: str, function: str):
    """The engine function if that part of the engine exists yet, else None."""
    try:
        return getattr(importlib.import_module(module), function)
    except (ModuleNotFoundError, AttributeError):
        return None


def available_kinds() -> dict[str, Kind]:
    kinds = {"eligibility": Kind("eligibility", "person", _eligibility)}
    cost_plan = _optional("engine.costs.plans", "cost_plan")
    if cost_plan is not None:
        kinds["plan"] = Kind("plan", "plan", lambda policy, payload, as_of: cost_plan(
            policy, payload, as_of, DurableBackend.for_policy(policy)))
    price_claim = _optional("engine.costs.claims", "price_claim")
    if price_claim is not None:
        kinds["claim"] = Kind("claim", "claim", lambda policy, payload, as_of: price_claim(
            policy, payload, DurableBackend.for_policy(policy)))
    return kinds


def engine_version() -> str:
    from engine.decide.durable import engine_version as durable_version
    from engine.decide.evaluate import ENGINE_VERSION
    return f"almp {ENGINE_VERSION}; {durable_version()}"
