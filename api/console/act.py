"""An edition as an officer reads the act: destinatari, fasce, dote, services, outcome payments, sources.

Built from the compiled edition (labels, references, figures with provenance) and its exact
YAML text (the line of every item, for the link to the source). Nothing here decides: it only
arranges what the edition says.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from engine.expr.italian import sentence
from engine.policy.loader import load_text

from .texts import t

# the words for the edition's codes: catalogue keys console.act.<table>.<code>
MODES = ("free", "a_processo", "a_risultato")
OPTIONS = ("unit_cost", "lump_sum", "flat_rate", "outcome", "none")
UNITS = ("hour", "unit")
CONTRACTS = ("open_ended", "apprenticeship", "fixed_term", "temporary_agency", "self_employment")


def word(table: str, codes, code) -> str:
    """The words for ``code`` of one of the tables above, in the request's language; else the code itself."""
    return t(f"console.act.{table}.{code}") if code in codes else code


@dataclass
class Figure:
    value: object
    status: str
    source: str | None
    missing: str
    line: int
    path: str

    @property
    def placeholder(self) -> bool:
        return self.status == "placeholder"


@dataclass
class Item:
    """One rule, fascia, service or outcome, as the act states it."""

    id: str
    label: str
    line: int
    reference: str = ""
    condition: str = ""
    sentence: str = ""  # the condition read in Italian
    reason: str = ""
    description: str = ""
    figures: dict = field(default_factory=dict)  # name -> Figure
    parts: list = field(default_factory=list)  # alternatives (Item)
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=64)
def _document(text: str, file: str):
    return load_text(text, file)


def _reference(ref) -> str:
    if ref is None:
        return ""
    title = ref.title or ref.act
    return f"{title}, {ref.article}" if ref.article else title


def _figure(fig) -> Figure | None:
    if fig is None:
        return None
    path = ".".join(str(p) for p in fig.path)
    return Figure(fig.value, fig.status, fig.source, fig.missing, fig.location.line, path)


def read_edition(policy) -> dict:
    """The edition's content, in the order of the act."""
    doc = _document(policy.bundle["policy"], policy.file)
    data = doc.data if isinstance(doc.data, dict) else {}

    def line(*path) -> int:
        return doc.location(path).line

    parameters = []
    for name, raw in (data.get("parameters") or {}).items():
        fig = next((f for f in policy.figures if tuple(f.path) == ("parameters", name)), None)
        note = raw.get("note", "") if isinstance(raw, dict) else ""
        parameters.append(Item(name, name, line("parameters", name), description=note,
                               figures={"value": _figure(fig)} if fig else {}))

    requirements = []
    raw_rules = data.get("eligibility") or []
    for index, rule in enumerate(policy.eligibility):
        raw = raw_rules[index] if index < len(raw_rules) else {}
        item = Item(rule.id, rule.label, line("eligibility", index), _reference(rule.reference),
                    reason=rule.reason, extra={"exclusion": _is_exclusion(rule)})
        if "any_of" in raw:
            for alt_index, alt in enumerate(rule.alternatives):
                item.parts.append(Item(alt.id, alt.label, line("eligibility", index, "any_of", alt_index),
                                       _reference(alt.reference) if alt.reference != rule.reference else "",
                                       condition=alt.condition.text, sentence=_read(alt, policy),
                                       extra={"parameters": _parameters(alt)}))
        else:
            alt = rule.alternatives[0]
            item.condition = alt.condition.text
            item.sentence = _read(alt, policy)
            item.extra["parameters"] = _parameters(alt)
        requirements.append(item)

    points = [Item(r.id, r.label, line("points", i), _reference(r.reference), condition=r.condition.text,
                   sentence=_read(r, policy),
                   figures={"points": _figure(r.points)}, extra={"parameters": _parameters(r)})
              for i, r in enumerate(policy.points)]

    raw_bands = data.get("bands") or []
    bands = []
    for i, band in enumerate(policy.bands):
        raw = raw_bands[i] if i < len(raw_bands) else {}
        figures = {k: _figure(f) for k, f in (("amount", band.amount), ("duration_months", band.duration_months),
                                               ("max_doti", band.max_doti)) if f is not None}
        bands.append(Item(band.id, band.label, line("bands", i), _reference(band.rule.reference),
                          condition=band.rule.condition.text, sentence=_read(band.rule, policy),
                          description=raw.get("description", ""),
                          figures=figures, extra={"parameters": _parameters(band.rule)}))

    services, outcomes, basket_note = [], [], ""
    costs = getattr(policy, "costs", None)
    if costs is not None:
        basket_note = (data.get("basket") or {}).get("note", "")
        for svc in costs.services:
            cost = svc.cost
            figures = {k: _figure(f) for k, f in (("rate", cost.rate), ("group_rate", cost.group_rate),
                                                   ("percent", cost.percent), ("max_quantity", svc.max_quantity),
                                                   ("max_amount", svc.max_amount)) if f is not None}
            services.append(Item(svc.code, svc.label, line("basket", "services", svc.index), _reference(svc.reference),
                                 figures=figures,
                                 extra={"mode": word("mode", MODES, svc.mode),
                                        "option": word("option", OPTIONS, cost.option),
                                        "unit": word("unit", UNITS, cost.unit),
                                        "bands": ", ".join(svc.bands) if svc.bands else t("console.act.all_bands"),
                                        "mandatory": svc.mandatory}))
        if costs.outcomes is not None:
            for rule in costs.outcomes.rules:
                figures = {k: _figure(f) for k, f in (("fixed", rule.fixed), ("min_months", rule.min_months),
                                                       ("max_months", rule.max_months), ("minimum", rule.minimum),
                                                       ("maximum", rule.maximum)) if f is not None}
                by_band = {band: _figure(f) for band, f in (rule.by_band or {}).items()}
                outcomes.append(Item(rule.id, rule.label, line("outcomes", "rules", rule.index),
                                     _reference(rule.reference), figures=figures,
                                     extra={"contracts": ", ".join(word("contract", CONTRACTS, c) for c in rule.contract_types),
                                            "by_band": by_band, "formula": rule.formula or "",
                                            "region_group": rule.region_group or "",
                                            "instalments": [(i.label, _figure(i.share), _figure(i.after_months))
                                                            for i in rule.instalments]}))

    placeholders = [(_where(data, tuple(f.path)), _figure(f)) for f in policy.figures if f.status == "placeholder"]
    return {
        "summary": data.get("summary", ""),
        "subject": policy.subject,
        "budget": _figure(policy.budget),
        "legal_basis": [{"id": a.get("id"), "title": a.get("title"), "date": a.get("date"), "url": a.get("url"),
                         "line": line("legal_basis", i)} for i, a in enumerate(data.get("legal_basis") or [])],
        "sources": [{"id": s.get("id"), "title": s.get("title"), "url": s.get("url"), "line": line("sources", i)}
                    for i, s in enumerate(data.get("sources") or [])],
        "parameters": parameters,
        "requirements": requirements,
        "points": points,
        "bands": bands,
        "services": services,
        "basket_note": basket_note,
        "outcomes": outcomes,
        "notes": [n for n in data.get("notes") or [] if isinstance(n, str)],
        "placeholders": placeholders,
        "lines": len(policy.bundle["policy"].splitlines()),
    }


