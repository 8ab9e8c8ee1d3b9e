"""The statement of reasons of a decision, as structured data (the JSON form; HTML/PDF/ODT render it).

``build_statement`` is a pure function of (the decision record, the edition compiled from its
stored texts, the authority text recorded with it, template version, language): no clock, no
I/O, so the same decision always yields the same statement. Every sentence is either a fixed
word of the template version (``words.py``) or a text of the edition (labels, reasons,
references, figures) or of the authority's configuration; never free text.

Claims and plans store no trace: their eligibility part is re-derived from the stored input on
the stored edition with the reference evaluator (deterministic), and checked against the stored
result.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .. import i18n
from ..dates import add_months, completed_months
from ..decide.backends import ReferenceBackend
from ..decide.evaluate import evaluate, prepare_facts
from ..expr import nodes as n
from ..expr.italian import describe
from ..expr.parser import parse
from ..money import to_cents
from ..policy import codice_fiscale
from .authority import Authority, authority_folder
from .words import TEMPLATE_VERSION, TEMPLATE_VERSIONS, Words

FORMAT = "almp-statement/1"
KINDS = ("eligibility", "plan", "claim")
SUBJECT_FIELD = {"eligibility": None, "plan": "plan", "claim": "claim"}
JOB_CENTRE = "job_centre"


class StatementError(Exception):
    """The statement cannot be produced (unknown template version, a record that does not fit its edition)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class DecisionRecord:
    """What a statement is built from: a stored decision (or an unstored evaluation, ``id`` None)."""

    kind: str
    as_of: dt.date
    input: dict  # the stored request: {policy, version, as_of, person | plan | claim}
    result: dict  # the engine's answer, trace included
    id: str | None = None
    created_at: str | None = None  # ISO UTC text
    template_version: str | None = None  # recorded with the decision; None for older decisions
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind == "batch":  # an eligibility decision of POST /v1/eligibility/batch: same statement
            object.__setattr__(self, "kind", "eligibility")

    @property
    def is_decision(self) -> bool:
        return self.id is not None


# -- formatting --------------------------------------------------------------------------------
def fact_value_text(fact, value, lang: str, w: Words) -> str:
    """A fact's value in words, it-IT formats (dates 15/04/2019, amounts 1.800,00 €, units in words)."""
    if value is None:
        return w("value.none")
    kind = fact.type.kind if fact is not None else None
    if isinstance(value, bool):
        return w("value.true") if value else w("value.false")
    labels = getattr(fact, "value_labels", None) or {}
    if kind == "date" or (kind is None and _looks_like_date(value)):
        return i18n.date(value, lang)
    if kind == "enum":
        return labels.get(value, str(value).replace("_", " "))
    if kind == "list" or isinstance(value, (list, tuple)):
        return i18n.join([labels.get(v, str(v).replace("_", " ")) for v in value], lang) or "–"
    unit = getattr(fact, "unit", None)
    if isinstance(value, (int, Decimal, str)) and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return str(value)
        if unit in ("years", "months", "days") and number != number.to_integral():
            # a fraction (e.g. exact age 45,367123 anni) is shown in full: conditions compare it exactly
            return f"{i18n.number(number, lang)} {w(f'unitname.{unit}')}"
        if unit:
            return i18n.quantity(int(number) if number == number.to_integral() and unit in ("years", "months", "days")
                                 else number, unit, lang)
        return i18n.number(number, lang)
    return str(value)


def _looks_like_date(value) -> bool:
    return isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-"


def money(value, lang: str) -> str:
    return i18n.money(Decimal(value), lang)


def short_act(title: str) -> str:
    """An act's short name for a citation: its title up to the first ' – ' outside «…» (else the first ', '
    not followed by the act's number), e.g. 'D.Lgs. 14 settembre 2015, n. 148'."""
    dashes, commas, depth = [], [], 0
    for i, ch in enumerate(title):
        if ch == "«":
            depth += 1
        elif ch == "»":
            depth = max(0, depth - 1)
        elif depth == 0 and title.startswith(" – ", i):
            dashes.append(i)
        elif depth == 0 and title.startswith(", ", i) and not title.startswith(", n. ", i):
            commas.append(i)
    cut = (dashes or commas or [len(title)])[0]
    return title[:cut]


def reference_text(ref: dict | None, acts: dict) -> str:
    """'(Avviso «Dote Unica Lavoro – Terza fase», Destinatari)' from a rule's reference."""
    if not ref:
        return ""
    title = ref.get("title") or (acts.get(ref.get("act")) or {}).get("title") or ref.get("act") or ""
    parts = [short_act(title)] + ([ref["article"]] if ref.get("article") else [])
    return ", ".join(p for p in parts if p)


# -- arithmetic shown so that a reader can redo it ----------------------------------------------
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
_SYMBOL = {"+": "+", "-": "−", "*": "×", "/": ":"}


