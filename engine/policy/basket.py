"""Compile an edition's service basket and outcome payments (the money side of a policy).

Cost options follow the EU simplified cost options (Reg. (EU) 1303/2013 art. 67-68,
Reg. (EU) 2021/1060 art. 53-56): a standard unit cost per hour or unit (individual or
group rate), a lump sum, a flat rate as a percentage of named base services, and
payments on an employment outcome (by band, fixed, or by a formula over the facts).
Every euro figure goes through ``CompileContext.figure`` so it keeps its provenance.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from .catalogue import Catalogue, catalogue_from_bundle, uses_catalogue
from ..errors import Code, PolicyErrors
from ..expr import nodes
from ..expr.checker import Checker, ExprTypeError
from ..i18n import _
from ..suggest import closest
from ..expr.evaluator import compile_expr
from ..expr.parser import ExprSyntaxError, parse
from ..expr.types import DECIMAL
from .model import Figure, Reference

MODES = ("free", "a_processo", "a_risultato")
OPTIONS = ("unit_cost", "lump_sum", "flat_rate", "outcome", "none")
CONTRACT_TYPES = ("open_ended", "apprenticeship", "fixed_term")
FORMULA_NAMES = {"m": "min", "M": "max"}  # the AdR formula's names for the rule's bounds


@dataclass(frozen=True)
class CostOption:
    option: str  # one of OPTIONS
    unit: str  # hour | unit
    rate: Figure | None  # unit cost (individual) or lump sum amount
    group_rate: Figure | None
    percent: Figure | None  # flat rate, in percent of the base
    base: tuple  # service codes the flat rate applies to
    reference: Reference | None  # the simplified-cost-option article

    def rate_for(self, delivery: str) -> Figure | None:
        return self.group_rate if delivery == "group" and self.group_rate is not None else self.rate


@dataclass(frozen=True)
class BasketService:
    index: int
    code: str
    label: str
    national: bool
    bands: tuple | None  # band ids allowed; None = every band
    mode: str
    cost: CostOption
    max_quantity: Figure | None
    max_amount: Figure | None
    mandatory: bool
    paid_when: str  # always | no_outcome
    reference: Reference

    @property
    def rule(self) -> str:
        return f"basket.services[{self.index}]"

    def allows(self, band_id) -> bool:
        return self.bands is None or band_id in self.bands


@dataclass(frozen=True)
class Instalment:
    share: Figure
    after_months: Figure
    label: str


@dataclass(frozen=True)
class OutcomeRule:
    index: int
    id: str
    label: str
    contract_types: tuple
    min_months: Figure | None
    max_months: Figure | None  # exclusive
    region_group: str | None
    regions: frozenset | None
    by_band: dict | None  # band id -> Figure
    fixed: Figure | None
    formula: str | None
    formula_fn: object  # env -> Decimal, with m and M already substituted
    minimum: Figure | None
    maximum: Figure | None
    instalments: tuple
    reference: Reference

    @property
    def rule(self) -> str:
        return f"outcomes.rules[{self.index}]"


@dataclass(frozen=True)
class Outcomes:
    service: str
    part_time_min: Figure | None
    reference: Reference
    rules: tuple


@dataclass(frozen=True)
class Costs:
    """The compiled basket of one edition; ``Policy.costs``."""

    services: tuple
    dote: str  # band | none
    validity_months: Figure | None  # None: the band's duration_months
    extension_months: Figure | None
    outcomes: Outcomes | None
    catalogue: Catalogue
    rounding: str
    reads: frozenset  # facts read by outcome formulas

    def service(self, code: str) -> BasketService | None:
        for svc in self.services:
            if svc.code == code:
                return svc
        return None


def compile_costs(c, env: dict, band_ids: list, ordinals: dict) -> Costs | None:
    """Compile ``basket``/``outcomes`` of the document; ``c`` is the ``CompileContext`` collecting problems."""
    data = c.data
    if not uses_catalogue(data):
        return None
    regions = c.dictionary.enums.get("regions")
    try:
        catalogue = catalogue_from_bundle(c.bundle, regions.values if regions else ())
    except PolicyErrors as exc:
        c.extend(exc.errors)
        return None
    root_prov = data.get("provenance")
    basket = data.get("basket") or {}
    bprov = basket.get("provenance") or root_prov
    outcomes_raw = data.get("outcomes")
    if outcomes_raw is not None and "basket" not in data:
        c.fail(Code.POLICY_BASKET_ERROR, _("outcome payments need a basket holding the service they pay"),
               ("outcomes",), _("add basket: with the a_risultato service"))
    services = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(basket.get("services", [])):
        svc = _service(c, catalogue, raw, ("basket", "services", i), i, bprov, band_ids, seen)
        if svc:
            services.append(svc)
    codes = {s.code: s for s in services}
    for svc in services:
        for j, code in enumerate(svc.cost.base):
            path = ("basket", "services", svc.index, "cost", "base", j)
            if code not in codes:
                c.fail(Code.POLICY_BASKET_ERROR, _("flat-rate base '{code}' is not a service of this basket",
                                                   code=code), path,
                       _near(code, codes) or _("name services listed under basket.services"))
            elif codes[code].cost.option == "flat_rate":
                c.fail(Code.POLICY_BASKET_ERROR, _("a flat rate cannot be the base of another flat rate"), path)
    validity = basket.get("validity", "band")
    validity_months = extension = None
    if isinstance(validity, dict):
        vprov = validity.get("provenance") or bprov
        validity_months = _whole(c, validity.get("months"), ("basket", "validity", "months"), vprov)
        extension = _whole(c, validity.get("extension_months"), ("basket", "validity", "extension_months"), vprov)
    elif band_ids == [] and "basket" in data:
        c.fail(Code.POLICY_BASKET_ERROR, _("without bands the validity of a voucher must be given"),
               ("basket", "validity"), _("write validity: {months: {value: 6, source: ..., status: ...}}"))
    dote = basket.get("dote", "band" if band_ids else "none")
    if dote == "band" and not band_ids:
        c.fail(Code.POLICY_BASKET_ERROR, _("dote: band needs bands with benefit.amount"), ("basket", "dote"),
               _("write dote: none, or declare bands"))

    outcomes = None
    reads: set = set()
    if outcomes_raw is not None:
        outcomes, reads = _outcomes(c, catalogue, outcomes_raw, env, band_ids, codes, root_prov, ordinals)
    for svc in services:
        if svc.cost.option == "outcome" and (outcomes is None or outcomes.service != svc.code):
            c.fail(Code.POLICY_BASKET_ERROR, _("service '{code}' is paid on outcome but no outcomes: section "
                                               "names it", code=svc.code),
                   ("basket", "services", svc.index, "cost", "option"),
                   _("add outcomes: {{service: {code}, rules: [...]}}", code=svc.code))
    raw_rounding = data.get("rounding") or {}
    rounding = raw_rounding.get("rule", "cent_half_up")
    if raw_rounding:
        # The rule is a choice, not a number, but it has the same provenance duty: a placeholder
        # rounding rule is listed by `almp validate` like any placeholder figure.
        c.figure({**raw_rounding, "value": rounding}, ("rounding", "rule"), None)
    return Costs(tuple(services), dote, validity_months, extension, outcomes, catalogue, rounding, frozenset(reads))


def _near(word: str, options) -> str:
    near = closest(word, options)
    return _("did you mean '{name}'?", name=near) if near else ""


def _bands_are(band_ids) -> str:
    return _("bands are {bands}", bands=", ".join(band_ids)) if band_ids else _("no bands are declared")


def _money(c, raw, path, prov) -> Figure | None:
    fig = c.figure(raw, path, prov)
    if fig is None:
        return None
    value = fig.value
    if value is None or isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0:
        c.fail(Code.POLICY_VALUE_ERROR, _("a money figure needs a value of zero or more (a placeholder keeps a "
                                          "working value)"), path,
               _("write value: 12.50 and, if not confirmed, status: placeholder"))
        return None
    return replace(fig, value=Decimal(value))


def _whole(c, raw, path, prov) -> Figure | None:
    fig = c.figure(raw, path, prov)
    if fig is None:
        return None
    if not isinstance(fig.value, int) or isinstance(fig.value, bool) or fig.value < 0:
        c.fail(Code.POLICY_VALUE_ERROR, _("must be a whole number of zero or more"), path)
        return None
    return fig


def _share(c, raw, path, prov) -> Figure | None:
    """An instalment's share of the outcome payment: a number above 0 and at most 1."""
    fig = c.figure(raw, path, prov)
    if fig is None:
        return None
    value = fig.value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not 0 < value <= 1:
        c.fail(Code.POLICY_VALUE_ERROR, _("must be a number above 0 and at most 1, with a decimal point (e.g. 0.5)"),
               path)
        return None
    return fig


