"""Syntax tree of the expression language: frozen nodes, each with its offset in the text."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    value: object  # int | Decimal | bool | str | date | None


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    item: Node
    container: Node
    negated: bool = False


@dataclass(frozen=True)
class And(Node):
    items: tuple


@dataclass(frozen=True)
class Or(Node):
    items: tuple


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple


def walk(node: Node):
    """Yield ``node`` and every node below it."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node: Node) -> tuple:
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, In):
        return (node.item, node.container)
    if isinstance(node, (And, Or, ListLit)):
        return node.items
    if isinstance(node, (Not, Neg)):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def names(node: Node) -> set[str]:
    """Every variable the expression reads."""
    return {n.name for n in walk(node) if isinstance(n, Name)}


def substitute(node: Node, values: dict) -> Node:
    """A copy of ``node`` with every ``Name`` found in ``values`` replaced by a ``Literal``."""
    if isinstance(node, Name):
        return Literal(node.pos, values[node.name]) if node.name in values else node
    if isinstance(node, (Arith, Compare)):
        return type(node)(node.pos, node.op, substitute(node.left, values), substitute(node.right, values))
    if isinstance(node, In):
        return In(node.pos, substitute(node.item, values), substitute(node.container, values), node.negated)
    if isinstance(node, (And, Or, ListLit)):
        return type(node)(node.pos, tuple(substitute(i, values) for i in node.items))
    if isinstance(node, (Not, Neg)):
        return type(node)(node.pos, substitute(node.operand, values))
    if isinstance(node, Call):
        return Call(node.pos, node.func, tuple(substitute(a, values) for a in node.args))
    return node
