"""What changed between two editions, in a policy officer's words, ordered by effect.

Works on the plain document (``Policy.document`` or ``values.plain`` of a loaded file),
so it needs no compilation and sections it does not know (added to the format later,
e.g. service baskets or outcome payments) still show up, generically, as "other changes".
Lists of mappings with an ``id`` are matched by id, so reordering rules is not a change.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal

from ..expr.italian import describe
from ..i18n import N_, _, edition_name, money, ngettext, quantity
from ..i18n import date as date_text, number as number_text

# Order of effect: who gets in first, then what they get, then what it costs.
SECTIONS = ("eligibility", "parameters", "bands", "points", "other", "dates", "budget", "metadata")
SECTION_TITLES = {
    "eligibility": N_("Eligibility rules"),
    "parameters": N_("Parameters (thresholds)"),
    "bands": N_("Bands (fasce): conditions, values, durations"),
    "points": N_("Profiling points"),
    "other": N_("Services, caps, unit costs, outcome payments and other sections"),
    "dates": N_("Dates and status"),
    "budget": N_("Budget"),
    "metadata": N_("Title, acts, sources and notes"),
}
_DATES = ("valid_from", "valid_to", "status")
_META = ("id", "version", "title", "authority", "summary", "subject", "legal_basis", "sources", "notes", "changelog",
         "uncertain", "facts", "provenance")
_KNOWN = {"eligibility", "parameters", "bands", "points", "budget", *_DATES, *_META}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING = object()


@dataclass(frozen=True)
class Change:
    section: str
    kind: str  # added | removed | changed
    subject: str  # what it is about, e.g. "fascia 3 (alta)"
    field: str  # which aspect, e.g. "amount"; "" for a whole item
    before: object
    after: object
    path: str  # JSON path in the newer document

    @property
    def text(self) -> str:
        what = f"{self.subject}: {self.field}" if self.field else self.subject
        if self.kind == "added":
            return f"+ {what} added: {_show(self.after)}"
        if self.kind == "removed":
            return f"- {what} removed (was {_show(self.before)})"
        return f"~ {what}: {_show(self.before)} → {_show(self.after)}"

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text}


def _show(value) -> str:
    if isinstance(value, dict) and "value" in value:
        status = value.get("status")
        return f"{value['value']}" + (f" ({status})" if status and status != "confirmed" else "")
    if isinstance(value, str):
        return f"'{value}'" if len(value) < 160 else f"'{value[:157]}...'"
    if value is None:
        return "none"
    text = str(value)
    return text if len(text) < 160 else text[:157] + "..."


def _key(item, index: int):
    if isinstance(item, dict):
        for name in ("id", "code"):  # rules and bands have ids, basket services have codes
            if isinstance(item.get(name), (str, int)):
                return ("id", item[name])
    return ("index", index)


def _by_key(items) -> dict:
    return {_key(item, i): item for i, item in enumerate(items or [])}


def _label(prefix: str, item: dict | None, key) -> str:
    ident = key[1] if key[0] == "id" else f"#{key[1] + 1}"
    label = (item or {}).get("label")
    return f"{prefix} '{ident}'" + (f" ({label})" if isinstance(label, str) and len(label) < 60 else "")


def _path(parts) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, tuple):
            out += f"[id={part[1]}]" if part[0] == "id" else f"[{part[1]}]"
        else:
            out += f".{part}"
    return out


def _walk(a, b, parts: tuple):
    """Leaf differences as (path parts, before, after); figures compare as one leaf."""
    if a == b:
        return
    # a section that appears or disappears is listed key by key (figures stay whole)
    if a is _MISSING and isinstance(b, dict) and "value" not in b:
        a = {}
    elif b is _MISSING and isinstance(a, dict) and "value" not in a:
        b = {}
    if isinstance(a, dict) and isinstance(b, dict) and not ("value" in a and "value" in b):
        for k in list(a) + [k for k in b if k not in a]:
            yield from _walk(a.get(k, _MISSING), b.get(k, _MISSING), parts + (k,))
        return
    # a section of identified items that appears or disappears is listed item by item
    a_items = [] if a is _MISSING and isinstance(b, list) else a
    b_items = [] if b is _MISSING and isinstance(a, list) else b
    if isinstance(a_items, list) and isinstance(b_items, list) and (a_items or b_items) and \
            all(_key(x, 0)[0] == "id" for x in a_items + b_items):
        a, b = a_items, b_items
        ka, kb = _by_key(a), _by_key(b)
        for k in list(ka) + [k for k in kb if k not in ka]:
            if k in ka and k in kb:
                yield from _walk(ka[k], kb[k], parts + (k,))
            else:  # an item added or removed is one change, shown whole
                yield parts + (k,), ka.get(k, _MISSING), kb.get(k, _MISSING)
        return
    yield parts, a, b


def _change(section, subject, field, before, after, parts) -> Change:
    kind = "added" if before is _MISSING else "removed" if after is _MISSING else "changed"
    return Change(section, kind, subject, field, None if before is _MISSING else before,
                  None if after is _MISSING else after, _path(parts))


def _field_name(parts: tuple) -> str:
    return ".".join(str(p[1]) if isinstance(p, tuple) else str(p) for p in parts)


def _items(section: str, prefix: str, a: list, b: list, nested: str | None = None):
    ka, kb = _by_key(a), _by_key(b)
    for key in list(ka) + [k for k in kb if k not in ka]:
        old, new = ka.get(key, _MISSING), kb.get(key, _MISSING)
        item = new if new is not _MISSING else old
        subject = _label(prefix, item, key)
        if old is _MISSING or new is _MISSING:
            # an added or removed rule is shown by its condition, which is what it does
            shown = _summary(item)
            yield _change(section, subject, "", _MISSING if old is _MISSING else shown,
                          _MISSING if new is _MISSING else shown, (section, key))
            continue
        for parts, before, after in _walk(old, new, ()):
            if nested and parts and parts[0] == nested and len(parts) > 1:
                sub = next((x for x in (new.get(nested) or []) + (old.get(nested) or [])
                            if _key(x, 0) == parts[1]), None)
                field = _field_name(parts[2:])
                if not field:
                    before, after = (b if b is _MISSING else _summary(b) for b in (before, after))
                yield _change(section, f"{subject} › {_label('alternative', sub, parts[1])}",
                              "condition" if field == "when" else field, before, after, (section, key) + parts)
                continue
            field = "condition" if parts == ("when",) else _field_name(parts)
            if field.startswith("benefit."):
                field = field[len("benefit."):]
            yield _change(section, subject, field, before, after, (section, key) + parts)


def _summary(item):
    if not isinstance(item, dict):
        return item
    if "when" in item:
        return item["when"]
    if "any_of" in item:
        return " or ".join(f"({alt.get('when')})" for alt in item["any_of"] if isinstance(alt, dict))
    return item.get("label", item)


def _readers(doc: dict) -> dict[str, list[str]]:
    """Which rules read each parameter (by name in their condition text)."""
    out: dict[str, list[str]] = {}

    def note(where: str, text):
        if isinstance(text, str):
            for name in set(_WORD.findall(text)):
                out.setdefault(name, []).append(where)

    for rule in doc.get("eligibility") or []:
        note(f"eligibility {rule.get('id')}", rule.get("when"))
        for alt in rule.get("any_of") or []:
            note(f"eligibility {rule.get('id')}/{alt.get('id')}", alt.get("when"))
    for rule in doc.get("points") or []:
        note(f"points {rule.get('id')}", rule.get("when"))
    for band in doc.get("bands") or []:
        note(f"fascia {band.get('id')}", band.get("when"))
    return out


def diff_documents(a: dict, b: dict) -> list[Change]:
    """Every change from edition ``a`` to edition ``b``, most consequential first."""
    changes: list[Change] = []
    changes += _items("eligibility", "rule", a.get("eligibility") or [], b.get("eligibility") or [], "any_of")
    pa, pb = a.get("parameters") or {}, b.get("parameters") or {}
    readers = _readers(b)
    readers_a = _readers(a)
    for name in list(pa) + [k for k in pb if k not in pa]:
        old, new = pa.get(name, _MISSING), pb.get(name, _MISSING)
        if old == new:
            continue
        used = readers.get(name) or readers_a.get(name) or []
        subject = f"parameter {name}" + (f" (read by {', '.join(used)})" if used else "")
        if old is _MISSING or new is _MISSING:
            changes.append(_change("parameters", subject, "", old, new, ("parameters", name)))
            continue
        if isinstance(old, dict) and isinstance(new, dict) and old.get("value") != new.get("value"):
            changes.append(_change("parameters", subject, "value", old, new, ("parameters", name)))
        for parts, before, after in _walk({k: v for k, v in old.items() if k != "value"} if isinstance(old, dict)
                                          else old,
                                          {k: v for k, v in new.items() if k != "value"} if isinstance(new, dict)
                                          else new, ()):
            changes.append(_change("parameters", subject, _field_name(parts), before, after,
                                   ("parameters", name) + parts))
    changes += _items("bands", "fascia", a.get("bands") or [], b.get("bands") or [])
    changes += _items("points", "points rule", a.get("points") or [], b.get("points") or [])
    for key in [k for k in a if k not in _KNOWN] + [k for k in b if k not in _KNOWN and k not in a]:
        for parts, before, after in _walk(a.get(key, _MISSING), b.get(key, _MISSING), (key,)):
            changes.append(_change("other", key, _field_name(parts[1:]), before, after, parts))
    for key in _DATES:
        if a.get(key) != b.get(key):
            changes.append(_change("dates", key, "", a.get(key), b.get(key), (key,)))
    for parts, before, after in _walk(a.get("budget", _MISSING), b.get("budget", _MISSING), ("budget",)):
        changes.append(_change("budget", "budget", _field_name(parts[1:]), before, after, parts))
    for key in _META:
        if key == "version":
            continue
        for parts, before, after in _walk(a.get(key, _MISSING), b.get(key, _MISSING), (key,)):
            changes.append(_change("metadata", key, _field_name(parts[1:]), before, after, parts))
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(changes, key=lambda c: order[c.section])  # stable: file order within a section


def render_text(changes: list[Change], old: dict, new: dict, dictionary=None, lang: str | None = None) -> str:
    """The changes as sentences an officer reads, grouped by section, with edition names (not ids)."""
    words = _Words(old, new, dictionary, lang)
    head_a, head_b = edition_name(old), edition_name(new)
    if not changes:
        return _("{old} → {new}: no changes", lang=lang, old=head_a, new=head_b) + "\n"
    lines = [ngettext("{old} → {new}: {n} change", "{old} → {new}: {n} changes", len(changes), lang=lang,
                      old=head_a, new=head_b, n=len(changes))]
    section = None
    for change in changes:
        if change.section != section:
            section = change.section
            lines.append("")
            lines.append(_(SECTION_TITLES[section], lang=lang))
        lines.append("  • " + words.sentence(change))
    return "\n".join(lines) + "\n"


def sentences(changes: list[Change], old: dict, new: dict, dictionary=None, lang: str | None = None) -> list[str]:
    """Each change as the sentence ``render_text`` gives it (for pages that lay the changes out themselves)."""
    words = _Words(old, new, dictionary, lang)
    return [words.sentence(change) for change in changes]


_PATH_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[id=([^\]]+)\]|\[(\d+)\]")


def _parts(path: str) -> list:
    out = []
    for m in _PATH_PART.finditer(path):
        if m.group(1) is not None:
            out.append(m.group(1))
        elif m.group(2) is not None:
            out.append(("id", m.group(2)))
        else:
            out.append(("index", int(m.group(3))))
    return out


class _Words:
    """Sentences for changes: conditions read aloud, figures with their unit, references by act."""

    def __init__(self, old: dict, new: dict, dictionary, lang):
        self.old, self.new, self.dictionary, self.lang = old, new, dictionary, lang
        self.params = {"old": old.get("parameters") or {}, "new": new.get("parameters") or {}}
        self.units = {}
        try:
            from ..policy.units import parameter_units
            self.units = {**parameter_units(old, dictionary), **parameter_units(new, dictionary)}
        except Exception:  # noqa: BLE001 - units only improve the wording
            self.units = {}

    def t(self, message, **fields):
        return _(message, lang=self.lang, **fields)

    def field(self, name: str) -> str:
        """A changed attribute in words (the YAML key when it has none)."""
        return self.t(FIELD_WORDS[name]) if name in FIELD_WORDS else name

    def cond(self, text, side="new") -> str:
        if not isinstance(text, str):
            return self.value(text)
        return "«" + describe(text, self.dictionary, self.params[side], self.lang) + "»"

    def figure(self, value, unit=None) -> str:
        status = None
        if isinstance(value, dict) and "value" in value:
            status, value = value.get("status"), value.get("value")
        if value is None:
            shown = self.t("no value")
        else:
            try:
                number = Decimal(str(value))
                shown = quantity(number, unit, self.lang) if unit in ("euro", "years", "months", "days") \
                    else money(number, self.lang) if unit == "money" else number_text(number, self.lang)
            except (ArithmeticError, ValueError):
                shown = self.value(value)
        if status and status != "confirmed":
            shown += " (" + self.t(STATUS_WORDS.get(status, status)) + ")"
        return shown

    def value(self, value) -> str:
        if value is None:
            return self.t("nothing")
        if isinstance(value, dict):
            if "value" in value:
                return self.figure(value)
            if "when" in value or "any_of" in value:
                return self.cond(_summary(value))
            inner = "; ".join(f"{k}: {self.value(v)}" for k, v in value.items() if k not in ("note",))
            return inner[:200] + ("…" if len(inner) > 200 else "")
        if isinstance(value, list):
            inner = ", ".join(self.value(v) for v in value)
            return inner[:200] + ("…" if len(inner) > 200 else "")
        if isinstance(value, bool):
            return self.t("yes") if value else self.t("no")
        text = str(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date_text(text, self.lang)
            except ValueError:  # looks like a date but is none (2019-02-30): show it as written
                pass
        return "«" + (text if len(text) < 160 else text[:157] + "…") + "»"

    def item(self, section: str, ident: str, side: str = "new"):
        doc = self.new if side == "new" else self.old
        for it in doc.get(section) or []:
            if isinstance(it, dict) and str(it.get("id", it.get("code"))) == ident:
                return it
        other = self.old if side == "new" else self.new
        for it in other.get(section) or []:
            if isinstance(it, dict) and str(it.get("id", it.get("code"))) == ident:
                return it
        return {}

    def reference(self, item: dict) -> str:
        ref = item.get("reference") if isinstance(item, dict) else None
        if not isinstance(ref, dict):
            return ""
        acts = {a.get("id"): a for a in (self.new.get("legal_basis") or []) + (self.old.get("legal_basis") or [])
                if isinstance(a, dict)}
        act = acts.get(ref.get("act"), {})
        text = act.get("title") or ref.get("act") or ""
        if ref.get("article"):
            text += ", " + str(ref["article"])
        return " — " + self.t("reference: {ref}", ref=text) if text else ""

    def sentence(self, c: Change) -> str:
        parts = _parts(c.path)
        if isinstance(c.before, dict) and isinstance(c.after, dict) and "value" in c.before and \
                "value" in c.after and str(c.before["value"]) == str(c.after["value"]):
            # same figure, other provenance: say what changed about where it comes from
            what = "; ".join(k + ": " + self.value(c.after.get(k)) + " (" +
                             self.t("was {before}", before=self.value(c.before.get(k))) + ")"
                             for k in sorted(set(c.before) | set(c.after))
                             if k != "value" and c.before.get(k) != c.after.get(k))
            where = ".".join(str(p[1]) if isinstance(p, tuple) else p for p in parts)
            return self.t("{where}: same value {value}, provenance changed: {what}", where=where,
                          value=self.figure(c.after["value"]), what=what)
        try:
            if c.section in ("eligibility", "points"):
                return self.rule(c, parts)
            if c.section == "parameters":
                return self.parameter(c, parts)
            if c.section == "bands":
                return self.band(c, parts)
            if c.section == "dates":
                return self.dates(c)
            if c.section == "budget":
                return self.t("Budget{field}: {after} (was {before})", field=(" " + c.field) if c.field else "",
                              after=self.figure(c.after, "euro"), before=self.figure(c.before, "euro"))
        except (KeyError, IndexError, TypeError, ValueError):
            pass
        where = ".".join(str(p[1]) if isinstance(p, tuple) else p for p in parts)
        if c.kind == "added":
            return self.t("{where} added: {after}", where=where, after=self.value(c.after))
        if c.kind == "removed":
            return self.t("{where} removed (was {before})", where=where, before=self.value(c.before))
        return self.t("{where}: {after} (was {before})", where=where, after=self.value(c.after),
                      before=self.value(c.before))

    def rule(self, c: Change, parts) -> str:
        section = parts[0]
        ident = parts[1][1]
        item = self.item(section, ident, "old" if c.kind == "removed" else "new")
        kind = self.t("eligibility rule") if section == "eligibility" else self.t("points rule")
        name = f"{kind} «{item.get('label') or ident}»"
        if len(parts) > 3 and parts[2] == "any_of":
            alt = next((a for a in item.get("any_of") or [] if str(a.get("id")) == parts[3][1]), {})
            name += " › " + self.t("case «{label}»", label=alt.get("label") or parts[3][1])
            rest = parts[4:]
        else:
            rest = parts[2:]
        field = rest[0] if rest and isinstance(rest[0], str) else ""
        if c.kind == "added" and not field:
            return self.t("New {name}: {condition}", name=name, condition=self.cond(c.after)) + self.reference(item)
        if c.kind == "removed" and not field:
            return self.t("Removed {name} (was: {condition})", name=name, condition=self.cond(c.before, "old")) + \
                self.reference(item)
        if field == "when" or c.field == "condition":
            return self.t("{name}: the condition becomes {after} (was {before})", name=name,
                          after=self.cond(c.after), before=self.cond(c.before, "old")) + self.reference(item)
        if field == "points":
            return self.t("{name} is worth {after} points (was {before})", name=name,
                          after=self.figure(c.after), before=self.figure(c.before))
        return self.t("{name}: {field} becomes {after} (was {before})", name=name, field=self.field(c.field or field),
                      after=self.value(c.after), before=self.value(c.before))

    def parameter(self, c: Change, parts) -> str:
        name = parts[1]
        unit = self.units.get(name)
        threshold = self.threshold(name)
        who = f"{threshold} ({name})" if threshold else self.t("parameter {name}", name=name)
        if c.kind == "added":
            return self.t("New {who}: {after}", who=who, after=self.figure(c.after, unit))
        if c.kind == "removed":
            return self.t("Removed {who} (was {before})", who=who, before=self.figure(c.before, unit))
        if c.field in ("", "value"):
            return self.t("{who} goes from {before} to {after}", who=who[:1].upper() + who[1:],
                          before=self.figure(c.before, unit), after=self.figure(c.after, unit))
        return self.t("{who}: {field} becomes {after} (was {before})", who=who, field=self.field(c.field),
                      after=self.value(c.after), before=self.value(c.before))

    def threshold(self, param: str) -> str:
        """'the minimum age' for a parameter compared as ``age >= param`` (the words of its fact)."""
        from ..expr import nodes as n
        from ..expr.parser import parse
        facts = getattr(self.dictionary, "facts", {}) or {}
        for doc in (self.new, self.old):
            for text in _conditions_of(doc):
                try:
                    tree = parse(text)
                except Exception:  # noqa: BLE001
                    continue
                for node in n.walk(tree):
                    if isinstance(node, n.Compare) and isinstance(node.left, n.Name) and \
                            isinstance(node.right, n.Name):
                        for fact, other, op in ((node.left.name, node.right.name, node.op),
                                                (node.right.name, node.left.name, _MIRROR[node.op])):
                            if other == param and fact in facts:
                                label = facts[fact].label
                                label = label[:1].lower() + label[1:] if label[1:2].islower() else label
                                if op in (">=", ">"):
                                    return self.t("the minimum {fact}", fact=label)
                                if op in ("<=", "<"):
                                    return self.t("the maximum {fact}", fact=label)
        return ""

    def band(self, c: Change, parts) -> str:
        ident = parts[1][1]
        item = self.item("bands", ident, "old" if c.kind == "removed" else "new")
        name = self.t("Fascia {id}", id=ident) + (f" ({item['label']})" if item.get("label") else "")
        if c.kind == "added" and c.field == "":
            return self.t("New {name}: {condition}", name=name, condition=self.cond(c.after))
        if c.kind == "removed" and c.field == "":
            return self.t("Removed {name} (was: {condition})", name=name, condition=self.cond(c.before, "old"))
        if c.field == "amount":
            return self.t("{name} is worth {after} (was {before})", name=name, after=self.figure(c.after, "euro"),
                          before=self.figure(c.before, "euro"))
        if c.field == "duration_months":
            return self.t("{name} lasts {after} (was {before})", name=name, after=self.figure(c.after, "months"),
                          before=self.figure(c.before, "months"))
        if c.field == "condition":
            return self.t("{name}: the condition becomes {after} (was {before})", name=name,
                          after=self.cond(c.after), before=self.cond(c.before, "old"))
        return self.t("{name}: {field} becomes {after} (was {before})", name=name, field=self.field(c.field),
                      after=self.value(c.after), before=self.value(c.before))

    def dates(self, c: Change) -> str:
        words = {"valid_from": N_("Valid from"), "valid_to": N_("Valid until"), "status": N_("Status")}
        if c.subject == "status":
            after, before = (self.t(STATUS_NAMES.get(v, str(v))) for v in (c.after, c.before))
        else:
            after = self.value(c.after) if c.after is not None else self.t("open")
            before = self.value(c.before) if c.before is not None else self.t("open")
        return self.t("{what}: {after} (was {before})", what=self.t(words.get(c.subject, c.subject)),
                      after=after, before=before)


# attributes of a rule, band or parameter, as an officer names them
FIELD_WORDS = {"reason": N_("reason given"), "note": N_("note"), "label": N_("description"),
               "source": N_("source"), "status": N_("figure status"), "max_doti": N_("maximum number of doti"),
               "reference.act": N_("act referred to"), "reference.article": N_("article referred to"),
               "reference.title": N_("title of the reference")}
STATUS_NAMES = {"draft": N_("draft"), "active": N_("active"), "closed": N_("closed"), "published": N_("published")}
_MIRROR = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "==", "!=": "!="}
STATUS_WORDS = {"placeholder": N_("placeholder"), "uncertain": N_("uncertain"), "confirmed": N_("confirmed")}


def _conditions_of(doc: dict):
    for section in ("eligibility", "points", "bands"):
        for item in doc.get(section) or []:
            if isinstance(item, dict):
                if isinstance(item.get("when"), str):
                    yield item["when"]
                for alt in item.get("any_of") or []:
                    if isinstance(alt, dict) and isinstance(alt.get("when"), str):
                        yield alt["when"]


def as_json(changes: list[Change], a: str, b: str) -> dict:
    counts = {s: sum(c.section == s for c in changes) for s in SECTIONS}
    return {"from": a, "to": b, "changed": bool(changes), "counts": {k: v for k, v in counts.items() if v},
            "changes": [c.as_dict() for c in changes]}
