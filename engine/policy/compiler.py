"""Turn a policy document into a checked, immutable ``Policy``, collecting every error.

Compiling is an ordered list of named stages (``STAGES``, as OPA's compiler runs ``c.stages``):
each reads the document through a ``CompileContext``, records problems there instead of raising,
and adds its part to the ``Parts`` being built. After the last stage, any problem fails the whole
document with every problem listed; otherwise the parts become a frozen ``Policy``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from dataclasses import dataclass, field
from typing import Callable

from ..errors import Code, PolicyErrors
from ..expr.types import DATE, DECIMAL, INT
from ..i18n import _
from ..suggest import closest
from ..values import plain
from .basket import Costs, compile_costs
from .context import CompileContext
from .facts import FactDictionary, build_dictionary
from .limits import check_counts
from .loader import Document, load_text
from .model import Band, EligibilityRule, Figure, Policy, Rule
from .schema import validate_document

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


@dataclass
class Parts:
    """What the stages have built so far."""

    eligibility: list = field(default_factory=list)
    points: list = field(default_factory=list)
    bands: list = field(default_factory=list)
    budget: Figure | None = None
    costs: Costs | None = None

    def rules(self):
        yield from (a for e in self.eligibility for a in e.alternatives)
        yield from self.points
        yield from (b.rule for b in self.bands)


def listed_facts(c: CompileContext, parts: Parts) -> None:
    """``facts:`` names facts of the dictionary for this subject."""
    for i, name in enumerate(c.data.get("facts", [])):
        if name not in c.declared:
            near = closest(name, c.declared)
            c.fail(Code.POLICY_FACT_ERROR, _("unknown fact '{name}'", name=name), ("facts", i),
                   _("did you mean '{name}'?", name=near) if near else _("declare it in policies/national/facts.yaml"))
        else:
            c.env[name] = c.declared[name]


def parameters(c: CompileContext, parts: Parts) -> None:
    """Named figures conditions read: a number or a date each, with provenance, never a fact's name."""
    for name, raw in (c.data.get("parameters") or {}).items():
        path = ("parameters", name)
        if name in c.declared:
            c.fail(Code.POLICY_PARAM_ERROR, _("parameter '{name}' has the name of a fact", name=name), path,
                   _("rename the parameter"))
            continue
        fig = c.figure(raw, path, c.data.get("provenance"))
        fig = c.date_or_number(fig, path)
        if fig is None:
            continue
        if fig.value is None:
            c.fail(Code.POLICY_PARAM_ERROR, _("parameter '{name}' has no value", name=name), path,
                   _("a placeholder parameter still needs a working value, marked status: placeholder"))
            continue
        c.params[name] = fig
        value = fig.value
        c.param_types[name] = DATE if isinstance(value, dt.date) else INT if isinstance(value, int) else DECIMAL


def window(c: CompileContext, parts: Parts) -> None:
    """The application window is valid_from..valid_to, both inclusive."""
    valid_from, valid_to = c.data.get("valid_from"), c.data.get("valid_to")
    if isinstance(valid_from, dt.date) and isinstance(valid_to, dt.date) and valid_to < valid_from:
        c.fail(Code.POLICY_WINDOW_ERROR, _("valid_to is before valid_from"), ("valid_to",),
               _("the window is valid_from..valid_to, both inclusive"))


def eligibility(c: CompileContext, parts: Parts) -> None:
    """Every eligibility rule must hold; a rule holds when its ``when`` or any ``any_of`` alternative does."""
    for i, raw in enumerate(c.data.get("eligibility", [])):
        path = ("eligibility", i)
        c.claim_key(f"e.{raw['id']}", path + ("id",))
        ref = c.reference(raw.get("reference"), path + ("reference",))
        alts = []
        if "when" in raw:
            cond = c.condition(raw["when"], path + ("when",), c.env)
            if cond:
                alts.append(Rule(f"e.{raw['id']}", raw["id"], "eligibility", raw["label"], cond, ref))
        for j, alt in enumerate(raw.get("any_of", [])):
            apath = path + ("any_of", j)
            c.claim_key(f"e.{alt['id']}", apath + ("id",))
            aref = c.reference(alt.get("reference"), apath + ("reference",)) or ref
            cond = c.condition(alt["when"], apath + ("when",), c.env)
            if cond:
                alts.append(Rule(f"e.{raw['id']}.{alt['id']}", alt["id"], "alternative", alt["label"], cond, aref))
        parts.eligibility.append(EligibilityRule(raw["id"], raw["label"], raw["reason"], ref, tuple(alts)))


def points(c: CompileContext, parts: Parts) -> None:
    """Profiling points: whole numbers, summed over the rules that hold into ``points``."""
    for i, raw in enumerate(c.data.get("points", [])):
        path = ("points", i)
        c.claim_key(f"p.{raw['id']}", path + ("id",))
        ref = c.reference(raw.get("reference"), path + ("reference",))
        fig = c.figure(raw.get("points"), path + ("points",), raw.get("provenance") or c.data.get("provenance"))
        if fig is not None and fig.value is not None and not isinstance(fig.value, int):
            c.fail(Code.POLICY_VALUE_ERROR, _("points must be whole numbers"), path + ("points",))
        cond = c.condition(raw["when"], path + ("when",), c.env)
        if cond:
            parts.points.append(Rule(f"p.{raw['id']}", raw["id"], "points", raw["label"], cond, ref, fig))


