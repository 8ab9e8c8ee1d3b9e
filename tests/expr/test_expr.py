"""The expression language: parsing, type checking, normal form and reference semantics."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from engine.expr import nodes as n
from engine.expr.checker import FUNCTIONS, Checker, ExprTypeError
from engine.expr.evaluator import compile_expr
from engine.expr.parser import ExprSyntaxError, parse
from engine.expr.types import BOOL, DATE, DECIMAL, INT, enum, list_of

ENV = {"age": INT, "p": DECIMAL, "since": DATE, "flag": BOOL,
       "status": enum(["unemployed", "employed"], name="status"),
       "edu": enum(["none", "primary", "upper"], name="edu", ordered=True),
       "measures": list_of(enum(["a", "b"], name="m"))}


def check(text):
    return Checker(ENV).check_condition(parse(text))


def run(text, **env):
    ordinals = {"edu": {"none": 0, "primary": 1, "upper": 2}}
    return compile_expr(check(text), ordinals)(env)


@pytest.mark.parametrize("text,pos", [("age >= ", 7), ("age >> 3", 5), ("age = 3", 4), ("(age > 3", 8),
                                      ("1 < age < 3", 8), ("age > 3 && flag", 8)])
def test_syntax_errors_point_at_the_offending_character(text, pos):
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert info.value.pos == pos


@pytest.mark.parametrize("text,fragment", [
    ("agee > 3", "intendevi 'age'"),
    ('status == "unemplyed"', "did you mean 'unemployed'"),
    ('age > "x"', "cannot compare"),
    ("age", "must be true or false"),
    ("age + flag > 3", "must be a number"),
    ('__import__("os")', "unknown function"),
    ('status < "employed"', "ordered enum"),
    ("age == null", "unknown(x)"),
])
def test_type_errors_explain_the_fix(text, fragment):
    with pytest.raises(ExprTypeError) as info:
        check(text)
    assert fragment in (info.value.message + " " + info.value.hint)


def test_attribute_access_and_lambdas_do_not_parse():
    for text in ("age.__class__", "lambda: 1", "[x for x in measures]", "age if flag else 0", "a[0]"):
        with pytest.raises((ExprSyntaxError, ExprTypeError)):
            check(text)


def test_negation_is_pushed_to_the_atoms():
    node = check("not (age >= 30 and flag)")
    assert isinstance(node, n.Or)
    assert [c.op for c in node.items] == ["<", "=="]


def test_reference_semantics():
    assert run("age >= 30 and status in [\"unemployed\"]", age=30, status="unemployed") is True
    assert run("not (age >= 30)", age=None) is False  # an atom reading null is false under any not
    assert run("known(age) or unknown(age)", age=None) is True
    assert run('edu <= "primary"', edu="none") is True
    assert run('edu <= "primary"', edu="upper") is False
    assert run('"a" in measures', measures=("a",)) is True
    assert run("p * 2 > 1", p=Decimal("0.5000001")) is True
    assert run('months_between(since, date("2014-03-01")) >= 16', since=dt.date(2012, 11, 1)) is True
    assert run('months_between(since, date("2014-03-01")) >= 17', since=dt.date(2012, 11, 1)) is False


def test_division_is_exact_decimal():
    node = Checker(ENV).check_value(parse("p / 3"))
    assert compile_expr(node)({"p": Decimal("1")}) == Decimal(1) / Decimal(3)


# --- "no generated expression string ever executes code" -----------------------------------
DANGEROUS = ["__import__", "open", "exec", "eval", "getattr", "os", "system", "compile", "globals", "__class__"]
atoms = st.one_of(st.sampled_from(list(ENV) + DANGEROUS), st.integers(-5, 100).map(str),
                  st.sampled_from(['"unemployed"', '"a"', "true", "null", "1.5"]))
exprs = st.recursive(atoms, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["==", "<", ">=", "and", "or", "+", "*", "in", ".", "(", ";"]), inner)
      .map(" ".join),
    st.tuples(st.sampled_from(DANGEROUS + sorted(FUNCTIONS)), inner).map(lambda t: f"{t[0]}({t[1]})"),
    inner.map(lambda s: f"not ({s})"),
    st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(exprs, st.text(max_size=60)))
def test_no_expression_string_executes_code(text):
    import builtins
    called = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        called.append(name)
        return real_import(name, *args, **kwargs)
    try:
        tree = parse(text)
        node = Checker(ENV).check_condition(tree)
    except (ExprSyntaxError, ExprTypeError):
        return
    # Accepted: the tree holds only whitelisted node kinds and functions, and evaluating it
    # on any environment imports nothing and calls no builtin outside the whitelist.
    for sub in n.walk(node):
        assert type(sub) in (n.Literal, n.Name, n.ListLit, n.Neg, n.Arith, n.Compare, n.In, n.And, n.Or, n.Call)
        if isinstance(sub, n.Call):
            assert sub.func in FUNCTIONS
        if isinstance(sub, n.Name):
            assert sub.name in ENV
    builtins.__import__ = spy
    try:
        fn = compile_expr(node, {"edu": {"none": 0, "primary": 1, "upper": 2}})
        try:
            fn({"age": 40, "p": Decimal("0.5"), "since": dt.date(2020, 1, 1), "flag": True,
                "status": "unemployed", "edu": "none", "measures": ("a",)})
        except Exception as exc:  # evaluation errors (e.g. division by zero) are fine; code execution is not
            assert type(exc).__name__ in ("EvalError", "TypeError", "InvalidOperation", "DivisionByZero")
    finally:
        builtins.__import__ = real_import
    assert called == []
