"""Type-check a parsed expression against the fact dictionary and normalise it.

Normalisation folds ``date("...")`` constants and pushes every ``not`` down to the
atoms (negation normal form). That makes the null rule simple and identical in every
backend: *an atom that reads a null value is false*, whatever negation stands above it.
"""
from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal

from ..i18n import _
from ..suggest import suggest

from . import nodes as n
from .types import BOOL, DATE, DECIMAL, INT, NULL, STRING, Type, comparable, list_of, unify_numeric

FUNCTIONS = {
    "date": "date(\"YYYY-MM-DD\"): a date constant",
    "known": "known(x): true when the value x was given (not null)",
    "unknown": "unknown(x): true when x is null",
    "min": "min(a, b, ...): the smallest number",
    "max": "max(a, b, ...): the largest number",
    "abs": "abs(x): absolute value",
    "years_between": "years_between(from, to): completed years between two dates",
    "months_between": "months_between(from, to): completed months between two dates",
    "days_between": "days_between(from, to): days between two dates",
}

_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


class ExprTypeError(Exception):
    def __init__(self, message: str, pos: int, hint: str = ""):
        super().__init__(message)
        self.message, self.pos, self.hint = message, pos, hint


def literal_type(value) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, dt.date):
        return DATE
    return STRING


class Checker:
    """Checks and normalises expressions over a fixed environment of typed names."""

    def __init__(self, env: dict[str, Type], declared=()):
        self.env = env
        self.declared = declared  # facts that exist but the policy did not list

    def check_condition(self, node: n.Node) -> n.Node:
        """A condition must be boolean; returns its normal form."""
        node, typ = self.check(node)
        if typ != BOOL:
            raise ExprTypeError(f"a condition must be true or false, but this is a {typ}", node.pos,
                                "compare it with something, e.g. x > 0")
        return to_nnf(node)

    def check_value(self, node: n.Node, want: str = "number") -> n.Node:
        node, typ = self.check(node)
        if want == "number" and not typ.numeric:
            raise ExprTypeError(f"a formula must give a number, but this is a {typ}", node.pos)
        return to_nnf(node) if typ == BOOL else node

    def check(self, node: n.Node) -> tuple[n.Node, Type]:
        method = getattr(self, "_" + type(node).__name__.lower())
        checked, typ = method(node)
        if isinstance(checked, n.Not):
            # 'not' may stand inside a comparison, a list or a call: normalise it there too, so
            # that no backend ever meets a Not node (same null rule everywhere)
            checked = to_nnf(checked)
        return checked, typ

    def _literal(self, node: n.Literal):
        return node, literal_type(node.value)

    def _name(self, node: n.Name):
        if node.name not in self.env and node.name in self.declared:
            raise ExprTypeError(f"fact '{node.name}' is not listed under 'facts:' of this policy", node.pos,
                                f"add {node.name} to the policy's facts: list")
        if node.name not in self.env:
            # a name may be a fact or a parameter: say which it could be, never just "unknown fact"
            hint = suggest(node.name, self.env)
            hint = _("did you mean '{name}'?", name=hint.split("'")[1]) if hint else \
                _("declare it under 'parameters:' of the policy, or as a fact in policies/national/facts.yaml "
                  "listed under 'facts:'")
            raise ExprTypeError(_("'{name}' is neither a fact of this policy nor one of its parameters",
                                  name=node.name), node.pos, hint)
        return node, self.env[node.name]

    def _listlit(self, node: n.ListLit):
        checked = [self.check(item) for item in node.items]
        types = {t.kind for _, t in checked}
        if len(types) > 1 and not types <= {"int", "decimal"}:
            raise ExprTypeError("a list must hold values of one type", node.pos)
        item = checked[0][1] if checked else NULL
        return n.ListLit(node.pos, tuple(c for c, _ in checked)), list_of(item)

    def _neg(self, node: n.Neg):
        operand, typ = self.check(node.operand)
        if not typ.numeric:
            raise ExprTypeError(f"cannot negate a {typ}", node.pos)
        return n.Neg(node.pos, operand), typ

    def _arith(self, node: n.Arith):
        left, lt = self.check(node.left)
        right, rt = self.check(node.right)
        for side, typ in (("left", lt), ("right", rt)):
            if not typ.numeric:
                raise ExprTypeError(f"the {side} operand of '{node.op}' must be a number, not a {typ}", node.pos,
                                    "use days_between/months_between for dates" if typ == DATE else "")
        out = DECIMAL if node.op == "/" else unify_numeric(lt, rt)
        return n.Arith(node.pos, node.op, left, right), out

    def _compare(self, node: n.Compare):
        left, lt = self.check(node.left)
        right, rt = self.check(node.right)
        if NULL in (lt, rt):
            raise ExprTypeError("comparing with null is always false", node.pos,
                                "use unknown(x) or known(x) to test whether a value was given")
        if not comparable(lt, rt):
            raise ExprTypeError(f"cannot compare a {lt} with a {rt}", node.pos)
        self._check_enum_literal(lt, right)
        self._check_enum_literal(rt, left)
        ordered_enum = any(t.kind == "enum" and t.ordered for t in (lt, rt))
        if node.op not in ("==", "!=") and not ordered_enum:
            for typ in (lt, rt):
                if typ.kind in ("bool", "list", "string") or (typ.kind == "enum" and not typ.ordered):
                    raise ExprTypeError(f"'{node.op}' needs numbers, dates or an ordered enum, not a {typ}",
                                        node.pos, "use == or in")
        return n.Compare(node.pos, node.op, left, right), BOOL

    def _in(self, node: n.In):
        item, it = self.check(node.item)
        container, ct = self.check(node.container)
        if ct.kind != "list":
            raise ExprTypeError(f"'in' needs a list on its right, not a {ct}", node.container.pos,
                                'write x in ["a", "b"]')
        if ct.item != NULL and not comparable(it, ct.item):
            raise ExprTypeError(f"cannot look for a {it} in a {ct}", node.pos)
        if isinstance(container, n.ListLit):
            for element in container.items:
                self._check_enum_literal(it, element)
        if ct.item is not None and ct.item.kind == "enum":
            self._check_enum_literal(ct.item, item)
        return n.In(node.pos, item, container, node.negated), BOOL

    def _check_enum_literal(self, typ: Type, other: n.Node):
        if typ.kind == "enum" and isinstance(other, n.Literal) and isinstance(other.value, str):
            if other.value not in typ.values:
                hint = suggest(other.value, typ.values) or f"allowed: {', '.join(typ.values)}"
                raise ExprTypeError(f"'{other.value}' is not a value of {typ}", other.pos, hint)

    def _and(self, node: n.And):
        return n.And(node.pos, tuple(self._bool(i) for i in node.items)), BOOL

    def _or(self, node: n.Or):
        return n.Or(node.pos, tuple(self._bool(i) for i in node.items)), BOOL

    def _not(self, node: n.Not):
        return n.Not(node.pos, self._bool(node.operand)), BOOL

    def _bool(self, node: n.Node) -> n.Node:
        checked, typ = self.check(node)
        if typ not in (BOOL, NULL):
            raise ExprTypeError(f"'and', 'or' and 'not' need true/false values, not a {typ}", node.pos,
                                "compare the value, e.g. x > 0")
        return checked

    def _call(self, node: n.Call):
        name, args = node.func, node.args
        if name not in FUNCTIONS:
            hint = suggest(name, FUNCTIONS) or "available: " + ", ".join(sorted(FUNCTIONS))
            raise ExprTypeError(f"unknown function '{name}'", node.pos, hint)
        if name == "date":
            if len(args) != 1 or not isinstance(args[0], n.Literal) or not isinstance(args[0].value, str):
                raise ExprTypeError("date() takes one text constant", node.pos, 'date("2013-10-21")')
            try:
                return n.Literal(node.pos, dt.date.fromisoformat(args[0].value)), DATE
            except ValueError:
                raise ExprTypeError(f"'{args[0].value}' is not a date", args[0].pos, "write YYYY-MM-DD") from None
        checked = [self.check(a) for a in args]
        types = [t for _, t in checked]
        args = tuple(c for c, _ in checked)
        if name in ("known", "unknown"):
            self._arity(node, args, 1)
            return n.Call(node.pos, name, args), BOOL
        if name in ("min", "max"):
            if len(args) < 2:
                raise ExprTypeError(f"{name}() needs at least two values", node.pos)
            if not all(t.numeric for t in types):
                raise ExprTypeError(f"{name}() takes numbers", node.pos)
            out = INT if all(t == INT for t in types) else DECIMAL
            return n.Call(node.pos, name, args), out
        if name == "abs":
            self._arity(node, args, 1)
            if not types[0].numeric:
                raise ExprTypeError("abs() takes a number", node.pos)
            return n.Call(node.pos, name, args), types[0]
        self._arity(node, args, 2)
        if any(t not in (DATE, NULL) for t in types):
            raise ExprTypeError(f"{name}() takes two dates", node.pos)
        return n.Call(node.pos, name, args), INT

    @staticmethod
    def _arity(node, args, count):
        if len(args) != count:
            raise ExprTypeError(f"{node.func}() takes {count} argument(s), got {len(args)}", node.pos,
                                FUNCTIONS[node.func])


