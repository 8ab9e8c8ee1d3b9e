"""What changed between two editions, in a policy officer's words, ordered by effect.

Works on the plain document (``Policy.document`` or ``values.plain`` of a loaded file),
so it needs no compilation and sections it does not know (added to the format later,
e.g. service baskets or outcome payments) still show up, generically, as "other changes".
Lists of mappings with an ``id`` are matched by id, so reordering rules is not a change.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

# Order of effect: who gets in first, then what they get, then what it costs.
SECTIONS = ("eligibility", "parameters", "bands", "points", "other", "dates", "budget", "metadata")
SECTION_TITLES = {
    "eligibility": "Eligibility rules",
    "parameters": "Parameters (thresholds)",
    "bands": "Bands (fasce): conditions, values, durations",
    "points": "Profiling points",
    "other": "Services, caps, unit costs, outcome payments and other sections",
    "dates": "Dates and status",
    "budget": "Budget",
    "metadata": "Title, acts, sources and notes",
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


def render_text(changes: list[Change], title_a: str, title_b: str) -> str:
    if not changes:
        return f"{title_a} → {title_b}: no changes\n"
    lines = [f"{title_a} → {title_b}: {len(changes)} change(s)"]
    section = None
    for change in changes:
        if change.section != section:
            section = change.section
            lines.append("")
            lines.append(SECTION_TITLES[section])
        lines.append("  " + change.text)
    return "\n".join(lines) + "\n"


def as_json(changes: list[Change], a: str, b: str) -> dict:
    counts = {s: sum(c.section == s for c in changes) for s in SECTIONS}
    return {"from": a, "to": b, "changed": bool(changes), "counts": {k: v for k, v in counts.items() if v},
            "changes": [c.as_dict() for c in changes]}