def _service(c, catalogue: Catalogue, raw: dict, path, index, bprov, band_ids, seen) -> BasketService | None:
    code = raw["code"]
    national = code in catalogue.services
    if not national and not raw.get("label"):
        c.fail(Code.POLICY_BASKET_ERROR, _("'{code}' is not a code of the national catalogue", code=code),
               path + ("code",), _near(code, catalogue.services) or
               _("use a code of policies/national/services.yaml, or give the programme's own service a label"))
    if code in seen:
        c.fail(Code.POLICY_DUPLICATE_ID, _("service '{code}' is listed twice in the basket", code=code),
               path + ("code",), _("already at basket.services[{index}]", index=seen[code]))
    seen[code] = index
    label = raw.get("label") or (catalogue.services[code].label if national else code)
    bands = raw.get("bands")
    if bands is not None:
        bands = tuple(str(b) for b in bands)
        for j, band in enumerate(bands):
            if band not in band_ids:
                c.fail(Code.POLICY_BASKET_ERROR, _("unknown band '{band}'", band=band), path + ("bands", j),
                       _near(band, band_ids) or _bands_are(band_ids))
    prov = raw.get("provenance") or bprov
    reference = c.reference(raw.get("reference"), path + ("reference",))
    mode = raw["mode"]
    cost_raw = raw.get("cost") or {"option": "none"}
    cprov = cost_raw.get("provenance") or prov
    cpath = path + ("cost",)
    option = cost_raw["option"]
    rate = _money(c, cost_raw.get("rate"), cpath + ("rate",), cprov)
    amount = _money(c, cost_raw.get("amount"), cpath + ("amount",), cprov)
    group_rate = _money(c, cost_raw.get("group_rate"), cpath + ("group_rate",), cprov)
    percent = _money(c, cost_raw.get("percent"), cpath + ("percent",), cprov)
    needs = {"unit_cost": ("rate",), "lump_sum": ("amount",), "flat_rate": ("percent", "base")}.get(option, ())
    for key in needs:
        if key not in cost_raw:
            c.fail(Code.POLICY_BASKET_ERROR, _("a {option} needs '{key}'", option=option, key=key), cpath,
                   _("add {key}: to the cost", key=key))
    if option == "outcome" and mode != "a_risultato":
        c.fail(Code.POLICY_BASKET_ERROR, _("an outcome payment is made a_risultato"), path + ("mode",),
               _("write mode: a_risultato"))
    if mode == "free" and option != "none":
        c.fail(Code.POLICY_BASKET_ERROR, _("a free service has no cost option"), cpath,
               _("remove cost: or change mode"))
    if mode != "free" and option == "none":
        c.fail(Code.POLICY_BASKET_ERROR, _("a service paid {mode} needs a cost option", mode=mode), cpath,
               _("write cost: {{option: one of {options}}}", options=", ".join(OPTIONS[:4])))
    if percent is not None and percent.value > 100:
        c.fail(Code.POLICY_VALUE_ERROR, _("a flat rate is a percentage of at most 100"), cpath + ("percent",))
    cost = CostOption(option, cost_raw.get("unit", "unit" if option == "lump_sum" else "hour"),
                      amount if option == "lump_sum" else rate, group_rate, percent,
                      tuple(cost_raw.get("base", [])), c.reference(cost_raw.get("reference"), cpath + ("reference",)))
    max_quantity = _money(c, raw.get("max_quantity"), path + ("max_quantity",), prov)
    max_amount = _money(c, raw.get("max_amount"), path + ("max_amount",), prov)
    return BasketService(index, code, label, national, bands, mode, cost, max_quantity, max_amount,
                         bool(raw.get("mandatory", False)), raw.get("paid_when", "always"), reference)