def to_nnf(node: n.Node, negate: bool = False) -> n.Node:
    """Push negations down to the atoms; bare boolean names become ``x == true``."""
    if isinstance(node, n.Not):
        return to_nnf(node.operand, not negate)
    if isinstance(node, (n.And, n.Or)):
        items = tuple(to_nnf(i, negate) for i in node.items)
        flip = isinstance(node, n.And) == negate
        return n.Or(node.pos, items) if flip else n.And(node.pos, items)
    if isinstance(node, n.Compare):
        return n.Compare(node.pos, _NEGATE[node.op], node.left, node.right) if negate else node
    if isinstance(node, n.In):
        return n.In(node.pos, node.item, node.container, node.negated != negate)
    if isinstance(node, n.Call) and node.func in ("known", "unknown"):
        if negate:
            return n.Call(node.pos, "unknown" if node.func == "known" else "known", node.args)
        return node
    if isinstance(node, n.Literal):
        return n.Literal(node.pos, (not node.value) if negate else node.value) \
            if isinstance(node.value, bool) else node
    # a boolean-valued name (fact)
    return n.Compare(node.pos, "==", node, n.Literal(node.pos, not negate))


# re-exported for modules that only need the text type
__all__ = ["Checker", "ExprTypeError", "FUNCTIONS", "to_nnf", "suggest", "STRING"]