def arithmetic(node: n.Node, lang: str, names: dict | None = None) -> str:
    """An arithmetic tree written out with it-IT numbers, × − : and ';' between function arguments.

    ``names`` maps a variable to the symbol to print for it (otherwise its name is printed).
    """
    names = names or {}

    def go(node, parent_prec=0, right=False):
        if isinstance(node, n.Literal):
            return i18n.number(node.value, lang)
        if isinstance(node, n.Name):
            return names.get(node.name, node.name)
        if isinstance(node, n.Neg):
            return "−" + go(node.operand, 3)
        if isinstance(node, n.Call):
            return f"{node.func}(" + "; ".join(go(a) for a in node.args) + ")"
        if isinstance(node, n.Arith):
            prec = _PREC[node.op]
            text = f"{go(node.left, prec)} {_SYMBOL[node.op]} {go(node.right, prec, right=True)}"
            if prec < parent_prec or (right and prec == parent_prec and node.op in "+-*/"):
                return f"({text})"
            return text
        return str(node)
    return go(node)


# -- the statement -----------------------------------------------------------------------------
def build_statement(record: DecisionRecord, policy, authority: Authority | None, lang: str = "it",
                    comparison: dict | None = None) -> dict:
    """The statement of ``record`` decided under ``policy`` (compiled from the stored edition texts)."""
    if record.kind not in KINDS:
        raise StatementError("unknown_kind", i18n._("no statement for decisions of kind '{kind}'", kind=record.kind))
    version = record.template_version or TEMPLATE_VERSION
    if version not in TEMPLATE_VERSIONS:
        raise StatementError("template_unavailable",
                             i18n._("statement template version '{version}' is not available in this build "
                                    "(available: {versions})", version=version, versions=", ".join(TEMPLATE_VERSIONS)))
    lang = i18n.language(lang)
    return _Builder(record, policy, authority, version, lang, comparison).build()


