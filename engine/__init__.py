"""almp engine: policies as versioned YAML, evaluated on durable-rules. Pure library (no HTTP, no DB)."""
from .errors import AlmpError, EvaluationError, InputErrors, PolicyErrors, PolicyNotFound
from .decide.evaluate import ENGINE_VERSION, evaluate
from .policy.registry import Registry

__all__ = ["AlmpError", "EvaluationError", "InputErrors", "PolicyErrors", "PolicyNotFound", "Registry",
           "evaluate", "ENGINE_VERSION"]
