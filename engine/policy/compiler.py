"""Turn a policy document into a checked, immutable ``Policy``, collecting every error."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from decimal import Decimal

from .basket import compile_costs
from ..errors import PolicyError, PolicyErrors, SourceLocation
from ..expr import nodes
from ..expr.checker import Checker, ExprTypeError
from ..suggest import suggest
from ..expr.evaluator import compile_expr
from ..expr.parser import ExprSyntaxError, parse
from ..expr.types import DATE, DECIMAL, INT
from .facts import FactDictionary, build_dictionary
from .model import Band, Condition, EligibilityRule, Figure, Policy, Reference, Rule
from .schema import validate_document
from .loader import Document, load_text

BUNDLE_FORMAT = "almp-bundle/1"


def content_hash(bundle: dict) -> str:
    """sha256 over the canonical JSON of the exact texts an edition was compiled from."""
    canonical = json.dumps(bundle, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_bundle(policy_text: str, policy_file: str, facts_text: str) -> dict:
    return {"format": BUNDLE_FORMAT, "policy": policy_text, "policy_file": policy_file, "facts": facts_text}


def compile_bundle(bundle: dict) -> Policy:
    """Compile an edition from its stored texts alone (used by replay)."""
    dictionary = build_dictionary(load_text(bundle["facts"], "facts.yaml"))
    doc = load_text(bundle["policy"], bundle.get("policy_file", "policy.yaml"))
    return compile_policy(doc, dictionary, bundle)


def plain(value):
    """Document data as JSON-ready values (dates as ISO text, Decimals as text)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class _Compiler:
    def __init__(self, doc: Document, dictionary: FactDictionary):
        self.doc = doc
        self.data = doc.data
        self.dictionary = dictionary
        self.errors: list[PolicyError] = []
        self.figures: list[Figure] = []
        self.keys: dict[str, tuple] = {}
        self.acts = {a["id"]: a for a in self.data.get("legal_basis", [])}
        self.source_ids = {s["id"] for s in self.data.get("sources", [])} | set(self.acts)

    def fail(self, code: str, message: str, path, hint: str = "", column_offset: int | None = None):
        loc = self.doc.location(path)
        if column_offset is not None and loc.line:
            loc = self._expr_location(path, loc, column_offset)
        self.errors.append(PolicyError(code, message, loc, hint))

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

    # -- pieces -----------------------------------------------------------------------------
    def reference(self, raw: dict | None, path) -> Reference | None:
        if raw is None:
            return None
        act = self.acts.get(raw.get("act"))
        if act is None:
            self.fail("policy_ref_error", f"reference to unknown act '{raw.get('act')}'", path + ("act",),
                      suggest(raw.get("act", ""), self.acts) or "declare the act under legal_basis")
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
                self.fail("policy_provenance_error", "figure without provenance", path,
                          "write {value: ..., source: <source id>, status: confirmed} or add a 'provenance' "
                          "block to the enclosing section")
                fig = Figure(value, "placeholder", None, "no provenance given", tuple(path), loc)
                self.figures.append(fig)
                return fig
        status = prov.get("status", "placeholder")
        source = prov.get("source")
        if source is not None and source not in self.source_ids:
            self.fail("policy_provenance_error", f"unknown source '{source}'", path,
                      suggest(source, self.source_ids) or "declare it under sources: or legal_basis:")
        if status != "placeholder" and source is None:
            self.fail("policy_provenance_error", f"a {status} figure must name its source", path,
                      "add source: <source id>, or mark it status: placeholder")
        if status == "placeholder" and not prov.get("missing"):
            self.fail("policy_provenance_error", "a placeholder must say what is missing", path,
                      "add missing: \"<which act or table would give the value>\"")
        if value is None and status != "placeholder":
            self.fail("policy_provenance_error", "only a placeholder may have no value", path)
        fig = Figure(value, status, source, prov.get("missing", ""), tuple(path), loc, prov.get("note", ""))
        self.figures.append(fig)
        return fig

    def condition(self, text: str, path, env, kind: str = "condition") -> Condition | None:
        try:
            tree = parse(text)
            checker = Checker({**env, **self.param_types}, self.declared)
            node = checker.check_condition(tree) if kind == "condition" else checker.check_value(tree)
        except ExprSyntaxError as exc:
            self.fail("expr_syntax_error", exc.message, path, exc.hint, column_offset=exc.pos)
            return None
        except ExprTypeError as exc:
            self.fail("expr_type_error", exc.message, path, exc.hint, column_offset=exc.pos)
            return None
        ordinals = {name: {v: i for i, v in enumerate(t.values)} for name, t in env.items()
                    if t.kind == "enum" and t.ordered}
        read = nodes.names(node)
        used = {name: self.params[name] for name in read if name in self.params}
        node = nodes.substitute(node, {name: fig.value for name, fig in used.items()})
        return Condition(text, node, compile_expr(node, ordinals), frozenset(read - set(used)),
                         self.doc.location(path), tuple(sorted(used.items())))

    def claim_key(self, key: str, path):
        if key in self.keys:
            first = self.doc.location(self.keys[key])
            self.fail("policy_duplicate_id", f"duplicate rule id '{key.split('.', 1)[1]}'", path,
                      f"already used at line {first.line}; rule ids must be unique")
        else:
            self.keys[key] = path

    # -- whole document ----------------------------------------------------------------------
    def run(self, bundle: dict) -> Policy:
        data = self.data
        subject = data.get("subject", "person")
        known = self.dictionary.types(subject)
        root_prov = data.get("provenance")
        env = {}
        for i, name in enumerate(data.get("facts", [])):
            if name not in known:
                self.fail("policy_fact_error", f"unknown fact '{name}'", ("facts", i),
                          suggest(name, known) or "declare it in policies/national/facts.yaml")
            else:
                env[name] = known[name]
        self.declared = known
        listed_env = env
        self.params: dict[str, Figure] = {}
        self.param_types: dict = {}
        for name, raw in (data.get("parameters") or {}).items():
            ppath = ("parameters", name)
            if name in known:
                self.fail("policy_param_error", f"parameter '{name}' has the name of a fact", ppath,
                          "rename the parameter")
                continue
            fig = self.figure(raw, ppath, root_prov)
            value = fig.value
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    self.fail("policy_param_error", f"'{value}' is neither a number nor a date", ppath,
                              "write a number, or a date as YYYY-MM-DD")
                    continue
                fig = replace(fig, value=value)
            if value is None:
                self.fail("policy_param_error", f"parameter '{name}' has no value", ppath,
                          "a placeholder parameter still needs a working value, marked status: placeholder")
                continue
            self.params[name] = fig
            self.param_types[name] = DATE if isinstance(value, dt.date) else INT if isinstance(value, int) \
                else DECIMAL

        valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
        if isinstance(valid_from, dt.date) and isinstance(valid_to, dt.date) and valid_to < valid_from:
            self.fail("policy_window_error", "valid_to is before valid_from", ("valid_to",),
                      "the window is valid_from..valid_to, both inclusive")

        eligibility = []
        for i, raw in enumerate(data.get("eligibility", [])):
            path = ("eligibility", i)
            self.claim_key(f"e.{raw['id']}", path + ("id",))
            ref = self.reference(raw.get("reference"), path + ("reference",))
            alts = []
            if "when" in raw:
                cond = self.condition(raw["when"], path + ("when",), listed_env)
                if cond:
                    alts.append(Rule(f"e.{raw['id']}", raw["id"], "eligibility", raw["label"], cond, ref))
            for j, alt in enumerate(raw.get("any_of", [])):
                apath = path + ("any_of", j)
                self.claim_key(f"e.{alt['id']}", apath + ("id",))
                aref = self.reference(alt.get("reference"), apath + ("reference",)) or ref
                cond = self.condition(alt["when"], apath + ("when",), listed_env)
                if cond:
                    alts.append(Rule(f"e.{raw['id']}.{alt['id']}", alt["id"], "alternative", alt["label"], cond,
                                     aref))
            eligibility.append(EligibilityRule(raw["id"], raw["label"], raw["reason"], ref, tuple(alts)))

        points = []
        for i, raw in enumerate(data.get("points", [])):
            path = ("points", i)
            self.claim_key(f"p.{raw['id']}", path + ("id",))
            ref = self.reference(raw.get("reference"), path + ("reference",))
            fig = self.figure(raw.get("points"), path + ("points",), raw.get("provenance") or root_prov)
            if fig is not None and fig.value is not None and not isinstance(fig.value, int):
                self.fail("policy_value_error", "points must be whole numbers", path + ("points",))
            cond = self.condition(raw["when"], path + ("when",), listed_env)
            if cond:
                points.append(Rule(f"p.{raw['id']}", raw["id"], "points", raw["label"], cond, ref, fig))

        band_env = {**env, "points": INT} if points else env
        bands = []
        for i, raw in enumerate(data.get("bands", [])):
            path = ("bands", i)
            self.claim_key(f"b.{raw['id']}", path + ("id",))
            ref = self.reference(raw.get("reference"), path + ("reference",))
            benefit = raw.get("benefit") or {}
            prov = benefit.get("provenance") or raw.get("provenance") or root_prov
            figs = {k: self.figure(benefit.get(k), path + ("benefit", k), prov)
                    for k in ("amount", "duration_months", "max_doti")}
            cond = self.condition(raw["when"], path + ("when",), band_env)
            if cond:
                rule = Rule(f"b.{raw['id']}", raw["id"], "band", raw["label"], cond, ref)
                bands.append(Band(raw["id"], raw["label"], rule, figs["amount"], figs["duration_months"],
                                  figs["max_doti"]))

        budget = data.get("budget")
        budget_fig = None
        if budget:
            budget_fig = self.figure(budget.get("amount"), ("budget", "amount"), budget.get("provenance") or root_prov)
            for i, part in enumerate(budget.get("parts", [])):
                self.figure(part.get("amount"), ("budget", "parts", i, "amount"),
                            part.get("provenance") or budget.get("provenance") or root_prov)

        costs = compile_costs(self, listed_env, [str(b.get("id")) for b in data.get("bands", [])], bundle,
                              {name: {v: i for i, v in enumerate(t.values)} for name, t in env.items()
                               if t.kind == "enum" and t.ordered})
        unused = set(env) - {name for rule in [*points, *(b.rule for b in bands),
                                                *(a for e in eligibility for a in e.alternatives)]
                             for name in rule.condition.reads} - (costs.reads if costs else set())
        if any(e.code.startswith("expr_") for e in self.errors):
            unused = set()  # a rule that did not compile reads nothing: don't pile up follow-on errors
        used_params = {name for rule in [*points, *(b.rule for b in bands),
                                         *(a for e in eligibility for a in e.alternatives)]
                       for name, _ in rule.condition.parameters}
        for name in sorted(set(self.params) - used_params if not unused and not self.errors else ()):
            self.fail("policy_param_unused", f"parameter '{name}' is declared but no rule reads it",
                      ("parameters", name), "remove it, or use it in a rule")
        for name in sorted(unused):
            idx = data["facts"].index(name)
            self.fail("policy_fact_unused", f"fact '{name}' is listed but no rule reads it", ("facts", idx),
                      "remove it from facts:, or use it in a rule")

        if self.errors:
            raise PolicyErrors(self.errors)

        reads = set().union(*(r.condition.reads for e in eligibility for r in e.alternatives), set(),
                            *(r.condition.reads for r in points), *(b.rule.condition.reads for b in bands))
        reads.discard("points")
        reads |= costs.reads if costs else set()
        ordinals = {name: {v: i for i, v in enumerate(t.values)} for name, t in env.items()
                    if t.kind == "enum" and t.ordered}
        return Policy(
            id=data["id"], version=data["version"], title=data["title"], authority=data["authority"],
            subject=subject, status=data["status"], valid_from=valid_from, valid_to=valid_to,
            content_hash=content_hash(bundle), file=self.doc.file, bundle=bundle, document=plain(data),
            facts=tuple(data.get("facts", [])), needed_inputs=frozenset(reads),
            eligibility=tuple(eligibility), points=tuple(points), bands=tuple(bands), budget=budget_fig,
            figures=tuple(self.figures), ordinals=ordinals, dictionary=self.dictionary, costs=costs)


def compile_policy(doc: Document, dictionary: FactDictionary, bundle: dict) -> Policy:
    """Schema-check, then meaning-check and compile; raise ``PolicyErrors`` listing every problem."""
    errors = validate_document(doc)
    if errors:
        raise PolicyErrors(errors)
    compiler = _Compiler(doc, dictionary)
    return compiler.run(bundle)
