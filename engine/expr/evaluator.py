"""The reference semantics of the expression language, compiled to Python closures.

Every backend must agree with this module. Rules:
- numbers are ``int`` or ``Decimal`` (division always gives ``Decimal``); never float;
- arithmetic or a date function over a null gives null;
- an atom (comparison, ``in``) that reads a null is false; conditions are in negation
  normal form (see ``checker.to_nnf``), so that holds under any ``not``.
"""
from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal, localcontext
from typing import Callable

from . import nodes as n
from ..dates import completed_months, completed_years

Env = dict
Fn = Callable[[Env], object]

_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}


class EvalError(Exception):
    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message, self.pos = message, pos


def _div(a, b, pos):
    if b == 0:
        raise EvalError("division by zero", pos)
    with localcontext() as ctx:
        ctx.prec = 28
        return Decimal(a) / Decimal(b)


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def compile_expr(node: n.Node, ordinals: dict | None = None) -> Fn:
    """Turn a checked, normalised node into ``f(env) -> value``.

    ``ordinals`` maps ordered-enum fact names to {value: rank} so that ``<`` works on them.
    """
    ordinals = ordinals or {}
    return _compile(node, ordinals)


def _rank_of(node: n.Node, ordinals: dict):
    """The rank table that applies to a comparison side, if it is an ordered enum."""
    if isinstance(node, n.Name) and node.name in ordinals:
        return ordinals[node.name]
    return None


def _compile(node: n.Node, ordinals: dict) -> Fn:
    if isinstance(node, n.Literal):
        value = node.value
        return lambda env: value
    if isinstance(node, n.Name):
        name = node.name
        return lambda env: env.get(name)
    if isinstance(node, n.ListLit):
        items = [_compile(i, ordinals) for i in node.items]
        return lambda env: tuple(f(env) for f in items)
    if isinstance(node, n.Neg):
        f = _compile(node.operand, ordinals)

        def neg(env):
            v = f(env)
            return None if v is None else -v
        return neg
    if isinstance(node, n.Arith):
        lf, rf, pos = _compile(node.left, ordinals), _compile(node.right, ordinals), node.pos
        if node.op == "/":
            def divide(env):
                a, b = lf(env), rf(env)
                return None if a is None or b is None else _div(a, b, pos)
            return divide
        op = _ARITH[node.op]

        def arith(env):
            a, b = lf(env), rf(env)
            return None if a is None or b is None else op(a, b)
        return arith
    if isinstance(node, n.Compare):
        return _compile_compare(node, ordinals)
    if isinstance(node, n.In):
        item, container, negated = _compile(node.item, ordinals), _compile(node.container, ordinals), node.negated

        def contains(env):
            v, c = item(env), container(env)
            if v is None or c is None:
                return False
            return (v not in c) if negated else (v in c)
        return contains
    if isinstance(node, n.And):
        items = [_compile(i, ordinals) for i in node.items]
        return lambda env: all(f(env) for f in items)
    if isinstance(node, n.Or):
        items = [_compile(i, ordinals) for i in node.items]
        return lambda env: any(f(env) for f in items)
    if isinstance(node, n.Call):
        return _compile_call(node, ordinals)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # unreachable after checking


def _compile_compare(node: n.Compare, ordinals: dict) -> Fn:
    lf, rf, op = _compile(node.left, ordinals), _compile(node.right, ordinals), _CMP[node.op]
    ranks = _rank_of(node.left, ordinals) or _rank_of(node.right, ordinals)
    if ranks is not None and node.op not in ("==", "!="):
        def ranked(env):
            a, b = lf(env), rf(env)
            if a is None or b is None:
                return False
            return op(ranks[a], ranks[b])
        return ranked

    def compare(env):
        a, b = lf(env), rf(env)
        if a is None or b is None:
            return False
        return op(a, b)
    return compare


def _compile_call(node: n.Call, ordinals: dict) -> Fn:
    args = [_compile(a, ordinals) for a in node.args]
    func = node.func
    if func == "known":
        f = args[0]
        return lambda env: f(env) is not None
    if func == "unknown":
        f = args[0]
        return lambda env: f(env) is None
    if func in ("min", "max", "abs"):
        agg = {"min": min, "max": max, "abs": lambda *v: abs(v[0])}[func]

        def numeric(env):
            values = [f(env) for f in args]
            return None if any(v is None for v in values) else agg(*values)
        return numeric
    between = {"years_between": completed_years, "months_between": completed_months,
               "days_between": lambda a, b: (b - a).days}[func]
    a, b = args

    def dates(env):
        x, y = a(env), b(env)
        if x is None or y is None:
            return None
        return between(x, y)
    return dates


def evaluate(node: n.Node, env: Env, ordinals: dict | None = None):
    """Evaluate once (tests and tools); hot paths keep the compiled closure."""
    return compile_expr(node, ordinals)(env)


__all__ = ["compile_expr", "evaluate", "EvalError", "dt"]
