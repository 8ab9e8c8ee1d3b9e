"""A checked expression read aloud: the condition as a sentence an officer (or a citizen) reads.

    sentence(node, dictionary)            # a checked tree (Condition.node) -> str
    describe(text, dictionary, params)    # expression text + parameter values -> str (raw text if it
                                          # does not parse: never raises)

``age <= 65`` reads "età compiuta non superiore a 65 anni"; ``employment_status ==
"unemployed"`` reads "condizione occupazionale: disoccupato". Words come from the fact
dictionary (``label``, ``unit``, ``value_labels`` in policies/national/facts.yaml), connectives
from the message catalogue, figures from engine.i18n (it-IT by default, ``lang="en"`` on
request). Parameters are shown by value: compiled conditions already carry them as constants;
``describe`` substitutes the values it is given.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal


from .. import i18n
from ..i18n import _, N_
from . import nodes as n

# a comparison read with the fact on the left
_OPS = {"<=": N_("not more than"), "<": N_("less than"), ">=": N_("at least"), ">": N_("more than"),
        "==": N_("equal to"), "!=": N_("other than")}
_FLIP = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "==", "!=": "!="}
_FUNCS = {"years_between": N_("completed years from {a} to {b}"),
          "months_between": N_("completed months from {a} to {b}"),
          "days_between": N_("days from {a} to {b}"), "min": N_("the smaller of {items}"),
          "max": N_("the larger of {items}"), "abs": N_("the absolute value of {items}")}


def describe(text: str, dictionary=None, params: dict | None = None, lang: str | None = None) -> str:
    """The sentence for expression ``text``; parameters in ``params`` (name -> value) shown by value.

    Falls back to the text itself when it does not parse, so a caller can always show something.
    """
    from .checker import to_nnf
    from .parser import ExprSyntaxError, parse
    try:
        tree = parse(text)
    except (ExprSyntaxError, RecursionError):
        return text
    values = {k: _value_of(v) for k, v in (params or {}).items()}
    tree = n.substitute(tree, {k: v for k, v in values.items() if v is not None})
    try:
        return sentence(to_nnf(_fold_dates(tree)), dictionary, lang)
    except Exception:  # noqa: BLE001 - an unchecked tree may hold anything; the text is the safe answer
        return text


def sentence(node: n.Node, dictionary=None, lang: str | None = None) -> str:
    """Render a (checked, negation-normal-form) expression tree as a sentence."""
    return _Reader(dictionary, lang).read(node, top=True)


def _value_of(raw):
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            try:
                return Decimal(raw)
            except ArithmeticError:
                return None
    return raw


def _fold_dates(node):
    if isinstance(node, n.Call) and node.func == "date" and len(node.args) == 1 \
            and isinstance(node.args[0], n.Literal) and isinstance(node.args[0].value, str):
        try:
            return n.Literal(node.pos, dt.date.fromisoformat(node.args[0].value))
        except ValueError:
            return node
    if isinstance(node, (n.And, n.Or, n.ListLit)):
        return type(node)(node.pos, tuple(_fold_dates(i) for i in node.items))
    if isinstance(node, (n.Arith, n.Compare)):
        return type(node)(node.pos, node.op, _fold_dates(node.left), _fold_dates(node.right))
    if isinstance(node, n.In):
        return n.In(node.pos, _fold_dates(node.item), _fold_dates(node.container), node.negated)
    if isinstance(node, (n.Not, n.Neg)):
        return type(node)(node.pos, _fold_dates(node.operand))
    if isinstance(node, n.Call):
        return n.Call(node.pos, node.func, tuple(_fold_dates(a) for a in node.args))
    return node


def _lower_first(label: str) -> str:
    # "Età compiuta" -> "età compiuta", but keep acronyms ("DID", "CIGS") as written
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


class _Reader:
    def __init__(self, dictionary, lang):
        self.facts = getattr(dictionary, "facts", None) or {}
        self.lang = i18n.language(lang)

    def t(self, message: str, **fields) -> str:
        return _(message, lang=self.lang, **fields)

    # -- names and values --------------------------------------------------------------------
    def label(self, name: str) -> str:
        if name == "points":
            return self.t("points score")
        fact = self.facts.get(name)
        if fact is not None and getattr(fact, "label", ""):
            return _lower_first(fact.label)
        return name.replace("_", " ")

    def unit(self, name: str | None) -> str | None:
        fact = self.facts.get(name) if name else None
        return getattr(fact, "unit", None) if fact is not None else None

    def value(self, node: n.Node, fact: str | None = None) -> str:
        if isinstance(node, n.Literal):
            v = node.value
            if isinstance(v, bool):
                return self.t("yes") if v else self.t("no")
            if v is None:
                return self.t("not given")
            if isinstance(v, dt.date):
                return i18n.date(v, self.lang)
            if isinstance(v, (int, Decimal)):
                unit = self.unit(fact)
                return i18n.quantity(v, unit, self.lang) if unit else i18n.number(v, self.lang)
            if isinstance(v, str):
                return self.value_label(fact, v)
        if isinstance(node, n.ListLit):
            return self.choice([self.value(i, fact) for i in node.items], "or")
        if isinstance(node, n.Name):
            return self.label(node.name)
        return self.read(node)

    def value_label(self, fact: str | None, value: str) -> str:
        spec = self.facts.get(fact) if fact else None
        labels = getattr(spec, "value_labels", None) or {}
        return labels.get(value, value.replace("_", " "))

    def choice(self, items: list[str], style: str) -> str:
        if not items:
            return ""
        from babel.lists import format_list
        return format_list(items, style=style, locale=i18n._locale(self.lang))

    # -- structure ---------------------------------------------------------------------------
    def read(self, node: n.Node, top: bool = False) -> str:
        if isinstance(node, (n.And, n.Or)):
            parts = [self.read(i) for i in node.items]
            text = self.choice(parts, "standard" if isinstance(node, n.And) else "or")
            return text if top or len(parts) < 2 else f"({text})"
        if isinstance(node, n.Compare):
            return self.compare(node)
        if isinstance(node, n.In):
            return self.member(node)
        if isinstance(node, n.Not):
            return self.t("not ({text})", text=self.read(node.operand, top=True))
        if isinstance(node, n.Call):
            return self.call(node)
        if isinstance(node, n.Name):
            return self.label(node.name)
        if isinstance(node, n.Arith):
            return f"{self.value(node.left)} {node.op} {self.value(node.right)}"
        if isinstance(node, n.Neg):
            return f"-{self.value(node.operand)}"
        return self.value(node)

    def compare(self, node: n.Compare) -> str:
        left, right, op = node.left, node.right, node.op
        if not isinstance(left, n.Name) and isinstance(right, n.Name):
            left, right, op = right, left, _FLIP[op]
        if isinstance(left, n.Name):
            fact = left.name
            spec = self.facts.get(fact)
            kind = getattr(getattr(spec, "type", None), "kind", None)
            if isinstance(right, n.Literal) and isinstance(right.value, bool) and op in ("==", "!="):
                yes = right.value == (op == "==")
                return self.t("{fact}: yes", fact=self.label(fact)) if yes else \
                    self.t("{fact}: no", fact=self.label(fact))
            if op == "==" and (kind == "enum" or isinstance(right, n.Literal) and isinstance(right.value, str)):
                return f"{self.label(fact)}: {self.value(right, fact)}"
            return f"{self.label(fact)} {self.t(_OPS[op])} {self.value(right, fact)}"
        return f"{self.value(left)} {self.t(_OPS[op])} {self.value(right)}"

    def member(self, node: n.In) -> str:
        item, container = node.item, node.container
        if isinstance(item, n.Name) and isinstance(container, n.ListLit):
            values = [self.value(i, item.name) for i in container.items]
            if node.negated:
                return self.t("{fact} other than {values}", fact=self.label(item.name),
                              values=self.choice(values, "or"))
            return f"{self.label(item.name)}: {self.choice(values, 'or')}"
        if isinstance(container, n.Name):
            shown = self.value(item, container.name)
            if node.negated:
                return self.t("{fact} does not include {value}", fact=self.label(container.name), value=shown)
            return self.t("{fact} includes {value}", fact=self.label(container.name), value=shown)
        text = f"{self.value(item)} in {self.value(container)}"
        return self.t("not ({text})", text=text) if node.negated else text

    def call(self, node: n.Call) -> str:
        if node.func in ("known", "unknown") and node.args:
            what = self.value(node.args[0])
            return self.t("{fact} given", fact=what) if node.func == "known" else \
                self.t("{fact} not given", fact=what)
        args = [self.value(a) for a in node.args]
        if node.func in ("years_between", "months_between", "days_between") and len(args) == 2:
            return self.t(_FUNCS[node.func], a=args[0], b=args[1])
        if node.func in _FUNCS:
            return self.t(_FUNCS[node.func], items=self.choice(args, "standard"))
        return f"{node.func}({', '.join(args)})"
