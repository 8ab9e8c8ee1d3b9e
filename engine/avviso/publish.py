"""The moment a draft becomes law: checks that block it, and the publication record that seals it.

``blockers`` lists every reason an edition may not be published yet (validation is done by
loading it): failing or missing test cases, rules no test case exercises, open checklist
items, placeholders (unless a reason is given). ``seal`` sets ``status: published`` in the
file and writes ``<version>.publication.json`` beside it: who, when, the act (number and
date) it is published under, the file's sha256 and the edition's content hash.
``check_sealed`` is what ``almp validate`` runs: a published edition whose file no longer
matches its record is refused (a change needs a new version); a changed fact dictionary
is reported with the editions whose content hash it changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import Code, InputErrors, PolicyError, SourceLocation
from ..i18n import _, edition_name
from ..i18n import date as i18n_date
from ..policy.model import Policy
from . import checklist
from .scaffold import set_top_level

RECORD_FORMAT = "almp-publication/1"


@dataclass(frozen=True)
class Blocker:
    code: str  # stable English identifier
    message: str  # in the reader's language

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def sha256_text(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_path(policy_file: Path) -> Path:
    return Path(policy_file).with_name(f"{Path(policy_file).stem}.publication.json")


def read_record(policy_file: Path) -> dict | None:
    path = record_path(policy_file)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"format": "unreadable"}
    return data if isinstance(data, dict) else {"format": "unreadable"}


def rule_coverage(policy: Policy, cases: list[dict]) -> list[str]:
    """Rules (keys) that no test case makes true: each rule should be shown to decide something."""
    from ..decide.evaluate import prepare_facts
    fired: set[str] = set()
    for case in cases:
        person = case.get("person") if isinstance(case, dict) else None
        as_of = case.get("as_of") if isinstance(case, dict) else None
        if not isinstance(person, dict):
            continue
        try:
            day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
            env = prepare_facts(policy, person, day)
        except (InputErrors, ValueError, TypeError):
            continue
        points = 0
        for rule in policy.points:
            if _true(rule, env):
                fired.add(rule.key)
                points += int(rule.points.value or 0) if rule.points else 0
        env = {**env, "points": points}
        for rule in policy.rules():
            if rule.kind != "points" and _true(rule, env):
                fired.add(rule.key)
    return [rule.key for rule in policy.rules() if rule.key not in fired]


def _true(rule, env) -> bool:
    try:
        return rule.condition.fn(env) is True
    except Exception:  # noqa: BLE001 - a case that cannot be evaluated exercises nothing
        return False


def blockers(policy: Policy, policy_file: Path, test_results: list, cases: list[dict],
             allow_placeholders: str | None) -> list[Blocker]:
    out: list[Blocker] = []
    if policy.status == "published":
        out.append(Blocker("already_published", _("{name} is already published; a change needs a new version",
                                                  name=edition_name(policy))))
    if not test_results:
        out.append(Blocker("no_tests", _("no test case for this edition: write {file}",
                                         file=Path(policy_file).with_suffix(".tests.yaml").name)))
    for result in test_results:
        if not result.passed:
            out.append(Blocker("test_failed", _("test case failed: {file}:{line} {name}: {why}",
                                                file=Path(result.file).name, line=result.line, name=result.name,
                                                why="; ".join(str(f) for f in result.failures))))
    for key in rule_coverage(policy, cases) if test_results else []:
        out.append(Blocker("rule_not_covered", _("rule '{rule}' is never true in any test case: add a case "
                                                 "that shows it deciding", rule=key)))
    for item in checklist.pending(Path(policy_file)):
        out.append(Blocker("checklist_open", _("checklist item not confirmed: {item}", item=item)))
    holders = policy.placeholders
    if holders and not (allow_placeholders or "").strip():
        for fig in holders:
            out.append(Blocker("placeholder", _("placeholder {path} (line {line}): {missing}",
                                                path=".".join(str(p) for p in fig.path), line=fig.location.line,
                                                missing=fig.missing)))
    return out


def seal(policy: Policy, policy_file: Path, act_number: str, act_date: dt.date, by: str,
         placeholder_reason: str | None = None, now: dt.datetime | None = None) -> dict:
    """Mark the edition published in its file and write its publication record. Returns the record."""
    from ..policy.compiler import content_hash, make_bundle
    policy_file = Path(policy_file)
    text = policy_file.read_text(encoding="utf-8")
    text = set_top_level(text, "status", "published")
    policy_file.write_text(text, encoding="utf-8")
    bundle = make_bundle(text, policy.bundle["policy_file"], policy.bundle["facts"])
    record = {
        "format": RECORD_FORMAT,
        "edition": policy.key,
        "name": edition_name(policy),
        "published_by": by,
        "published_at": (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat(),
        "act": {"number": act_number, "date": act_date.isoformat()},
        "file_sha256": sha256_text(text),
        "content_hash": content_hash(bundle),
        "facts_sha256": sha256_text(policy.bundle["facts"]),
        "placeholders": [".".join(str(p) for p in f.path) for f in policy.placeholders],
        "placeholders_reason": placeholder_reason or None,
    }
    record_path(policy_file).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def _day(stamp) -> str:
    try:
        return i18n_date(str(stamp)[:10])
    except ValueError:
        return str(stamp)


def check_sealed(policy: Policy, policy_file: Path) -> tuple[list[PolicyError], list[str]]:
    """(errors, notes) for a published edition: its file must match its record."""
    record = read_record(policy_file)
    if policy.status != "published":
        return [], []
    where = SourceLocation(str(policy_file), 1, 1)
    if record is None or record.get("format") != RECORD_FORMAT:
        return [PolicyError(Code.POLICY_PUBLISHED_UNSEALED,
                            _("status is 'published' but there is no valid publication record ({file})",
                              file=record_path(policy_file).name), where,
                            _("publish with `almp publish`, which writes the record"))], []
    actual = sha256_text(policy.bundle["policy"])
    if actual != record.get("file_sha256"):
        return [PolicyError(Code.POLICY_PUBLISHED_CHANGED,
                            _("{name} was published on {day} under act {act} and its file has changed since",
                              name=record.get("name") or policy.key, day=_day(record.get("published_at")),
                              act=(record.get("act") or {}).get("number")), where,
                            _("restore the published text and make the change in a new version "
                              "(`almp new-avviso`)"))], []
    notes = []
    if sha256_text(policy.bundle["facts"]) != record.get("facts_sha256"):
        notes.append(_("the fact dictionary changed after {name} was published: its content hash is now {hash} "
                       "(recorded: {recorded})", name=record.get("name") or policy.key,
                       hash=policy.content_hash[:19], recorded=str(record.get("content_hash"))[:19]))
    return [], notes


def facts_lock_path(root: Path) -> Path:
    from ..policy.registry import FACTS_FILE
    return Path(root) / Path(FACTS_FILE).with_suffix(".lock")


def facts_change(root: Path, policies) -> tuple[str | None, str, list]:
    """(recorded, current, editions) when the fact dictionary differs from its lock, else (None, current, []).

    Every edition's content hash covers the dictionary, so any change to it gives every
    edition a new hash: the list says which, before anyone is surprised by it.
    """
    from ..policy.registry import FACTS_FILE
    current = sha256_text((Path(root) / FACTS_FILE).read_text(encoding="utf-8"))
    lock = facts_lock_path(root)
    recorded = lock.read_text(encoding="utf-8").strip() if lock.is_file() else None
    if recorded is None or recorded == current:
        return None, current, []
    return recorded, current, sorted(policies, key=lambda p: p.key)
