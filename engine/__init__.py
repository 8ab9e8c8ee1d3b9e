"""almp engine: policies as versioned YAML, evaluated on durable-rules. Pure library (no HTTP, no DB)."""
from .errors import AlmpError, EvaluationError, InputErrors, PolicyErrors, PolicyNotFound
from .evaluate import ENGINE_VERSION, evaluate
from .registry import Registry

__all__ = ["AlmpError", "EvaluationError", "InputErrors", "PolicyErrors", "PolicyNotFound", "Registry",
           "evaluate", "ENGINE_VERSION"]
