"""The fact dictionary: typed facts about a subject, input checking and derived facts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..dates import completed_months, completed_years, days_until, elapsed_days, elapsed_months, elapsed_years
from ..errors import Code, InputErrors, InputProblem, PolicyError, PolicyErrors
from ..i18n import _
from ..suggest import closest, suggest
from ..values import BadValue, in_range, read_bool, read_choice, read_date, read_decimal, read_whole, shown
from ..expr.types import BOOL, DATE, DECIMAL, INT, Type, enum, list_of
from . import codice_fiscale
from .loader import Document, load_file

DECIMAL_PLACES = 6  # facts carry at most micro-units; keeps every backend exact
DERIVATIONS = {"completed_years": completed_years, "completed_months": completed_months,
                "elapsed_years": elapsed_years, "elapsed_months": elapsed_months, "elapsed_days": elapsed_days,
                "days_until": days_until}
# Derivations from nothing but the evaluation date: the date the decision is taken for (the
# application date), so that a rule amended on a date inside an edition's window can say so.
DATE_DERIVATIONS = {"evaluation_date": lambda as_of: as_of}
_RESULT_TYPES = {"completed_years": INT, "completed_months": INT, "elapsed_days": INT, "days_until": INT,
                 "elapsed_years": DECIMAL, "elapsed_months": DECIMAL, "evaluation_date": DATE}
ANY_SUBJECT = "any"  # a fact every kind of subject has (the application date)
_SIMPLE = {"date": DATE, "integer": INT, "decimal": DECIMAL, "boolean": BOOL}


@dataclass(frozen=True)
class Fact:
    name: str
    type: Type
    label: str
    description: str
    nullable: bool = False
    derived_from: str | None = None
    derivation: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    subject: str = "person"
    unit: str | None = None  # years | months | days | euro | percent | count: how a value reads
    value_labels: dict = field(default_factory=dict, compare=False, hash=False)  # enum value -> Italian words
    not_after_as_of: bool = False  # a date an age is counted from (a birth): never after the evaluation date

    @property
    def computed(self) -> bool:
        """Derived by almp (from another fact or from the evaluation date), never sent by callers."""
        return self.derivation is not None

    def of(self, subject: str) -> bool:
        return self.subject == subject or self.subject == ANY_SUBJECT
    values_from: str = ""  # the shared list under `enums:` an enum fact takes its values from

    def describe(self) -> dict:
        out = {"name": self.name, "type": str(self.type), "label": self.label, "description": self.description,
               "nullable": self.nullable, "subject": self.subject}
        if self.type.kind == "enum":
            out["values"] = list(self.type.values)
        if self.unit:
            out["unit"] = self.unit
        if self.value_labels:
            out["value_labels"] = dict(self.value_labels)
        if self.not_after_as_of:
            out["not_after"] = "as_of"
        if self.computed:
            out["derived"] = {"function": self.derivation, **({"from": self.derived_from} if self.derived_from else {})}
        return out


class FactDictionary:
    """All declared facts, by name."""

    def __init__(self, facts: dict[str, Fact], enums: dict[str, Type], source: str = ""):
        self.facts = facts
        self.enums = enums
        self.source = source

    def __contains__(self, name: str) -> bool:
        return name in self.facts

    def types(self, subject: str = "person") -> dict[str, Type]:
        return {n: f.type for n, f in self.facts.items() if f.of(subject)}

    def closure(self, names: set[str]) -> set[str]:
        """The input facts needed to compute ``names`` (derived facts replaced by their sources)."""
        out = set()
        for name in names:
            fact = self.facts.get(name)
            if fact is None or (fact.computed and not fact.derived_from):
                continue  # computed from the evaluation date alone
            out.add(fact.derived_from if fact.derived_from else name)
        return out

    def prepare(self, raw, needed: set[str], as_of: dt.date, subject: str = "person",
                path: tuple = ("person",)) -> dict:
        """Check ``raw`` (JSON-like) against the dictionary and return typed values plus derived facts.

        Every problem is collected: unknown facts, missing needed facts, wrong types,
        out-of-range values, nulls where not allowed, derived facts sent by the caller.
        """
        problems: list[InputProblem] = []
        if not isinstance(raw, dict):
            raise InputErrors([InputProblem(path, Code.TYPE_ERROR, _("must be an object of facts"))])
        self._check_size(raw, subject, path)
        if subject == "person":
            raw, problems = codice_fiscale.expand(raw, as_of, path)
        env: dict = {}
        for key, value in raw.items():
            fact = self.facts.get(key)
            if fact is None or not fact.of(subject):
                near = closest(key, [n for n, f in self.facts.items() if f.of(subject)])
                problems.append(InputProblem(path + (key,), Code.UNKNOWN_FACT,
                                             _("unknown fact {key}", key=shown(key))
                                             + ("; " + _("did you mean '{name}'?", name=near) if near else "")))
                continue
            if fact.computed:
                problems.append(InputProblem(path + (key,), Code.DERIVED_FACT,
                                             _("'{key}' is computed by almp from '{source}'; send '{source}' instead",
                                               key=key, source=fact.derived_from) if fact.derived_from else
                                             _("'{key}' is the evaluation date (as_of); do not send it", key=key)))
                continue
            try:
                env[key] = self._coerce(fact, value)
            except ValueError as exc:
                # a fact's value is personal data: the message says what was expected, never what was sent
                problems.append(InputProblem(path + (key,), Code.INVALID_VALUE, getattr(exc, "expected", str(exc))))
                continue
            if fact.not_after_as_of and env[key] is not None and env[key] > as_of:
                problems.append(InputProblem(path + (key,), Code.INVALID_VALUE,
                                             _("'{key}' ({label}) cannot be after the evaluation date (as_of {as_of})",
                                               key=key, label=fact.label, as_of=as_of.isoformat())))
        for name in sorted(self.closure(needed)):
            if name not in raw and name in self.facts:
                fact = self.facts[name]
                problems.append(InputProblem(path + (name,), Code.MISSING_FACT,
                                             (_("fact '{name}' ({label}) is required by this policy (send null if "
                                                "it does not apply)", name=name, label=fact.label) if fact.nullable
                                              else _("fact '{name}' ({label}) is required by this policy",
                                                     name=name, label=fact.label))))
        if problems:
            raise InputErrors(problems)
        for fact in self.facts.values():
            if not fact.computed or not fact.of(subject):
                continue
            if fact.derived_from is None:
                env[fact.name] = DATE_DERIVATIONS[fact.derivation](as_of)
            elif fact.derived_from in env:
                source = env[fact.derived_from]
                env[fact.name] = None if source is None else DERIVATIONS[fact.derivation](source, as_of)
        return env

    def max_facts(self, subject: str) -> int:
        """The most keys one subject can hold: each fact the dictionary declares for it, and a codice fiscale."""
        return sum(1 for f in self.facts.values() if f.of(subject) and not f.computed) + 1

    def _check_size(self, raw: dict, subject: str, path: tuple) -> None:
        # Checked before any key is looked at, so that a subject of 100,000 unknown keys costs no more
        # than a well-formed one: more keys than the dictionary has facts cannot all be facts.
        limit = self.max_facts(subject)
        if len(raw) > limit:
            raise InputErrors([InputProblem(path, Code.TOO_MANY_ITEMS,
                                            _("{count} facts sent; a {subject} has at most {limit} (the facts of "
                                              "the dictionary)", count=len(raw), subject=subject, limit=limit))])

    @staticmethod
    def _coerce(fact: Fact, value):
        if value is None:
            if fact.nullable:
                return None
            raise BadValue(_("'{name}' may not be null", name=fact.name), echo=False)
        kind = fact.type.kind
        if kind == "date":
            return read_date(value)
        if kind == "boolean" or kind == "bool":
            return read_bool(value)
        if kind == "int":
            return in_range(read_whole(value), fact.minimum, fact.maximum)
        if kind == "decimal":
            return in_range(read_decimal(value, DECIMAL_PLACES), fact.minimum, fact.maximum)
        if kind == "enum":
            if fact.values_from == REGIONS_ENUM and not (isinstance(value, str) and value in fact.type.values):
                return _region(fact, value)
            return read_choice(value, fact.type.values)
        if kind == "list":
            if not isinstance(value, list):
                raise BadValue(_("expected a list"), value)
            if len(value) > len(fact.type.item.values):  # each value at most once (uniqueItems)
                raise BadValue(_("expected a list of at most {n} distinct values", n=len(fact.type.item.values)),
                               echo=False)
            return tuple(sorted({read_choice(item, fact.type.item.values) for item in value}))
        raise ValueError(f"unsupported type {kind}")  # unreachable: the dictionary is checked


REGIONS_ENUM = "regions"  # the shared list whose values may also be given as ISTAT codes or official names


def _region(fact: Fact, value):
    from .regions import closest, resolve
    region = resolve(value)
    if region is not None and region.almp_code in fact.type.values:
        return region.almp_code
    near = closest(value[:64]) if isinstance(value, str) else []
    expected = (_("not an Italian region: give the ISTAT code (e.g. '03'), the official name (e.g. 'Lombardia') "
                  "or almp's code (e.g. 'lombardia')")
                + ("; " + _("closest: {names}", names=", ".join(repr(v) for v in near)) if near else ""))
    raise BadValue(expected, message=_("{value} is {expected}", value=shown(value), expected=expected))


def load_dictionary(path: str | Path) -> FactDictionary:
    """Load ``facts.yaml``; raise ``PolicyErrors`` with file:line on a malformed declaration."""
    doc = load_file(path)
    return build_dictionary(doc)


def build_dictionary(doc: Document) -> FactDictionary:
    errors: list[PolicyError] = []

    def fail(path, message, hint=""):
        errors.append(PolicyError(Code.FACTS_ERROR, message, doc.location(path), hint))

    data = doc.data if isinstance(doc.data, dict) else {}
    enums: dict[str, Type] = {}
    for name, spec in (data.get("enums") or {}).items():
        values = spec.get("values") if isinstance(spec, dict) else None
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            fail(("enums", name), "an enum needs a non-empty list of text values")
            continue
        enums[name] = enum(values, name=name, ordered=bool(spec.get("ordered")))
    facts: dict[str, Fact] = {}
    raw_facts = data.get("facts")
    if not isinstance(raw_facts, dict):
        fail(("facts",), "'facts' must be a mapping of fact name to declaration")
        raw_facts = {}
    for name, spec in raw_facts.items():
        path = ("facts", name)
        if not isinstance(spec, dict):
            fail(path, "a fact declaration must be a mapping")
            continue
        typ = _parse_type(spec, enums, name, path, fail)
        if typ is None:
            continue
        derived = spec.get("derived")
        source = function = None
        if derived is not None:
            function, source = derived.get("function"), derived.get("from")
            known = {**DERIVATIONS, **DATE_DERIVATIONS}
            if function not in known:
                fail(path + ("derived", "function"), f"unknown derivation {function!r}", f"use one of {sorted(known)}")
            elif (function in DATE_DERIVATIONS) != (source is None):
                fail(path + ("derived",), f"derivation {function!r} " + ("takes no 'from'" if source else
                                                                         "needs 'from': a date fact"))
            elif _RESULT_TYPES[function] != typ:
                fail(path + ("type",), f"derivation {function!r} gives a {_RESULT_TYPES[function]}, "
                                       f"so the fact must be declared with that type")
        for key in ("label", "description"):
            if not isinstance(spec.get(key), str):
                fail(path + (key,), f"fact '{name}' needs a {key}")
        facts[name] = Fact(name=name, type=typ, label=spec.get("label", ""), description=spec.get("description", ""),
                           nullable=bool(spec.get("nullable")), derived_from=source, derivation=function,
                           minimum=_dec(spec.get("minimum")), maximum=_dec(spec.get("maximum")),
                           subject=spec.get("subject", "person"),
                           unit=_unit(spec.get("unit"), path, fail),
                           value_labels=_value_labels(spec, data.get("enums") or {}, path, fail),
                           values_from=spec.get("values") if isinstance(spec.get("values"), str) else "")
    for fact in list(facts.values()):
        if fact.derived_from:
            origin = facts.get(fact.derived_from)
            if origin is None or origin.type != DATE:
                fail(("facts", fact.name, "derived", "from"), f"'{fact.derived_from}' is not a declared date fact")
            elif origin.nullable:
                facts[fact.name] = Fact(**{**fact.__dict__, "nullable": True})
    for fact in list(facts.values()):
        # an age cannot be negative: the date an age is counted from (a birth) cannot lie after as_of
        origin = facts.get(fact.derived_from) if fact.derivation == "completed_years" else None
        if origin is not None and origin.type == DATE:
            facts[origin.name] = Fact(**{**origin.__dict__, "not_after_as_of": True})
    if errors:
        raise PolicyErrors(errors)
    return FactDictionary(facts, enums, doc.file)


def _parse_type(spec: dict, enums: dict, name: str, path: tuple, fail) -> Type | None:
    kind = spec.get("type")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "enum":
        values = spec.get("values")
        if isinstance(values, str):
            if values not in enums:
                fail(path + ("values",), f"unknown enum list '{values}'", suggest(values, enums))
                return None
            shared = enums[values]
            return enum(shared.values, name=name, ordered=shared.ordered)
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            return enum(values, name=name, ordered=bool(spec.get("ordered")))
        fail(path + ("values",), "an enum fact needs 'values': a list or the name of a shared enum")
        return None
    if kind == "list":
        item = spec.get("items")
        if not isinstance(item, dict):
            fail(path + ("items",), "a list fact needs 'items' with its item type")
            return None
        inner = _parse_type(item, enums, name, path + ("items",), fail)
        return list_of(inner) if inner else None
    fail(path + ("type",), f"unknown type {kind!r}", "use date, integer, decimal, boolean, enum or list")
    return None


UNITS = ("years", "months", "days", "euro", "percent", "count")


def _unit(unit, path, fail):
    if unit is not None and unit not in UNITS:
        fail(path + ("unit",), f"unknown unit {unit!r}", suggest(str(unit), UNITS) or f"use one of {', '.join(UNITS)}")
        return None
    return unit


def _value_labels(spec: dict, enums: dict, path, fail) -> dict:
    """The words for enum values: the fact's own ``value_labels``, over those of its shared enum."""
    out: dict = {}
    shared = enums.get(spec.get("values")) if isinstance(spec.get("values"), str) else None
    items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
    for where, source in ((("values",), shared), ((), spec), (("items",), items)):
        labels = source.get("value_labels") if isinstance(source, dict) else None
        if labels is None:
            continue
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in labels.items()):
            fail(path + where + ("value_labels",), "value_labels maps each value to its words (text: text)")
            continue
        out.update(labels)
    return out


def _dec(value):
    return None if value is None else Decimal(str(value))
