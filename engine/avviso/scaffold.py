"""Scaffold the next edition of a programme as a draft copied from the previous one.

The copy is textual: the officer's comments, ordering and layout survive, and only the
top-level ``version``, ``status``, ``valid_from`` and ``valid_to`` lines are rewritten.
Editing YAML by re-dumping it would lose every comment that explains a figure's provenance.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import AlmpError
from ..policy.model import Policy

_VERSION_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ScaffoldError(AlmpError):
    """The new edition cannot be written (bad version, file exists, no base edition)."""


@dataclass(frozen=True)
class Scaffold:
    base: Policy
    policy_path: Path
    tests_path: Path | None
    previous_valid_to: dt.date  # proposed end of the base edition
    previous_line: int  # line of the base edition's valid_to (0: it has none)
    previous_applied: bool


def _top_key_line(key: str) -> re.Pattern:
    # a top-level key sits at column 0; a trailing comment on the line is kept
    return re.compile(rf"^{key}:[ \t]*(?P<value>[^#\n]*?)(?P<rest>[ \t]*(#[^\n]*)?)$", re.M)


def set_top_level(text: str, key: str, value: str, after: str | None = None) -> str:
    """Replace the value of a top-level ``key:`` line, or insert it after the ``after`` key's line."""
    pattern = _top_key_line(key)
    match = pattern.search(text)
    if match:
        return text[:match.start("value")] + value + text[match.end("value"):]
    if after is None:
        raise ScaffoldError(f"no top-level '{key}:' line to change")
    anchor = _top_key_line(after).search(text)
    if not anchor:
        raise ScaffoldError(f"no top-level '{after}:' line to insert '{key}:' after")
    return text[:anchor.end()] + f"\n{key}: {value}" + text[anchor.end():]


def top_level_line(text: str, key: str) -> int:
    match = _top_key_line(key).search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def base_edition(editions: list[Policy], valid_from: dt.date) -> Policy:
    """The non-draft edition in force just before ``valid_from`` (the latest one that starts earlier)."""
    earlier = [p for p in editions if p.status != "draft" and p.valid_from < valid_from]
    if not earlier:
        starts = ", ".join(f"{p.version} from {p.valid_from}" for p in editions)
        raise ScaffoldError(f"no edition starts before {valid_from} to copy from ({starts})")
    return max(earlier, key=lambda p: p.valid_from)


def new_edition(root: Path, base: Policy, version: str, valid_from: dt.date, valid_to: dt.date | None = None,
                apply_previous: bool = False) -> Scaffold:
    """Write ``<version>.yaml`` (and its tests) beside ``base``; optionally end ``base`` the day before."""
    if not _VERSION_TEXT.match(version):
        raise ScaffoldError(f"'{version}' is not a usable version (letters, digits, '.', '_', '-')")
    if valid_to is not None and valid_to < valid_from:
        raise ScaffoldError(f"valid_to {valid_to} is before valid_from {valid_from}")
    base_path = root / base.bundle["policy_file"]
    folder = base_path.parent
    target = folder / f"{version}.yaml"
    if target.exists():
        raise ScaffoldError(f"{target}: already exists; choose another --version or delete the file")
    text = base.bundle["policy"]
    text = set_top_level(text, "version", f'"{version}"')
    text = set_top_level(text, "status", "draft")
    text = set_top_level(text, "valid_from", valid_from.isoformat())
    text = set_top_level(text, "valid_to", valid_to.isoformat() if valid_to else "null", after="valid_from")
    target.write_text(text, encoding="utf-8")

    tests_path = None
    base_tests = folder / f"{base.version}.tests.yaml"
    if base_tests.is_file():
        tests_path = folder / f"{version}.tests.yaml"
        if not tests_path.exists():
            tests_text = base_tests.read_text(encoding="utf-8")
            tests_text = set_top_level(tests_text, "version", f'"{version}"', after="policy")
            tests_path.write_text(tests_text, encoding="utf-8")

    proposed = valid_from - dt.timedelta(days=1)
    line = top_level_line(text := base_path.read_text(encoding="utf-8"), "valid_to")
    if apply_previous:
        base_path.write_text(set_top_level(text, "valid_to", proposed.isoformat(), after="valid_from"),
                             encoding="utf-8")
        line = line or top_level_line(base_path.read_text(encoding="utf-8"), "valid_to")
    return Scaffold(base, target, tests_path, proposed, line, apply_previous)
