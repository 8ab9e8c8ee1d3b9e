"""Native atoms: the condition shapes a backend can test directly on a fact, recognised once.

Every backend that compiles conditions (durable-rules' JSON tests, the batch path's Python
syntax tree) asks ``atom_of`` what a normalised node is, and translates the answer into its own
form; anything that is not an atom is evaluated by the reference closure instead. Keeping the
recognition here means the backends cannot drift apart on what, say, ``education_level <=
"upper_secondary"`` means.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import nodes as n

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_ORDER = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}


@dataclass(frozen=True)
class Presence:
    """``known(name)`` (``known`` true) or ``unknown(name)``."""

    name: str
    known: bool


@dataclass(frozen=True)
class Member:
    """``name in [values]`` (or ``not in`` when ``negated``); an absent fact is in no list."""

    name: str
    values: tuple
    negated: bool


@dataclass(frozen=True)
class Compare:
    """``name <op> value`` with a literal value, fact on the left."""

    name: str
    op: str
    value: object


@dataclass(frozen=True)
class CompareFields:
    """``left <op> right``, two facts of a non-ordinal type."""

    left: str
    op: str
    right: str


def atom_of(node: n.Node, ordinals: dict):
    """The atom ``node`` is, or None. Ordered-enum comparisons become membership in the allowed values."""
    if isinstance(node, n.Call) and node.func in ("known", "unknown") and isinstance(node.args[0], n.Name):
        return Presence(node.args[0].name, node.func == "known")
    if isinstance(node, n.In) and isinstance(node.item, n.Name) and isinstance(node.container, n.ListLit) \
            and all(isinstance(i, n.Literal) for i in node.container.items):
        return Member(node.item.name, tuple(i.value for i in node.container.items), node.negated)
    if isinstance(node, n.Compare):
        left, right, op = node.left, node.right, node.op
        if isinstance(left, n.Literal) and isinstance(right, n.Name):
            left, right, op = right, left, FLIP[op]
        if not isinstance(left, n.Name):
            return None
        ranks = ordinals.get(left.name)
        if isinstance(right, n.Literal):
            if right.value is None:
                return None
            if ranks is not None and op not in ("==", "!="):
                wanted = ranks[right.value]
                return Member(left.name, tuple(v for v, r in ranks.items() if _ORDER[op](r, wanted)), False)
            return Compare(left.name, op, right.value)
        if isinstance(right, n.Name) and ranks is None and right.name not in ordinals:
            return CompareFields(left.name, op, right.name)
    return None
