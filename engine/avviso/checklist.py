"""What an officer must confirm in a new edition copied from the previous one (``CHECKLIST.md``).

``almp new-avviso`` copies last edition's text: its dated texts, legal references, figures
and test cases may no longer apply. ``build`` lists each of them with its line in the new
file; ``write`` makes the Markdown task list beside the draft (``<version>.CHECKLIST.md``);
``pending`` says which items are still open: an item is closed when its box is ticked
(``- [x]``) or when the copied line no longer appears in the file (the officer changed it).
Each item carries the copied line's fingerprint, so editing above it (lines moving) does
not reopen or close anything.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_, _

_ITEM = re.compile(r"^- \[(?P<tick>[ xX])\] (?P<text>.*?)\s*<!-- (?P<kind>[a-z]+):(?P<fp>[0-9a-f]{12}) -->\s*$")
_DATED = re.compile(r"\b(19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_KIND_WORDS = {"date": N_("dated text"), "reference": N_("reference"), "figure": N_("figure"), "test": N_("test case")}
# keys whose copied text is the edition's own identity: rewritten by new-avviso or checked elsewhere
_SKIP_KEYS = ("version:", "status:", "valid_from:", "valid_to:", "id:", "policy:", "schema:")


@dataclass(frozen=True)
class Item:
    kind: str  # date | reference | figure | test
    file: str  # file name beside the checklist
    line: int
    text: str  # the copied line, stripped
    fingerprint: str

    def describe(self) -> str:
        return f"{self.file}:{self.line}: {_(_KIND_WORDS[self.kind])}: {self.text[:110]}"


def fingerprint(line: str) -> str:
    return hashlib.sha256(line.strip().encode("utf-8")).hexdigest()[:12]


def checklist_path(policy_path: Path) -> Path:
    return policy_path.with_name(f"{policy_path.stem}.CHECKLIST.md")


def _kind_of_policy_line(line: str, section: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or stripped.startswith(_SKIP_KEYS):
        return None
    if section in ("legal_basis", "sources") and re.match(r"-?\s*(id|title|date|url|note):", stripped):
        return "reference" if stripped.lstrip("- ").startswith(("title:", "date:")) else None
    if re.search(r"\bvalue:\s*[^\s,}]", stripped) or re.match(r"amount:\s*[0-9]", stripped):
        return "figure"
    if re.search(r"\breference:\s*\{", stripped) or stripped.startswith("article:"):
        return "reference"
    if _DATED.search(stripped) and re.match(r"-?\s*[a-z_]+:\s*\S", stripped) and \
            not stripped.lstrip("- ").startswith(("when:", "url:")):
        return "date"
    return None


def build(policy_path: Path, tests_path: Path | None = None) -> list[Item]:
    """Every copied line of the draft (and its tests) that the officer must confirm or change."""
    items: list[Item] = []
    section = ""
    for number, line in enumerate(policy_path.read_text(encoding="utf-8").splitlines(), 1):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            section = top.group(1)
        kind = _kind_of_policy_line(line, section)
        if kind:
            items.append(Item(kind, policy_path.name, number, line.strip(), fingerprint(line)))
    if tests_path is not None and tests_path.is_file():
        for number, line in enumerate(tests_path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^\s*-\s*(name|id):\s*\S", line):
                items.append(Item("test", tests_path.name, number, line.strip(), fingerprint(line)))
    return items


def render(items: list[Item], edition: str, base: str) -> str:
    title = _("Checklist of {edition}", edition=edition)
    lines = ["# " + title, "",
             _("Copied from {base}. Tick each item (- [x]) once confirmed, or change the line: "
               "`almp validate` warns until every item is ticked or changed, and `almp publish` refuses.",
               base=base), ""]
    for item in items:
        lines.append(f"- [ ] {item.describe()} <!-- {item.kind}:{item.fingerprint} -->")
    return "\n".join(lines) + "\n"


def write(policy_path: Path, tests_path: Path | None, edition: str, base: str) -> tuple[Path, list[Item]]:
    items = build(policy_path, tests_path)
    path = checklist_path(policy_path)
    path.write_text(render(items, edition, base), encoding="utf-8")
    return path, items


def pending(policy_path: Path) -> list[str]:
    """Open items of the draft's checklist (their text, file:line first); [] without a checklist."""
    path = checklist_path(policy_path)
    if not path.is_file():
        return []
    texts = {}
    for candidate in (policy_path, policy_path.with_name(f"{policy_path.stem}.tests.yaml")):
        if candidate.is_file():
            texts[candidate.name] = {fingerprint(line) for line in
                                     candidate.read_text(encoding="utf-8").splitlines() if line.strip()}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ITEM.match(line)
        if not match or match.group("tick") != " ":
            continue
        file = match.group("text").split(":", 1)[0]
        if match.group("fp") in texts.get(file, set()):
            out.append(match.group("text"))
    return out
