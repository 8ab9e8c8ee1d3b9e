"""Deciding: a subject's facts against a compiled edition, on a rules backend, with its explanation.

The named entry point is ``decide_eligibility``; ``evaluate`` is the same with the backend chosen
by the caller. Backends: ``ReferenceBackend`` (closures, the reference semantics),
``DurableBackend`` (durable-rules, the only module importing it) and ``BatchDecider`` (an edition
compiled to one Python function, for simulation and what-if).
"""
from .backends import ReferenceBackend, RuleBackend, stage_rules
from .batch import BatchDecider, compile_decider
from .durable import DurableBackend, engine_version
from .evaluate import decide, evaluate, explain, prepare_facts
from .state import NO_BAND, NOT_ELIGIBLE, state_of
from .trace import Trace


def decide_eligibility(policy, person: dict, as_of, backend: RuleBackend | None = None, compact: bool = False) -> dict:
    """The eligibility decision for one subject (person or partnership) at ``as_of``, on durable-rules.

    From the facts given: when some the edition reads are missing, the partial answer (``eligible``,
    ``not_eligible`` or ``undetermined`` with what to ask next), on the same kind of backend.
    ``compact``: a full evaluation's trace stays a ``Trace`` record (see ``evaluate``).
    """
    from .partial import backend_kind, evaluate_available
    backend = backend or DurableBackend.for_policy(policy)
    return evaluate_available(policy, person, as_of, backend_kind(backend), backend=backend, compact=compact)


__all__ = ["BatchDecider", "DurableBackend", "NOT_ELIGIBLE", "NO_BAND", "ReferenceBackend", "RuleBackend",
           "compile_decider", "decide", "decide_eligibility", "engine_version", "evaluate", "explain",
           "prepare_facts", "stage_rules", "state_of", "Trace"]