_FIELDS = ("amount", "duration_months", "max_doti", "points", "rate", "group_rate", "percent", "max_quantity",
           "max_amount", "value", "share", "after_months", "min", "max", "min_months")


def _where(data: dict, path: tuple) -> str:
    """A figure's place in words: "Fascia 3 – media: dote", "Parametro soglia_fascia_3"."""
    if not path:
        return ""
    head, rest = path[0], path[1:]
    last = word("field", _FIELDS, str(path[-1]))
    try:
        if head == "parameters":
            return t("console.act.where.parameter", name=rest[0])
        if head == "budget":
            return t("console.edition.budget")
        if head == "bands":
            band = data["bands"][rest[0]]
            return t("console.act.where.band", band=band.get("id"), label=band.get("label", ""), field=last)
        if head == "points":
            return t("console.act.where.points", label=data["points"][rest[0]].get("label", ""))
        if head == "basket" and rest[:1] == ("services",):
            svc = data["basket"]["services"][rest[1]]
            return t("console.act.where.service", code=svc.get("code"), label=svc.get("label", ""), field=last)
        if head == "outcomes" and rest[:1] == ("rules",):
            rule = data["outcomes"]["rules"][rest[1]]
            return t("console.act.where.outcome", label=rule.get("label", rule.get("id")), field=last)
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return ".".join(str(p) for p in path)


def _read(rule, policy) -> str:
    """The condition as an Italian sentence (engine.expr.italian); the code when it cannot be read."""
    try:
        return sentence(rule.condition.node, policy.dictionary)
    except Exception:  # noqa: BLE001 - the page still shows the condition's text
        return ""


def _parameters(rule) -> list[tuple]:
    """(name, Figure) of the parameters a condition reads, so the page shows their values beside it."""
    return [(name, _figure(fig)) for name, fig in rule.condition.parameters]


def _is_exclusion(rule) -> bool:
    # An exclusion is a rule whose id says so (esclusione-..., incompatibilita-...): the act lists
    # them apart from the requirements of the destinatari.
    return rule.id.startswith(("esclusion", "incompatibil", "non-"))


def timeline(editions: list) -> dict:
    """Positions (percent of the span) of each edition's window, for the programme's timeline."""
    import datetime as dt
    if not editions:
        return {"start": None, "end": None, "bars": []}
    start = min(p.valid_from for p in editions)
    ends = [p.valid_to or dt.date.today() for p in editions]
    end = max(ends + [start + dt.timedelta(days=365)])
    span = max((end - start).days, 1)
    bars = []
    for policy, stop in zip(editions, ends):
        left = (policy.valid_from - start).days * 100 / span
        width = max((stop - policy.valid_from).days * 100 / span, 1.5)
        bars.append({"policy": policy, "left": round(left, 2), "width": round(min(width, 100 - left), 2),
                     "open": policy.valid_to is None})
    return {"start": start, "end": end, "bars": bars}
