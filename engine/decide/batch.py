"""The batch path: one policy compiled into a single fast Python function.

Simulation, what-if and batch replay evaluate millions of people; durable-rules' per-call
cost (tens of µs) is too high for that. Here the checked, normalised condition trees of
an edition are translated node by node into a Python *syntax tree* (``ast`` objects built
by this module, never text) and compiled to one function::

    def decide(env):            # -> (eligible, band id or None, points)
        age = env.get("age"); ...
        if not (<eligibility rule 1>): return (False, None, None)
        points = 0
        if <points rule 1>: points += 3
        ...
        if <band 1>: return (True, "1", points)

No policy text ever reaches Python's parser and nothing is ``eval``-ed or ``exec``-ed:
identifiers are fact names already validated against the fact dictionary, constants
are passed as ``ast.Constant`` or through the function's globals, and node kinds without a
translation here call the reference evaluator's closure. The result must agree with the
reference evaluator and the durable-rules path: the benchmarks check every person and
``tests/decide/test_batch.py`` checks random persons and ``tests/decide/test_conformance.py`` runs the
shared conformance cases on every backend.
"""
from __future__ import annotations

import ast
import re
import types

from ..expr import atoms as a
from ..expr import nodes as n
from ..expr.atoms import atom_of
from ..expr.evaluator import compile_expr
from ..policy.model import Policy
from .backends import stage_rules
from .state import NO_BAND, NOT_ELIGIBLE

_PY_CMP = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PLAIN = (str, int, bool)


class _Builder:
    def __init__(self, ordinals: dict, non_null: frozenset = frozenset()):
        self.ordinals = ordinals
        self.non_null = non_null  # names known never to be None (checked facts; skips the None tests)
        self.globals: dict = {"__builtins__": {}}
        self.names: set[str] = set()

    def const(self, value) -> ast.expr:
        if value is None or isinstance(value, _PLAIN):
            return ast.Constant(value)
        key = f"_k{len(self.globals)}"
        self.globals[key] = value
        return ast.Name(key, ast.Load())

    def var(self, name: str) -> ast.expr:
        if not _SAFE_NAME.match(name):  # fact names are validated; this is a second lock on the door
            raise ValueError(f"refusing identifier {name!r}")
        self.names.add(name)
        return ast.Name(f"v_{name}", ast.Load())

    def fallback(self, node: n.Node) -> ast.expr:
        key = f"_f{len(self.globals)}"
        self.globals[key] = compile_expr(node, self.ordinals)
        return ast.Call(ast.Name(key, ast.Load()), [ast.Name("env", ast.Load())], [])

    @staticmethod
    def not_none(expr: ast.expr) -> ast.expr:
        return ast.Compare(expr, [ast.IsNot()], [ast.Constant(None)])

    def cond(self, node: n.Node) -> ast.expr:
        if isinstance(node, (n.And, n.Or)):
            op = ast.And() if isinstance(node, n.And) else ast.Or()
            return ast.BoolOp(op, [self.cond(i) for i in node.items])
        if isinstance(node, n.Literal) and isinstance(node.value, bool):
            return ast.Constant(node.value)
        atom = atom_of(node, self.ordinals)
        if isinstance(atom, a.Presence):
            v = self.var(atom.name)
            return ast.Compare(v, [ast.IsNot() if atom.known else ast.Is()], [ast.Constant(None)])
        if isinstance(atom, a.Member) and all(isinstance(x, _PLAIN) for x in atom.values):
            v = self.var(atom.name)
            values = ast.Constant(atom.values)
            if atom.negated:
                if atom.name in self.non_null:
                    return ast.Compare(v, [ast.NotIn()], [values])
                return ast.BoolOp(ast.And(), [self.not_none(v), ast.Compare(v, [ast.NotIn()], [values])])
            return ast.Compare(v, [ast.In()], [values])
        if isinstance(atom, a.Compare):
            v = self.var(atom.name)
            test = ast.Compare(v, [_PY_CMP[atom.op]()], [self.const(atom.value)])
            if atom.op == "==" or atom.name in self.non_null:
                return test
            return ast.BoolOp(ast.And(), [self.not_none(v), test])
        return self.fallback(node)


def _if(test: ast.expr, body: list) -> ast.stmt:
    return ast.If(test, body, [])