class _Builder:
    def __init__(self, record: DecisionRecord, policy, authority, version: str, lang: str, comparison):
        self.r = record
        self.p = policy
        self.a = authority
        self.version = version
        self.lang = lang
        self.w = Words(version, lang)
        self.comparison = comparison
        self.acts = {a["id"]: a for a in policy.document.get("legal_basis", [])}
        self.cited: list[str] = []
        self.missing: list[str] = []

    # -- helpers
    def ref(self, ref: dict | None) -> str:
        if ref and ref.get("act") and ref["act"] not in self.cited:
            self.cited.append(ref["act"])
        return reference_text(ref, self.acts)

    def text(self, value: str | None, what: str) -> str:
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
        self.missing.append(what)
        return self.w("missing_text", what=what)

    def fact(self, name):
        return self.p.dictionary.facts.get(name) if self.p.dictionary else None

    def value(self, name, value) -> str:
        return fact_value_text(self.fact(name), value, self.lang, self.w)

    def money(self, value) -> str:
        return money(value, self.lang)

    # -- the parts
    def build(self) -> dict:
        decision, trace, env_input = self.eligibility_part()
        refusal = self.is_refusal(decision)
        out = {
            "format": FORMAT,
            "template_version": self.version,
            "template_recorded": self.r.template_version is not None,
            "lang": self.lang,
            "is_decision": self.r.is_decision,
            "kind": self.r.kind,
            "refusal": refusal,
            "title": self.w("title.not_decision") if not self.r.is_decision else
            self.w("title.notice") if refusal else self.w("title.decision"),
            "subtitle": self.w(f"kind.{self.r.kind}"),
            "warning": None if self.r.is_decision else self.w("not_decision"),
        }
        out["heading"] = self.heading()
        out["facts"] = self.facts(trace, env_input)
        out["reasons"], out["points"], out["bands"] = self.reasons(decision, trace, refusal)
        out["outcome"] = self.outcome(decision)
        out["notice"] = self.notice() if refusal else None
        out["appeal"] = self.appeal() if not refusal else None
        out["provisional"] = self.provisional()
        out["comparison"] = self.compare() if self.comparison is not None else None
        out["acts"] = [self.act_line(self.acts[a]) for a in self.cited if a in self.acts]
        out["missing_texts"] = sorted(set(self.missing))
        out["footer"] = self.w("footer")
        return out

    def is_refusal(self, decision) -> bool:
        """A refusal of an application: an eligibility decision not granted, or a plan not approved."""
        if self.r.kind == "eligibility":
            return decision["eligible"] is False  # an undetermined outcome (missing facts) refuses nothing
        if self.r.kind == "plan":
            return not self.r.result.get("approved", False)
        return False

    def eligibility_part(self):
        """(eligibility decision with its trace, the trace, the input facts) for any kind."""
        if self.r.kind == "eligibility":
            subject = self.r.input.get(self.p.subject) if self.p.subject in self.r.input else \
                self.r.input.get("person", {})
            return self.r.result, self.r.result.get("trace") or [], subject or {}
        payload = self.r.input.get(SUBJECT_FIELD[self.r.kind]) or {}
        person = payload.get("person") or {}
        as_of = self.r.as_of
        if self.r.kind == "claim" and payload.get("start_date"):
            as_of = dt.date.fromisoformat(str(payload["start_date"]))
        decision = evaluate(self.p, person, as_of, ReferenceBackend(self.p))
        stored_band = (self.r.result.get("band") or {}).get("id")
        if decision["eligible"] != self.r.result.get("eligible") or (decision["band"] or {}).get("id") != stored_band:
            raise StatementError("record_mismatch", i18n._("the stored result does not match its edition and input; "
                                                           "replay the decision to see the differences"))
        return decision, decision["trace"], person

    def heading(self) -> dict:
        doc = self.p.document
        first_act = (doc.get("legal_basis") or [{}])[0]
        publication = doc.get("publication") if isinstance(doc.get("publication"), dict) else None
        act = publication or first_act
        act_date = act.get("date")
        act_text = self.text(act.get("title"), "legal_basis[0].title") + ", " + (
            i18n.date(act_date, self.lang) if act_date else self.w("act.no_date"))
        if not act_date:
            self.missing.append(f"legal_basis.{act.get('id', '?')}.date")
        created = self.r.created_at
        rows = [
            ("authority", self.a.name if self.a else self.p.authority),
            ("programme", self.p.title),
            ("edition", i18n.edition_name(self.p)),
            ("act", act_text),
            ("content_hash", self.p.content_hash),
        ]
        if self.r.is_decision:
            rows += [("decision_id", self.r.id),
                     ("decision_date", i18n.date(created[:10], self.lang) if created else self.w("not_recorded"))]
        rows += [("as_of", i18n.date(self.r.as_of, self.lang)),
                 ("template", self.version if self.r.template_version else
                  f"{self.version} ({self.w('not_recorded')})")]
        return {"rows": [{"key": k, "label": self.w(k), "value": str(v)} for k, v in rows],
                "authority": self.a.name if self.a else self.p.authority, "policy_id": self.p.id,
                "version": self.p.version, "edition": i18n.edition_name(self.p), "content_hash": self.p.content_hash,
                "decision_id": self.r.id, "created_at": created, "as_of": self.r.as_of.isoformat(),
                "act": {"id": act.get("id"), "title": act.get("title"), "date": str(act_date) if act_date else None}}

    # -- fatti accertati
    def facts(self, trace: list, raw: dict) -> list:
        used: dict[str, object] = {}
        for entry in trace:
            for name, value in (entry.get("facts") or {}).items():
                if name != "points":
                    used.setdefault(name, value)
        order = [f for f in self.p.facts if f in used] + sorted(f for f in used if f not in self.p.facts)
        raw, from_code = self.with_codice_fiscale(raw)
        out, shown = [], set()
        for name in order:
            fact = self.fact(name)
            source = getattr(fact, "derived_from", None)
            if source and source not in shown and source in raw:
                out.append(self.fact_row(source, raw[source], from_code=from_code))
                shown.add(source)
            if name not in shown:
                out.append(self.fact_row(name, used[name], raw, from_code))
                shown.add(name)
        if self.r.kind == "claim":
            out.extend(self.claim_facts())
        return out

    def with_codice_fiscale(self, raw: dict) -> tuple[dict, set]:
        """``raw`` with the facts the codice fiscale gives (as the evaluation read it), and their names.

        A fact the applicant also stated is declared (the evaluation checked it against the code)."""
        if not isinstance(raw, dict) or codice_fiscale.FIELD not in raw:
            return raw, set()
        expanded, problems = codice_fiscale.expand(raw, self.r.as_of, ("person",))
        if problems:
            return raw, set()
        return expanded, {k for k in expanded if k not in raw}

    def fact_row(self, name, value, raw=None, from_code=frozenset()) -> dict:
        fact = self.fact(name)
        label = self.text(getattr(fact, "label", None), f"facts.{name}.label") if fact else name
        text = self.value(name, value)
        if fact is not None and fact.derived_from:
            origin = "derived"
            src_value = (raw or {}).get(fact.derived_from)
            origin_text = self.w("origin.derived", source=self.fact(fact.derived_from).label,
                                 source_value=self.value(fact.derived_from, src_value) if src_value is not None
                                 else self.w("value.absent"),
                                 as_of=i18n.date(self.r.as_of, self.lang))
            if src_value is not None and fact.derivation == "completed_months":
                start = dt.date.fromisoformat(str(src_value))
                months = completed_months(start, self.r.as_of)
                days = (self.r.as_of - add_months(start, months)).days if months >= 0 else 0
                if days > 0:  # the exact span, e.g. "6 mesi e 12 giorni"
                    text = f"{text} ({i18n.duration(months=months, days=days, lang=self.lang)})"
        elif name in from_code and "origin.codice_fiscale" in self.w.table:
            origin = "codice_fiscale"
            origin_text = self.w("origin.codice_fiscale")
        else:  # a version-1 statement keeps its frozen wording (declared) for these too
            origin = getattr(fact, "origin", None) or "declared"
            origin_text = self.w(f"origin.{origin}") if f"origin.{origin}" in self.w.table else origin
        return {"name": name, "label": label, "value": value, "text": text, "origin": origin,
                "origin_text": origin_text}

    def claim_facts(self) -> list:
        claim = self.r.input.get("claim") or {}
        rows = []
        outcome = claim.get("outcome")
        if isinstance(outcome, dict):
            contract = self.w(f"contract.{outcome.get('contract_type')}") \
                if f"contract.{outcome.get('contract_type')}" in self.w.table else str(outcome.get("contract_type"))
            text = self.w("claim.contract", contract=contract, start=i18n.date(outcome.get("start"), self.lang),
                          region=self.value("residence_region", outcome.get("job_region")))
            if outcome.get("end"):
                text += f" – {i18n.date(outcome['end'], self.lang)}"
            if outcome.get("duration_months") is not None:
                text += f", {i18n.quantity(outcome['duration_months'], 'months', self.lang)}"
            if outcome.get("part_time_share") is not None:
                text += ", " + self.w("claim.part_time", share=i18n.number(Decimal(str(outcome["part_time_share"])),
                                                                            self.lang))
            rows.append({"name": "outcome", "label": self.w("claim.outcome"), "value": outcome, "text": text,
                         "origin": "claim", "origin_text": self.w("origin.claim")})
        return rows

    # -- ragioni giuridiche
    def condition_row(self, rule, entry: dict | None) -> dict:
        fired = bool(entry and entry.get("fired"))
        params = dict(entry.get("parameters") or {}) if entry else {}
        sentence = describe(rule.condition.text, self.p.dictionary, params, lang=self.lang)
        values = ", ".join(f"{self.fact_label(k)}: {self.value(k, v)}" for k, v in (entry or {}).get("facts", {}).items()
                           if k != "points")
        return {"rule": rule.id, "kind": rule.kind, "label": self.text(rule.label, f"{rule.kind} {rule.id}: label"),
                "sentence": sentence, "reference": self.ref(entry.get("reference") if entry else
                                                            rule.reference.as_dict()),
                "satisfied": fired, "outcome_text": self.w("satisfied") if fired else self.w("not_satisfied"),
                "values_text": values, "line": (entry or {}).get("line")}

    def fact_label(self, name) -> str:
        if name == "points":
            return self.w("points_total")
        fact = self.fact(name)
        return fact.label if fact is not None and fact.label else name

    def reasons(self, decision, trace, refusal):
        by_key = {}
        for entry in trace:
            by_key.setdefault((entry["kind"], entry["rule"]), entry)
        rules = []
        for rule in self.p.eligibility:
            alts = [self.condition_row(a, by_key.get((a.kind, a.id))) for a in rule.alternatives]
            satisfied = any(a["satisfied"] for a in alts)
            row = {"rule": rule.id, "label": self.text(rule.label, f"eligibility {rule.id}: label"),
                   "reference": self.ref(rule.reference.as_dict()), "satisfied": satisfied,
                   "outcome_text": self.w("satisfied") if satisfied else self.w("not_satisfied"),
                   "reason": None, "alternatives": alts if len(alts) > 1 else [],
                   "sentence": alts[0]["sentence"] if len(alts) == 1 else self.w("any_of"),
                   "values_text": alts[0]["values_text"] if len(alts) == 1 else ""}
            if not satisfied:
                row["reason"] = self.text(rule.reason, f"eligibility {rule.id}: reason")
            rules.append(row)
        if refusal or decision["eligible"] is False:
            rules.sort(key=lambda r: r["satisfied"])  # stable: failed first, file order kept within each
        points = []
        for rule in self.p.points:
            entry = by_key.get(("points", rule.id))
            row = self.condition_row(rule, entry)
            value = (entry or {}).get("points")
            if value is None and rule.points is not None and rule.points.value is not None:
                value = int(rule.points.value)
            row["points"] = value
            pts = self.w("points.one" if value == 1 else "points.many", n=value)
            row["points_text"] = pts
            row["outcome_text"] = self.w("points.awarded", points=pts) if row["satisfied"] else \
                self.w("points.not_awarded")
            points.append(row)
        bands = []
        for b in self.p.bands:
            entry = by_key.get(("band", b.id))
            if entry is None:
                continue  # bands are tried only for an eligible subject
            row = self.condition_row(b.rule, entry)
            row["id"] = b.id
            row["band_label"] = b.label
            row["outcome_text"] = self.w("band.matched") if row["satisfied"] else self.w("not_satisfied")
            bands.append(row)
        return rules, points, bands

    # -- esito
    def outcome(self, decision) -> dict:
        if self.r.kind == "eligibility":
            return self.eligibility_outcome(decision)
        if self.r.kind == "plan":
            return self.plan_outcome(decision)
        return self.claim_outcome(decision)

    def band_items(self, decision) -> list:
        items = []
        band = decision.get("band") or {}
        if band.get("id") is None:
            return items
        items.append(step(f"{self.w('band')}:", after=f"{band['id']} – {band.get('label') or ''}".strip(" –")))
        breakdown = band.get("points_breakdown") or []
        if band.get("points") is not None:
            terms = [str(b["points"]) for b in breakdown]
            detail = "; ".join(f"{b['label']}: {b['points']}" for b in breakdown)
            if len(terms) > 1:
                items.append(step(f"{self.w('points_total')}:", " + ".join(terms) + f" = {band['points']}",
                                  after=f"({detail})"))
            else:
                items.append(step(f"{self.w('points_total')}:", after=f"{band['points']}" +
                                  (f" ({detail})" if detail else "")))
        return items

    def eligibility_outcome(self, decision) -> dict:
        subject = self.p.subject if self.p.subject in ("person", "partnership") else "person"
        eligible = decision["eligible"]
        summary = self.w(f"eligible.{subject}") if eligible is True else self.w(f"refused.{subject}") \
            if eligible is False else self.w("undetermined")
        out = {"eligible": eligible, "summary": summary, "refusal_reasons": [], "items": [], "lines": [], "totals": []}
        if eligible is not True:
            for r in decision.get("reasons", []):
                rule = next((x for x in self.p.eligibility if x.id == r["rule"]), None)
                out["refusal_reasons"].append({
                    "rule": r["rule"], "label": self.text(rule.label if rule else r.get("label"), f"{r['rule']}: label"),
                    "reason": self.text(rule.reason if rule else r.get("message"), f"{r['rule']}: reason"),
                    "reference": self.ref(r.get("reference"))})
            return out
        out["items"] = self.band_items(decision)
        benefit = decision.get("benefit") or {}
        if benefit.get("amount") is not None:
            out["items"].append(step(f"{self.w('dote')}:", after=self.money(benefit["amount"])))
        if benefit.get("duration_months") is not None:
            out["items"].append(step(f"{self.w('duration')}:",
                                     after=i18n.quantity(int(benefit["duration_months"]), "months", self.lang)))
        if benefit.get("max_doti") is not None:
            out["items"].append(step(f"{self.w('max_doti')}:", after=i18n.number(benefit["max_doti"], self.lang)))
        return out

    def service_title(self, code, label) -> str:
        return f"{code} – {self.text(label, f'basket service {code}: label')}"

    def plan_outcome(self, decision) -> dict:
        res = self.r.result
        lang = self.lang
        approved = res.get("approved", False)
        out = {"eligible": res.get("eligible"), "approved": approved,
               "summary": self.w("plan.approved") if approved else self.w("plan.refused"),
               "refusal_reasons": [], "items": self.band_items(decision), "lines": [], "totals": []}
        if res.get("dote") is not None:
            out["items"].append(step(f"{self.w('dote')}:", after=self.money(res["dote"])))
        for line in res.get("lines", []):
            title = self.service_title(line["code"], line.get("label"))
            if line.get("unit_cost") is not None:
                s = step(f"{self.w('plan.amount')}:", f"{i18n.number(Decimal(line['quantity']), lang)} × "
                         f"{self.money(line['unit_cost'])} = {self.money(line['amount'])}")
            elif line.get("percent") is not None:
                s = step(f"{self.w('plan.amount')}:", f"{i18n.number(Decimal(line['percent']), lang)} % × "
                         f"{self.money(line['base'])} = {self.money(line['amount'])}")
            elif line.get("reserved_for_outcome") is not None:
                s = step(f"{self.w('plan.reserved')}:", after=self.money(line["amount"]))
            else:
                s = step(f"{self.w('plan.amount')}:", after=self.money(line.get("amount") or 0))
            ref = (line.get("priced_by") or {}).get("reference")
            out["lines"].append({"title": title, "steps": [s], "reference": self.ref(ref)})
        amounts = [self.money(x["amount"]) for x in res.get("lines", []) if x.get("amount") is not None]
        total = self.money(res["total"])
        out["totals"].append(step(f"{self.w('plan.total')}:", " + ".join(amounts) + f" = {total}")
                             if len(amounts) > 1 else step(f"{self.w('plan.total')}:", after=total))
        if res.get("remaining") is not None:
            out["totals"].append(step(f"{self.w('plan.remaining')}:",
                                      f"{self.money(res['dote'])} − {total} = {self.money(res['remaining'])}"))
        for v in res.get("violations", []):
            what = self.code_words(v["code"])
            if v.get("service"):
                what = f"{v['service']}: {what}"
            if v.get("cap"):
                what += f" ({i18n.number(Decimal(v['cap']), lang)})"
            if v.get("excess"):
                what += f" ({self.money(v['excess'])})"
            out["refusal_reasons"].append({"rule": v["code"], "label": what, "reason": "", "reference": ""})
        if not res.get("eligible"):
            for r in decision.get("reasons", []):
                rule = next((x for x in self.p.eligibility if x.id == r["rule"]), None)
                out["refusal_reasons"].append({
                    "rule": r["rule"], "label": self.text(rule.label if rule else r.get("label"), f"{r['rule']}: label"),
                    "reason": self.text(rule.reason if rule else r.get("message"), f"{r['rule']}: reason"),
                    "reference": self.ref(r.get("reference"))})
        return out

    def not_paid_steps(self, entry) -> list:
        steps = []
        for reason in entry.get("not_paid", []):
            words = self.code_words(reason["code"])
            if reason.get("detail"):
                words += f" ({self.code_words(reason['detail'])})"
            amount = f"{self.money(reason['amount'])} – " if reason.get("amount") is not None else ""
            steps.append(step(f"{self.w('claim.not_paid')}: {amount}{words}"))
        return steps

    def code_words(self, code: str) -> str:
        return self.w(f"code.{code}") if f"code.{code}" in self.w.table else code

    def payable_step(self, entry) -> dict:
        claimed = entry.get("claimed")
        amounts = [r["amount"] for r in entry.get("not_paid", []) if r.get("amount") is not None]
        payable = self.money(entry["payable"])
        label = f"{self.w('claim.payable')}:"
        if claimed is None or not amounts:
            return step(label, after=payable)
        minus = "".join(f" − {self.money(a)}" for a in amounts)
        return step(label, f"{self.money(claimed)}{minus} = {payable}")

    def claim_outcome(self, decision) -> dict:
        res = self.r.result
        lang = self.lang
        out = {"eligible": res.get("eligible"), "summary": "", "refusal_reasons": [],
               "items": self.band_items(decision), "lines": [], "totals": []}
        validity = res.get("validity") or {}
        if validity:
            out["items"].append(step(self.w("claim.validity", start=i18n.date(validity["from"], lang),
                                            end=i18n.date(validity["to"], lang))
                                     + (self.w("claim.validity_extended") if validity.get("extended") else "")))
        if res.get("dote") is not None:
            out["items"].append(step(self.w("claim.dote", dote=self.money(res["dote"]))))
        if not res.get("eligible"):
            for r in decision.get("reasons", []):
                rule = next((x for x in self.p.eligibility if x.id == r["rule"]), None)
                out["refusal_reasons"].append({
                    "rule": r["rule"], "label": self.text(rule.label if rule else r.get("label"), f"{r['rule']}: label"),
                    "reason": self.text(rule.reason if rule else r.get("message"), f"{r['rule']}: reason"),
                    "reference": self.ref(r.get("reference"))})
        for line in res.get("lines", []):
            title = self.w("claim.service_line", code=line["code"], date=i18n.date(line["date"], lang),
                           label=self.text(line.get("label"), f"basket service {line['code']}: label")
                           if "label" in line else self.code_words("service_not_in_basket"))
            steps = []
            if line.get("unit_cost") is not None and line.get("claimed") is not None:
                steps.append(step(f"{self.w('claim.claimed')}:", f"{i18n.number(Decimal(line['quantity']), lang)} × "
                                  f"{self.money(line['unit_cost'])} = {self.money(line['claimed'])}"))
                if line.get("paid_quantity") is not None and Decimal(line["paid_quantity"]) < Decimal(line["quantity"]):
                    cap = next((r.get("cap") for r in line["not_paid"] if r.get("cap")), None)
                    paid_amount = to_cents(Decimal(line["paid_quantity"]) * Decimal(line["unit_cost"]))
                    unit = self.w(f"unit.{line.get('unit')}") if f"unit.{line.get('unit')}" in self.w.table else ""
                    steps.append(step(self.w("claim.cap_hours", cap=(i18n.number(Decimal(cap), lang) + " " + unit).strip()
                                             if cap else "–")
                                      + ":", f"{i18n.number(Decimal(line['paid_quantity']), lang)} × "
                                      f"{self.money(line['unit_cost'])} = {self.money(paid_amount)}"))
            elif line.get("percent") is not None and line.get("base") is not None:
                steps.append(step(f"{self.w('claim.claimed')}:", f"{i18n.number(Decimal(line['percent']), lang)} % × "
                                  f"{self.money(line['base'])} = {self.money(line['claimed'])}"))
            elif line.get("claimed") is not None and Decimal(line["claimed"]) == 0:
                steps.append(step(self.w("claim.zero")))
            steps += self.not_paid_steps(line)
            steps.append(self.payable_step(line))
            ref = (line.get("priced_by") or {}).get("reference")
            out["lines"].append({"title": title, "steps": steps, "reference": self.ref(ref)})
        if res.get("outcome"):
            out["lines"].append(self.outcome_line(res["outcome"], decision))
        ordered = sorted(res.get("lines", []), key=lambda x: (x.get("date") or "", x["index"]))
        if res.get("outcome"):
            ordered.append(res["outcome"])
        for key, label in (("claimed", "claim.total_claimed"), ("payable", "claim.total_payable")):
            terms = [self.money(x[key]) for x in ordered if x.get(key) is not None]
            total = self.money(res[key])
            out["totals"].append(step(f"{self.w(label)}:", " + ".join(terms) + f" = {total}")
                                 if len(terms) > 1 else step(f"{self.w(label)}:", after=total))
        for code, amount in (res.get("not_paid") or {}).items():
            out["totals"].append(step(f"{self.w('claim.total_not_paid')} – {self.code_words(code)}:",
                                      after=self.money(amount)))
        out["summary"] = f"{self.w('claim.total_payable')}: {self.money(res['payable'])}"
        return out

    def outcome_line(self, o: dict, decision) -> dict:
        lang = self.lang
        contract = self.w(f"contract.{o['contract_type']}") if f"contract.{o['contract_type']}" in self.w.table \
            else o["contract_type"]
        title = f"{self.w('claim.outcome')} – " + self.w("claim.contract", contract=contract,
                                                         start=i18n.date(o["start"], lang),
                                                         region=self.value("residence_region", o.get("job_region")))
        steps = []
        rule_ref = o.get("rule") or {}
        rule = None
        if self.p.costs is not None and self.p.costs.outcomes is not None and rule_ref.get("id"):
            rule = next((r for r in self.p.costs.outcomes.rules if r.id == rule_ref["id"]), None)
        if rule_ref:
            steps.append(step(self.w("claim.rule", label=self.text(rule_ref.get("label"),
                                                                   f"outcome rule {rule_ref.get('id')}: label"))))
        if rule is not None and o.get("claimed") is not None:
            steps += self.outcome_amount_steps(rule, o, decision)
        steps += self.not_paid_steps(o)
        steps.append(self.payable_step(o))
        steps += self.instalment_steps(o)
        return {"title": title, "steps": steps, "reference": self.ref(rule_ref.get("reference"))}

    def outcome_amount_steps(self, rule, o, decision) -> list:
        lang = self.lang
        band_id = (decision.get("band") or {}).get("id")
        claimed = f"{self.w('claim.claimed')}:"
        if rule.by_band is not None:
            return [step(self.w("claim.by_band", band=band_id) + ":", after=self.money(o["claimed"]))]
        if rule.fixed is not None:
            return [step(self.w("claim.fixed") + ":", after=self.money(o["claimed"]))]
        if not rule.formula:
            return []
        tree = parse(rule.formula)
        person = (self.r.input.get("claim") or {}).get("person") or {}
        env = prepare_facts(self.p, person, self.eligibility_as_of(), ("person",))
        values, symbols = {}, {}
        if rule.minimum is not None:
            values["m"] = rule.minimum.value
        if rule.maximum is not None:
            values["M"] = rule.maximum.value
        for name in sorted(n.names(tree) - set(values)):
            fact = self.fact(name)
            values[name] = env.get(name)
            symbols[name] = fact.label if fact is not None and fact.label else name
        legend = [f"m = {self.money(values['m'])}"] if "m" in values else []
        legend += [f"M = {self.money(values['M'])}"] if "M" in values else []
        legend += [f"«{symbols[k]}» = {i18n.number(values[k], lang)}" for k in sorted(symbols)]
        named = arithmetic(tree, lang, {k: f"«{v}»" for k, v in symbols.items()})
        numeric = arithmetic(n.substitute(tree, values), lang)
        return [step(self.w("claim.formula", formula=named), after=f"({'; '.join(legend)})"),
                step(claimed, f"{numeric} = {self.money(o['claimed'])}")]

    def eligibility_as_of(self) -> dt.date:
        claim = self.r.input.get("claim") or {}
        return dt.date.fromisoformat(str(claim["start_date"])) if claim.get("start_date") else self.r.as_of

    def instalment_steps(self, o) -> list:
        lang = self.lang
        insts = o.get("instalments") or []
        steps, paid = [], []
        amount = self.money(o["payable"])
        for k, inst in enumerate(insts):
            label = inst.get("label")
            label = self.w("claim.single") if "share" not in inst else \
                self.text(label, "outcome instalment: label") if label else f"{self.w('claim.instalment')} {k + 1}"
            due = self.w("claim.due", due=i18n.date(inst["due"], lang)) if inst.get("due") else ""
            part = self.money(inst["amount"])
            if "share" not in inst:
                steps.append(step(f"{label}:", after=part))
            elif k == len(insts) - 1 and k > 0:
                steps.append(step(f"{label}:", f"{amount} − " + " − ".join(paid) + f" = {part}", after=due))
            else:
                steps.append(step(f"{label}:", f"{i18n.number(Decimal(inst['share']), lang)} × {amount} = {part}",
                                  after=due))
            paid.append(part)
        return steps

    # -- notice and appeal
    def notice(self) -> dict:
        if self.a is None:
            return {"kind": "10-bis", "title": self.w("h.notice"),
                    "paragraphs": [self.w("no_authority", folder=authority_folder(self.p.id))], "unconfirmed": True,
                    "term_days": None, "deadline": None}
        paragraphs = [self.w("notice.text", days=self.a.notice_days, how=self.a.notice_how or
                             self.w("notice.how_default"), reference=self.a.notice_reference)]
        deadline = None
        if self.r.created_at:
            day = dt.date.fromisoformat(self.r.created_at[:10])
            deadline = day + dt.timedelta(days=self.a.notice_days)
            paragraphs.append(self.w("notice.deadline", date=i18n.date(day, self.lang),
                                     deadline=i18n.date(deadline, self.lang)))
        if self.a.notice_status != "confirmed":
            paragraphs.append(self.w("unconfirmed"))
        return {"kind": "10-bis", "title": self.w("h.notice"), "paragraphs": paragraphs,
                "unconfirmed": self.a.notice_status != "confirmed", "term_days": self.a.notice_days,
                "deadline": deadline.isoformat() if deadline else None}

    def appeal(self) -> dict:
        if self.a is None:
            return {"title": self.w("h.appeal"), "intro": "", "remedies": [],
                    "paragraphs": [self.w("no_authority", folder=authority_folder(self.p.id))], "unconfirmed": True}
        remedies = [self.w("appeal.remedy", body=r.body, days=r.term_days, start=r.start, reference=r.reference)
                    for r in self.a.remedies]
        paragraphs = [self.w("unconfirmed")] if self.a.appeal_status != "confirmed" else []
        return {"title": self.w("h.appeal"), "intro": self.w("appeal.intro"), "remedies": remedies,
                "paragraphs": paragraphs, "unconfirmed": self.a.appeal_status != "confirmed"}

    # -- provisional figures, acts, comparison
    def provisional(self) -> list:
        paths = self.r.result.get("provisional") or []
        if not paths:
            return []
        by_path = {_json_path(f.path): f for f in self.p.figures}
        out = []
        for path in paths:
            fig = by_path.get(path)
            value = "" if fig is None or fig.value is None else f" = {self.figure_text(fig.value)}"
            out.append(f"{_figure_name(path, self.p, self.w)}{value}")
        return [self.w("provisional.intro")] + out

    def figure_text(self, value) -> str:
        if isinstance(value, dt.date):
            return i18n.date(value, self.lang)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return i18n.number(value, self.lang)
        return str(value)

    def act_line(self, act: dict) -> str:
        date = f", {i18n.date(act['date'], self.lang)}" if act.get("date") else ""
        return f"{act.get('title', act.get('id'))}{date}"

    def compare(self) -> dict:
        c = self.comparison
        other = c["policy"]
        edition = i18n.edition_name(other)
        if c.get("input_problems"):
            return {"edition": edition, "version": other.version, "content_hash": other.content_hash,
                    "text": self.w("comparison.input", edition=edition, fields=", ".join(c["input_problems"])),
                    "items": [], "same": False}
        if c["result"].get("outcome") == "undetermined":
            # the stored input lacks facts that edition reads: its answer would only be partial
            subject = c["result"].get("subject") or "person"
            fields = ", ".join(f"{subject}.{name}" for name in c["result"].get("missing", []))
            return {"edition": edition, "version": other.version, "content_hash": other.content_hash,
                    "text": self.w("comparison.undetermined", edition=edition, fields=fields),
                    "items": [], "same": False}
        mine = self.summary_items(self.r.result, self.p)
        theirs = self.summary_items(c["result"], other)
        same = [i["text"] for i in mine] == [i["text"] for i in theirs]
        return {"edition": edition, "version": other.version, "content_hash": other.content_hash,
                "text": self.w("comparison.same" if same else "comparison.intro", edition=edition),
                "items": [] if same else [{"label": t["label"], "text": t["text"],
                                           "was": next((m["text"] for m in mine if m["label"] == t["label"]), "–")}
                                          for t in theirs],
                "same": same}

    def summary_items(self, result: dict, policy) -> list:
        items = []
        if "eligible" in result:
            items.append({"label": self.w("h.outcome"), "text": self.w("yes") if result["eligible"] else self.w("no")})
        band = result.get("band") or {}
        if band.get("id") is not None:
            items.append({"label": self.w("band"), "text": f"{band['id']} – {band.get('label') or ''}".strip(" –")})
        if band.get("points") is not None:
            items.append({"label": self.w("points_total"), "text": str(band["points"])})
        benefit = result.get("benefit") or {}
        if benefit.get("amount") is not None:
            items.append({"label": self.w("dote"), "text": self.money(benefit["amount"])})
        if result.get("dote") is not None and not benefit:
            items.append({"label": self.w("dote"), "text": self.money(result["dote"])})
        if "approved" in result:
            items.append({"label": self.w("plan.total"), "text": self.money(result["total"])})
        if "payable" in result:
            items.append({"label": self.w("claim.total_payable"), "text": self.money(result["payable"])})
        return items


