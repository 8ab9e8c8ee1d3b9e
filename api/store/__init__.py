"""The decision store: append-only, hash-chained decisions and the editions that made them."""
from .repository import (IdempotencyConflict, StoredDecision, decisions_between, get_bundle, get_decision,
                         verify_chain)

__all__ = ["IdempotencyConflict", "StoredDecision", "decisions_between", "get_bundle", "get_decision",
           "verify_chain"]