def compile_decider(policy: Policy, positional: bool = False):
    """``decide(env) -> (eligible, band_id or None, points or None)`` for ``policy``; env is not changed.

    With ``positional`` the function takes each fact its rules read as an argument instead, in
    the order of its ``reads`` attribute (sorted names), so a chunk of columns is decided with
    ``map(decide, *columns)`` and no dictionary per subject (see ``columns.py``).
    """
    b = _Builder(policy.ordinals)
    body: list = []
    for rule in policy.eligibility:
        tests = [b.cond(a.condition.node) for a in rule.alternatives]
        test = tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)
        body.append(_if(ast.UnaryOp(ast.Not(), test),
                        [ast.Return(ast.Constant((False, None, None)))]))
    points = ast.Name("v_points", ast.Store())
    body.append(ast.Assign([points], ast.Constant(0)))
    for rule in policy.points:
        body.append(_if(b.cond(rule.condition.node),
                        [ast.AugAssign(ast.Name("v_points", ast.Store()), ast.Add(),
                                       ast.Constant(int(rule.points.value or 0)))]))
    fallbacks_before = sum(k.startswith("_f") for k in b.globals)
    band_body: list = []
    for band in policy.bands:
        result = ast.Tuple([ast.Constant(True), ast.Constant(band.id), ast.Name("v_points", ast.Load())],
                           ast.Load())
        band_body.append(_if(b.cond(band.rule.condition.node), [ast.Return(result)]))
    if sum(k.startswith("_f") for k in b.globals) > fallbacks_before:
        # a band condition fell back to a reference closure, which reads 'points' from env
        body.append(ast.Assign([ast.Name("env", ast.Store())],
                               ast.Dict([None, ast.Constant("points")],
                                        [ast.Name("env", ast.Load()), ast.Name("v_points", ast.Load())])))
    body.extend(band_body)
    body.append(ast.Return(ast.Tuple([ast.Constant(True), ast.Constant(None), ast.Name("v_points", ast.Load())],
                                     ast.Load())))
    reads = tuple(sorted({name for stage in (1, 2) for rule in stage_rules(policy, stage)
                          for name in rule.condition.reads} - {"points"}))
    if positional:
        for name in reads:
            b.var(name)
        args = [ast.arg(f"v_{name}") for name in reads]
        loads = []
        if any(k.startswith("_f") for k in b.globals):
            # fallback closures read an env: build it once from the arguments
            loads.append(ast.Assign([ast.Name("env", ast.Store())],
                                    ast.Dict([ast.Constant(name) for name in reads],
                                             [ast.Name(f"v_{name}", ast.Load()) for name in reads])))
    else:
        # Load every fact read into a local once; fallback closures read env themselves (with points added).
        args = [ast.arg("env")]
        loads = []
        for name in sorted(b.names - {"points"}):
            loads.append(ast.Assign([ast.Name(f"v_{name}", ast.Store())],
                                    ast.Call(ast.Attribute(ast.Name("env", ast.Load()), "get", ast.Load()),
                                             [ast.Constant(name)], [])))
    func = ast.FunctionDef(
        name="decide", args=ast.arguments(posonlyargs=[], args=args, kwonlyargs=[], kw_defaults=[],
                                          defaults=[]),
        body=loads + body, decorator_list=[], returns=None)
    module = ast.Module([func], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, f"<almp batch {policy.key}>", "exec")
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(fn_code, b.globals, "decide")
    fn.reads = reads if positional else None
    return fn