def bands(c: CompileContext, parts: Parts) -> None:
    """Aid-intensity bands (fasce): conditions over the facts and ``points``, each with its benefit."""
    band_env = {**c.env, "points": INT} if parts.points else c.env
    root_prov = c.data.get("provenance")
    for i, raw in enumerate(c.data.get("bands", [])):
        path = ("bands", i)
        c.claim_key(f"b.{raw['id']}", path + ("id",))
        ref = c.reference(raw.get("reference"), path + ("reference",))
        benefit = raw.get("benefit") or {}
        prov = benefit.get("provenance") or raw.get("provenance") or root_prov
        figs = {k: c.figure(benefit.get(k), path + ("benefit", k), prov)
                for k in ("amount", "duration_months", "max_doti")}
        cond = c.condition(raw["when"], path + ("when",), band_env)
        if cond:
            rule = Rule(f"b.{raw['id']}", raw["id"], "band", raw["label"], cond, ref)
            parts.bands.append(Band(raw["id"], raw["label"], rule, figs["amount"], figs["duration_months"],
                                    figs["max_doti"]))


def budget(c: CompileContext, parts: Parts) -> None:
    """The edition's budget and its parts, figures with provenance."""
    raw = c.data.get("budget")
    if not raw:
        return
    root_prov = c.data.get("provenance")
    parts.budget = c.figure(raw.get("amount"), ("budget", "amount"), raw.get("provenance") or root_prov)
    for i, part in enumerate(raw.get("parts", [])):
        c.figure(part.get("amount"), ("budget", "parts", i, "amount"),
                 part.get("provenance") or raw.get("provenance") or root_prov)


def retention(c: CompileContext, parts: Parts) -> None:
    """How long personal facts are kept after a decision: whole years, a figure with provenance."""
    raw = c.data.get("retention")
    if not raw:
        return
    fig = c.figure(raw.get("years"), ("retention", "years"), raw.get("provenance") or c.data.get("provenance"))
    value = None if fig is None else fig.value
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100):
        c.fail(Code.POLICY_UNIT_ERROR, _("a retention period is a whole number of years from 1 to 100"),
               ("retention", "years"), _("e.g. years: {value: 10, source: <source id>, status: confirmed}"))


def costs(c: CompileContext, parts: Parts) -> None:
    """The service basket and outcome payments (``basket.py``)."""
    parts.costs = compile_costs(c, c.env, [str(b.get("id")) for b in c.data.get("bands", [])], c.ordinals())


def unused(c: CompileContext, parts: Parts) -> None:
    """Every listed fact and declared parameter is read by some rule (else it is a likely mistake)."""
    if c.failed("expr_") or c.failed(Code.POLICY_LIMIT_ERROR):
        return  # a rule that did not compile reads nothing: don't pile up follow-on errors
    reads = {name for rule in parts.rules() for name in rule.condition.reads}
    facts = set(c.env) - reads - (parts.costs.reads if parts.costs else set())
    if not facts and not c.errors:
        used_params = {name for rule in parts.rules() for name, _value in rule.condition.parameters}
        for name in sorted(set(c.params) - used_params):
            c.fail(Code.POLICY_PARAM_UNUSED, _("parameter '{name}' is declared but no rule reads it", name=name),
                   ("parameters", name), _("remove it, or use it in a rule"))
    for name in sorted(facts):
        c.fail(Code.POLICY_FACT_UNUSED, _("fact '{name}' is listed but no rule reads it", name=name),
               ("facts", c.data["facts"].index(name)), _("remove it from facts:, or use it in a rule"))


Stage = Callable[[CompileContext, Parts], None]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("facts", listed_facts), ("parameters", parameters), ("window", window), ("eligibility", eligibility),
    ("points", points), ("bands", bands), ("budget", budget), ("retention", retention), ("costs", costs), ("unused", unused),
)


def compile_policy(doc: Document, dictionary: FactDictionary, bundle: dict) -> Policy:
    """Schema-check, then run every stage; raise ``PolicyErrors`` listing every problem."""
    errors = validate_document(doc)
    if errors:
        raise PolicyErrors(errors)
    errors = check_counts(doc)  # before any condition is parsed: that is where the work is
    if errors:
        raise PolicyErrors(errors)
    c = CompileContext(doc, dictionary, bundle)
    parts = Parts()
    for _name, stage in STAGES:
        stage(c, parts)
    if c.errors:
        raise PolicyErrors(c.errors)
    data = c.data
    reads = {name for rule in parts.rules() for name in rule.condition.reads} - {"points"}
    reads |= parts.costs.reads if parts.costs else set()
    return Policy(
        id=data["id"], version=data["version"], title=data["title"], authority=data["authority"],
        subject=c.subject, status=data["status"], valid_from=data.get("valid_from"),
        valid_to=data.get("valid_to"), content_hash=content_hash(bundle), file=doc.file, bundle=bundle,
        document=plain(data), facts=tuple(data.get("facts", [])), needed_inputs=frozenset(reads),
        eligibility=tuple(parts.eligibility), points=tuple(parts.points), bands=tuple(parts.bands),
        budget=parts.budget, figures=tuple(c.figures), ordinals=c.ordinals(), dictionary=dictionary,
        costs=parts.costs)
