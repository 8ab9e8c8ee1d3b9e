"""What every compile stage works with: the document, the fact dictionary, and the problems found.

``CompileContext`` is the collaborator the stages (``compiler.py``) and the money section
(``basket.py``) share: it records problems with their file:line (never raising, so one run
reports everything, as OPA's compiler collects ``c.Errors``), turns raw figures into
``Figure``s with provenance, resolves references to acts, and checks conditions against the
listed facts and the edition's parameters.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ..errors import Code, PolicyError, SourceLocation
from ..expr import nodes
from ..expr.checker import Checker, ExprTypeError
from ..expr.evaluator import compile_expr
from ..expr.parser import ExprSyntaxError, parse
from ..i18n import _
from ..suggest import closest
from .facts import FactDictionary
from .limits import NodeBudget
from .loader import Document
from .model import Condition, Figure, Reference


class CompileContext:
    def __init__(self, doc: Document, dictionary: FactDictionary, bundle: dict):
        self.doc = doc
        self.bundle = bundle  # the exact texts compiled (the catalogue is read from them)
        self.data = doc.data
        self.dictionary = dictionary
        self.errors: list[PolicyError] = []
        self.figures: list[Figure] = []
        self.keys: dict[str, tuple] = {}
        self.acts = {a["id"]: a for a in self.data.get("legal_basis", [])}
        self.source_ids = {s["id"] for s in self.data.get("sources", [])} | set(self.acts)
        self.subject = self.data.get("subject", "person")
        self.declared = dictionary.types(self.subject)  # every fact of the subject, listed or not
        self.env: dict = {}  # the listed facts and their types
        self.params: dict[str, Figure] = {}
        self.param_types: dict = {}
        self.nodes = NodeBudget()

    # -- problems ------------------------------------------------------------------------------
    def fail(self, code: str, message: str, path, hint: str = "", column_offset: int | None = None):
        loc = self.doc.location(path)
        if column_offset is not None and loc.line:
            loc = self._expr_location(path, loc, column_offset)
        self.errors.append(PolicyError(code, message, loc, hint))

    def extend(self, errors) -> None:
        self.errors.extend(errors)

    def failed(self, prefix: str = "") -> bool:
        return any(e.code.startswith(prefix) for e in self.errors)

    def _expr_location(self, path, loc: SourceLocation, offset: int) -> SourceLocation:
        # Point inside a one-line plain or quoted scalar; multi-line scalars keep the scalar's start.
        lines = self.doc.text.splitlines()
        if loc.line - 1 < len(lines):
            line = lines[loc.line - 1]
            start = loc.column - 1
            if start < len(line) and line[start] in "\"'":
                start += 1
            text = self._get(path)
            if isinstance(text, str) and line[start:start + len(text)] == text:
                return SourceLocation(loc.file, loc.line, start + offset + 1, loc.path)
        return loc

    def _get(self, path):
        value = self.data
        for part in path:
            value = value[part]
        return value

    # -- pieces --------------------------------------------------------------------------------
    def reference(self, raw: dict | None, path) -> Reference | None:
        if raw is None:
            return None
        act = self.acts.get(raw.get("act"))
        if act is None:
            self.fail(Code.POLICY_REF_ERROR, _("reference to unknown act '{act}'", act=raw.get("act")), path + ("act",),
                      _near(raw.get("act", ""), self.acts) or _("declare the act under legal_basis"))
            return Reference(raw.get("act", ""), raw.get("article", ""), "", "")
        return Reference(act["id"], raw.get("article", ""), act.get("title", ""), act.get("url", ""))

    def figure(self, raw, path, inherited: dict | None) -> Figure | None:
        if raw is None:
            return None
        loc = self.doc.location(path)
        if isinstance(raw, dict):
            prov, value = raw, raw.get("value")
        else:
            prov, value = inherited, raw
            if prov is None:
                self.fail(Code.POLICY_PROVENANCE_ERROR, _("figure without provenance"), path,
                          _("write value, source and status (e.g. status: confirmed) or add a 'provenance' "
                            "block to the enclosing section"))
                fig = Figure(value, "placeholder", None, "no provenance given", tuple(path), loc)
                self.figures.append(fig)
                return fig
        status = prov.get("status", "placeholder")
        source = prov.get("source")
        if source is not None and source not in self.source_ids:
            self.fail(Code.POLICY_PROVENANCE_ERROR, _("unknown source '{source}'", source=source), path,
                      _near(source, self.source_ids) or _("declare it under sources: or legal_basis:"))
        if status != "placeholder" and source is None:
            self.fail(Code.POLICY_PROVENANCE_ERROR, _("a {status} figure must name its source", status=status), path,
                      _("add source: <source id>, or mark it status: placeholder"))
        if status == "placeholder" and not prov.get("missing"):
            self.fail(Code.POLICY_PROVENANCE_ERROR, _("a placeholder must say what is missing"), path,
                      _("add missing: \"<which act or table would give the value>\""))
        if value is None and status != "placeholder":
            self.fail(Code.POLICY_PROVENANCE_ERROR, _("only a placeholder may have no value"), path)
        self.check_unit(raw, value, path)
        fig = Figure(value, status, source, prov.get("missing", ""), tuple(path), loc, prov.get("note", ""))
        self.figures.append(fig)
        return fig

    def check_unit(self, raw, value, path):
        """Refuse a figure not written the way its unit is (engine.policy.units): 1.800 is not 1,80 €."""
        from . import units
        if not hasattr(self, "_param_units"):
            self._param_units = units.parameter_units(self.data, self.dictionary)
        problem = units.check(value, units.unit_of(tuple(path), raw, self._param_units))
        if problem:
            where = tuple(path) + ("value",) if isinstance(raw, dict) else tuple(path)
            self.fail(Code.POLICY_UNIT_ERROR, problem[0], where, problem[1])

    def condition(self, text: str, path, env, kind: str = "condition") -> Condition | None:
        if self.nodes.spent:
            return None  # past the bound: compiling more would only cost time (reported once)
        try:
            tree = parse(text)
            if not self.nodes.take(sum(1 for _ in nodes.walk(tree))):
                message, hint = self.nodes.message()
                self.fail(Code.POLICY_LIMIT_ERROR, message, path, hint)
                return None
            checker = Checker({**env, **self.param_types}, self.declared)
            node = checker.check_condition(tree) if kind == "condition" else checker.check_value(tree)
        except ExprSyntaxError as exc:
            self.fail(Code.EXPR_SYNTAX_ERROR, exc.message, path, exc.hint, column_offset=exc.pos)
            return None
        except ExprTypeError as exc:
            self.fail(Code.EXPR_TYPE_ERROR, exc.message, path, exc.hint, column_offset=exc.pos)
            return None
        read = nodes.names(node)
        used = {name: self.params[name] for name in read if name in self.params}
        node = nodes.substitute(node, {name: fig.value for name, fig in used.items()})
        return Condition(text, node, compile_expr(node, self.ordinals()), frozenset(read - set(used)),
                         self.doc.location(path), tuple(sorted(used.items())))

    def ordinals(self) -> dict:
        """Ranks of the values of each listed ordered enum (e.g. education levels)."""
        return {name: {v: i for i, v in enumerate(t.values)} for name, t in self.env.items()
                if t.kind == "enum" and t.ordered}

    def claim_key(self, key: str, path):
        if key in self.keys:
            first = self.doc.location(self.keys[key])
            self.fail(Code.POLICY_DUPLICATE_ID, _("duplicate rule id '{id}'", id=key.split(".", 1)[1]), path,
                      _("already used at line {line}; rule ids must be unique", line=first.line))
        else:
            self.keys[key] = path

    def date_or_number(self, fig: Figure, path) -> Figure | None:
        """A parameter's figure with a date value parsed; None (and a problem) for other text."""
        if not isinstance(fig.value, str):
            return fig
        try:
            value = dt.date.fromisoformat(fig.value)
        except ValueError:
            self.fail(Code.POLICY_PARAM_ERROR, _("'{value}' is neither a number nor a date", value=fig.value), path,
                      _("write a number, or a date as YYYY-MM-DD"))
            return None
        return replace(fig, value=value)


def _near(word: str, options) -> str:
    """'did you mean ...?' in the reader's language, or "" when no option is close."""
    near = closest(str(word), options)
    return _("did you mean '{name}'?", name=near) if near else ""