def compile_column_decider(policy: Policy):
    """``decide_all(*columns) -> [(eligible, band_id or None, points or None), ...]``, or None.

    One list comprehension over the zipped columns of the facts the rules read (in the order of
    its ``reads`` attribute), with no function call per subject. The columns must come from the
    columnar preparation (``columns.py``): every value checked, so a fact the dictionary does not
    allow to be null is never None and its None tests are left out. None when a condition needs a
    reference closure (those read a dict per subject: ``compile_decider(positional=True)`` then).
    """
    facts = policy.dictionary.facts
    reads = tuple(sorted({name for stage in (1, 2) for rule in stage_rules(policy, stage)
                          for name in rule.condition.reads} - {"points"}))
    non_null = frozenset(n for n in reads if n in facts and not facts[n].nullable) | {"points"}
    b = _Builder(policy.ordinals, non_null)
    eligible = []
    for rule in policy.eligibility:
        tests = [b.cond(a.condition.node) for a in rule.alternatives]
        eligible.append(tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests))
    terms = [ast.IfExp(b.cond(rule.condition.node), ast.Constant(int(rule.points.value or 0)), ast.Constant(0))
             for rule in policy.points]
    total = terms[0] if len(terms) == 1 else ast.Constant(0) if not terms else terms[0]
    for term in terms[1:]:
        total = ast.BinOp(total, ast.Add(), term)
    points = ast.Name("v_points", ast.Load())
    decided = ast.Tuple([ast.Constant(True), ast.Constant(None), points], ast.Load())
    for band in reversed(policy.bands):
        decided = ast.IfExp(b.cond(band.rule.condition.node),
                            ast.Tuple([ast.Constant(True), ast.Constant(band.id), points], ast.Load()), decided)
    # points are summed once, before the first band test (an int is never None: the test always holds)
    decided = ast.IfExp(ast.Compare(ast.NamedExpr(ast.Name("v_points", ast.Store()), total), [ast.IsNot()],
                                    [ast.Constant(None)]), decided, ast.Constant(None))
    if eligible:
        all_eligible = eligible[0] if len(eligible) == 1 else ast.BoolOp(ast.And(), eligible)
        decided = ast.IfExp(all_eligible, decided, ast.Constant((False, None, None)))
    if any(k.startswith("_f") for k in b.globals) or not reads:
        return None
    for name in reads:
        b.var(name)
    b.globals["_zip"] = zip
    target = ast.Tuple([ast.Name(f"v_{name}", ast.Store()) for name in reads], ast.Store())
    rows = ast.Call(ast.Name("_zip", ast.Load()), [ast.Name(f"c_{i}", ast.Load()) for i in range(len(reads))], [])
    body = [ast.Return(ast.ListComp(decided, [ast.comprehension(target, rows, [], 0)]))]
    func = ast.FunctionDef(
        name="decide_all", args=ast.arguments(posonlyargs=[], args=[ast.arg(f"c_{i}") for i in range(len(reads))],
                                              kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body, decorator_list=[], returns=None)
    module = ast.Module([func], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, f"<almp columns {policy.key}>", "exec")
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(fn_code, b.globals, "decide_all")
    fn.reads = reads
    return fn


class BatchDecider:
    """The batch backend: ``decide(env) -> (eligible, band id, points)`` and ``state(env)``."""

    name = "batch"

    def __init__(self, policy: Policy):
        self.decide = compile_decider(policy)

    def state(self, env: dict) -> str:
        """The subject's state in one word, as ``state.state_of`` gives it for the other backends."""
        eligible, band, _ = self.decide(env)
        return NOT_ELIGIBLE if not eligible else NO_BAND if band is None else band


def _matcher(b: _Builder, rules, label: str):
    """``match(env) -> frozenset`` of the keys of ``rules`` whose condition holds, as one compiled function."""
    found = ast.Name("found", ast.Load())
    body: list = [ast.Assign([ast.Name("found", ast.Store())], ast.List([], ast.Load()))]
    for rule in rules:
        body.append(_if(b.cond(rule.condition.node),
                        [ast.Expr(ast.Call(ast.Attribute(found, "append", ast.Load()), [ast.Constant(rule.key)], []))]))
    loads = [ast.Assign([ast.Name(f"v_{name}", ast.Store())],
                        ast.Call(ast.Attribute(ast.Name("env", ast.Load()), "get", ast.Load()), [ast.Constant(name)], []))
             for name in sorted(b.names)]
    b.globals["frozenset"] = frozenset
    body.append(ast.Return(ast.Call(ast.Name("frozenset", ast.Load()), [found], [])))
    func = ast.FunctionDef(
        name="match", args=ast.arguments(posonlyargs=[], args=[ast.arg("env")], kwonlyargs=[], kw_defaults=[],
                                         defaults=[]),
        body=loads + body, decorator_list=[], returns=None)
    module = ast.Module([func], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, f"<almp batch match {label}>", "exec")
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(fn_code, b.globals, "match")


class BatchBackend:
    """A ``RuleBackend`` on the batch path: each stage's rules compiled to one function returning the fired keys.

    Used where the full explanation is wanted at batch speed (the batch endpoint, partial evaluation);
    ``compile_decider`` stays the fastest path when only (eligible, band, points) is needed.
    """

    name = "batch"

    def __init__(self, policy: Policy):
        from .backends import stage_rules
        self._stages = {}
        for stage in (1, 2):
            self._stages[stage] = _matcher(_Builder(policy.ordinals), list(stage_rules(policy, stage)),
                                           f"{policy.key} stage {stage}")

    def match(self, stage: int, env: dict) -> frozenset:
        return self._stages[stage](env)