def _outcomes(c, catalogue, raw, env, band_ids, codes, root_prov, ordinals):
    path = ("outcomes",)
    prov = raw.get("provenance") or root_prov
    service = raw["service"]
    if service not in codes:
        c.fail(Code.POLICY_BASKET_ERROR, _("outcome service '{service}' is not in the basket", service=service),
               path + ("service",),
               _near(service, codes) or _("list it under basket.services with cost: {option: outcome}"))
    elif codes[service].cost.option != "outcome":
        c.fail(Code.POLICY_BASKET_ERROR, _("basket service '{service}' must have cost: {{option: outcome}}",
                                           service=service), path + ("service",))
    part_time = c.figure(raw.get("part_time_min"), path + ("part_time_min",), prov)
    if part_time is not None and not (isinstance(part_time.value, (int, Decimal)) and 0 < part_time.value <= 1):
        c.fail(Code.POLICY_VALUE_ERROR, _("part_time_min is a share between 0 and 1"), path + ("part_time_min",),
               _("write 0.5 for half of normal hours"))
        part_time = None
    reference = c.reference(raw.get("reference"), path + ("reference",))
    rules, reads = [], set()
    for i, rraw in enumerate(raw.get("rules", [])):
        rpath = path + ("rules", i)
        c.claim_key(f"o.{rraw['id']}", rpath + ("id",))
        rprov = rraw.get("provenance") or prov
        group = rraw.get("region_group")
        regions = None
        if group is not None:
            if group not in catalogue.region_groups:
                c.fail(Code.POLICY_BASKET_ERROR, _("unknown region group '{group}'", group=group),
                       rpath + ("region_group",), _near(group, catalogue.region_groups)
                       or _("declare it in policies/national/region-groups.yaml"))
            else:
                regions = catalogue.region_groups[group].regions
        amount = rraw["amount"]
        apath = rpath + ("amount",)
        aprov = amount.get("provenance") or rprov
        kinds = [k for k in ("formula", "by_band", "fixed") if k in amount]
        if len(kinds) != 1:
            c.fail(Code.POLICY_BASKET_ERROR, _("an outcome amount is exactly one of formula, by_band or fixed"), apath)
        minimum = _money(c, amount.get("min"), apath + ("min",), aprov)
        maximum = _money(c, amount.get("max"), apath + ("max",), aprov)
        fixed = _money(c, amount.get("fixed"), apath + ("fixed",), aprov)
        by_band = None
        if "by_band" in amount:
            by_band = {}
            for band, fraw in amount["by_band"].items():
                if str(band) not in band_ids:
                    c.fail(Code.POLICY_BASKET_ERROR, _("unknown band '{band}'", band=band), apath + ("by_band", band),
                           _near(str(band), band_ids) or _bands_are(band_ids))
                by_band[str(band)] = _money(c, fraw, apath + ("by_band", band), aprov)
        fn = None
        if "formula" in amount:
            fn, names = _formula(c, amount["formula"], apath + ("formula",), env, minimum, maximum, ordinals)
            reads |= names
        instalments = []
        for j, iraw in enumerate(rraw.get("instalments", [])):
            ipath = rpath + ("instalments", j)
            iprov = iraw.get("provenance") or rprov
            share = _share(c, iraw.get("share"), ipath + ("share",), iprov)
            after = _whole(c, iraw.get("after_months"), ipath + ("after_months",), iprov)
            if share is not None and after is not None:
                instalments.append(Instalment(share, after, iraw.get("label", "")))
        if instalments and sum(Decimal(str(x.share.value)) for x in instalments) != 1:
            c.fail(Code.POLICY_VALUE_ERROR, _("instalment shares must add up to 1"), rpath + ("instalments",))
        rules.append(OutcomeRule(
            i, rraw["id"], rraw["label"], tuple(rraw["contract_types"]),
            _whole(c, rraw.get("min_months"), rpath + ("min_months",), rprov),
            _whole(c, rraw.get("max_months"), rpath + ("max_months",), rprov),
            group, regions, by_band, fixed, amount.get("formula"), fn, minimum, maximum, tuple(instalments),
            c.reference(rraw.get("reference"), rpath + ("reference",)) or reference))
    return Outcomes(service, part_time, reference, tuple(rules)), reads


def _formula(c, text, path, env, minimum, maximum, ordinals):
    try:
        tree = parse(text)
        node = Checker({**env, **{k: DECIMAL for k in FORMULA_NAMES}}, c.declared).check_value(tree)
    except ExprSyntaxError as exc:
        c.fail(Code.EXPR_SYNTAX_ERROR, exc.message, path, exc.hint, column_offset=exc.pos)
        return None, set()
    except ExprTypeError as exc:
        c.fail(Code.EXPR_TYPE_ERROR, exc.message, path, exc.hint, column_offset=exc.pos)
        return None, set()
    read = nodes.names(node)
    bounds = {"m": minimum, "M": maximum}
    for name in sorted(read & set(FORMULA_NAMES)):
        if bounds[name] is None:
            c.fail(Code.POLICY_BASKET_ERROR, _("the formula reads '{name}' but the amount has no '{bound}'",
                                               name=name, bound=FORMULA_NAMES[name]), path,
                   _("add {bound}: to the amount", bound=FORMULA_NAMES[name]))
            return None, set()
    node = nodes.substitute(node, {k: bounds[k].value for k in read & set(FORMULA_NAMES)})
    return compile_expr(node, ordinals), read - set(FORMULA_NAMES)