def step(text: str, calc: str | None = None, after: str = "") -> dict:
    """One printed step: words, then (optionally) an equation a reader can redo, then trailing words."""
    return {"text": text, "calc": calc, "after": after}


def _json_path(path: tuple) -> str:
    return ("$." + ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path)).replace(".[", "[")


def _figure_name(path: str, policy, w: Words) -> str:
    """A provisional figure's name in the edition's words where the path allows it."""
    import re
    m = re.fullmatch(r"\$\.parameters\.([\w-]+)", path)
    if m:
        return m.group(1)
    m = re.fullmatch(r"\$\.bands\[(\d+)\]\.benefit\.(\w+)", path)
    if m and int(m.group(1)) < len(policy.bands):
        band = policy.bands[int(m.group(1))]
        what = {"amount": w("dote"), "duration_months": w("duration"), "max_doti": w("max_doti")}.get(m.group(2),
                                                                                                  m.group(2))
        return f"{w('band')} {band.id} ({band.label}) – {what}"
    m = re.fullmatch(r"\$\.points\[(\d+)\]\.points", path)
    if m and int(m.group(1)) < len(policy.points):
        return f"{policy.points[int(m.group(1))].label} – {w('points_total')}"
    return path.removeprefix("$.")


def unstored_record(kind: str, policy, payload: dict, as_of: dt.date, result: dict) -> DecisionRecord:
    """The record of an evaluation that was not stored (``almp eval --statement``): marked as not a decision."""
    field_name = policy.subject if kind == "eligibility" else SUBJECT_FIELD[kind]
    stored_input = {"policy": policy.id, "version": policy.version, "as_of": as_of.isoformat(), field_name: payload}
    return DecisionRecord(kind=kind, as_of=as_of, input=stored_input, result=result, template_version=TEMPLATE_VERSION)
