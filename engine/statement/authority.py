"""An authority's statement settings: its name, the appeal clause and the art. 10-bis notice.

One file per authority folder, ``policies/<authority>/authority.yaml``. It is deliberately not
part of any edition's bundle (an address or a court changing must not re-hash every edition):
a decision records the hash of the text it was stated under (``StatementBasis``) and the store
keeps that text, so a statement is always rendered with the clause in force when it was decided.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import PolicyError, PolicyErrors
from ..policy.loader import load_text

AUTHORITY_FILE = "authority.yaml"
SCHEMA = "almp/authority/1"
STATUSES = ("confirmed", "uncertain", "placeholder")
MAX_REMEDIES = 10


@dataclass(frozen=True)
class Remedy:
    body: str
    term_days: int
    start: str  # from when the term runs
    reference: str


@dataclass(frozen=True)
class Authority:
    """A checked ``authority.yaml``: what a statement says about who decides and how to appeal."""

    folder: str  # the authority folder, e.g. "lombardia"
    name: str
    remedies: tuple
    appeal_status: str
    notice_days: int
    notice_reference: str
    notice_how: str
    notice_status: str
    text: str  # the exact file text (stored with the decision)
    hash: str

    def as_dict(self) -> dict:
        return {"folder": self.folder, "name": self.name, "hash": self.hash,
                "appeal": {"status": self.appeal_status,
                           "remedies": [{"body": r.body, "term_days": r.term_days, "from": r.start,
                                         "reference": r.reference} for r in self.remedies]},
                "notice_10bis": {"status": self.notice_status, "term_days": self.notice_days,
                                 "reference": self.notice_reference, "how": self.notice_how}}


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def authority_folder(policy_id: str) -> str:
    """'lombardia/dote-unica-lavoro' -> 'lombardia'."""
    return policy_id.split("/", 1)[0]


def parse_authority(text: str, folder: str, file: str | None = None) -> Authority:
    """Check an authority text; raise ``PolicyErrors`` (file:line) naming every problem."""
    file = file or f"{folder}/{AUTHORITY_FILE}"
    doc = load_text(text, file)
    errors: list[PolicyError] = []

    def fail(path, message, hint=""):
        errors.append(PolicyError("authority_error", message, doc.location(path), hint))

    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(doc.data, dict):
        fail((), "an authority file is a mapping (schema, name, appeal, notice_10bis)")
    known = {"schema", "name", "appeal", "notice_10bis"}
    for key in data:
        if key not in known:
            fail((key,), f"unknown key '{key}'", f"allowed: {', '.join(sorted(known))}")
    if data.get("schema") != SCHEMA:
        fail(("schema",), f"schema must be '{SCHEMA}'")

    def text_at(mapping, key, path, required=True):
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
        if required:
            fail(path + (key,), f"'{key}' must be a non-empty text")
        return ""

    def days_at(mapping, key, path):
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
            fail(path + (key,), f"'{key}' must be a whole number of days (1-3650)")
            return 0
        return value

    def status_at(mapping, path):
        value = mapping.get("status", "confirmed") if isinstance(mapping, dict) else "confirmed"
        if value not in STATUSES:
            fail(path + ("status",), f"unknown status {value!r}", f"use one of {', '.join(STATUSES)}")
            return "placeholder"
        return value

    name = text_at(data, "name", ())
    appeal = data.get("appeal")
    if not isinstance(appeal, dict):
        fail(("appeal",), "'appeal' must be a mapping with 'remedies'")
        appeal = {}
    remedies = []
    raw_remedies = appeal.get("remedies")
    if not isinstance(raw_remedies, list) or not 1 <= len(raw_remedies) <= MAX_REMEDIES:
        fail(("appeal", "remedies"), f"'remedies' must list 1 to {MAX_REMEDIES} remedies (body, term_days, from)")
        raw_remedies = []
    for i, raw in enumerate(raw_remedies):
        path = ("appeal", "remedies", i)
        remedies.append(Remedy(body=text_at(raw, "body", path), term_days=days_at(raw, "term_days", path),
                               start=text_at(raw, "from", path), reference=text_at(raw, "reference", path)))
    notice = data.get("notice_10bis")
    if not isinstance(notice, dict):
        fail(("notice_10bis",), "'notice_10bis' must be a mapping with 'term_days' and 'reference'")
        notice = {}
    result = Authority(folder=folder, name=name, remedies=tuple(remedies), appeal_status=status_at(appeal, ("appeal",)),
                       notice_days=days_at(notice, "term_days", ("notice_10bis",)),
                       notice_reference=text_at(notice, "reference", ("notice_10bis",)),
                       notice_how=text_at(notice, "how", ("notice_10bis",), required=False),
                       notice_status=status_at(notice, ("notice_10bis",)), text=text, hash=text_hash(text))
    if errors:
        raise PolicyErrors(errors)
    return result


def load_authorities(root: str | Path) -> dict[str, Authority]:
    """Every ``<root>/<folder>/authority.yaml``, by folder; raise ``PolicyErrors`` on a bad one."""
    root = Path(root)
    found: dict[str, Authority] = {}
    errors: list[PolicyError] = []
    for path in sorted(root.glob(f"*/{AUTHORITY_FILE}")):
        try:
            found[path.parent.name] = parse_authority(path.read_text(encoding="utf-8"), path.parent.name, str(path))
        except PolicyErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise PolicyErrors(errors)
    return found
