"""Find, load and check every policy edition under a folder; pick the edition in force.

Layout: ``<root>/national/facts.yaml`` (the fact dictionary) and one file per edition at
``<root>/<authority>/<programme>/<version>.yaml``; test cases sit beside an edition as
``<version>.tests.yaml``.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .bands import check_bands
from .catalogue import attach_shared_texts
from .compiler import compile_policy, make_bundle
from ..errors import Code, PolicyError, PolicyErrors, PolicyNotFound, SourceLocation
from .facts import FactDictionary, build_dictionary
from .model import Policy
from ..i18n import _, date
from ..suggest import closest
from .loader import load_file, load_text

FACTS_FILE = Path("national") / "facts.yaml"
_ID = re.compile(r"^[a-z][a-z0-9-]*/[a-z][a-z0-9-]*$")
_SHARED = {"facts.yaml", "services.yaml", "region-groups.yaml"}


def find_root(path: Path) -> Path:
    """The policies root for a file or folder inside it (the folder holding national/facts.yaml)."""
    path = path.resolve()
    for candidate in [path, *path.parents]:
        if (candidate / FACTS_FILE).is_file():
            return candidate
    raise PolicyErrors([PolicyError(Code.POLICY_IO_ERROR, "no national/facts.yaml found above this path",
                                    SourceLocation(str(path)), "run from the repository or pass the policies folder")])


def edition_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*/*.yaml")
                  if not p.name.endswith(".tests.yaml") and p.name not in _SHARED)


class Registry:
    """Every edition of every programme under one policies root, checked together."""

    def __init__(self, root: Path, dictionary: FactDictionary, facts_text: str, policies: list[Policy]):
        self.root = root
        self.dictionary = dictionary
        self.facts_text = facts_text
        self.policies = policies
        self.by_id: dict[str, list[Policy]] = {}
        for policy in policies:
            self.by_id.setdefault(policy.id, []).append(policy)
        for editions in self.by_id.values():
            editions.sort(key=lambda p: p.valid_from)

    @classmethod
    def load(cls, root: str | Path, only: list[Path] | None = None, *, analyse_bands: bool = True) -> "Registry":
        """Load and check editions (all under ``root``, or just ``only``); raise ``PolicyErrors``.

        ``analyse_bands=False`` skips the band overlap/gap analysis (most of the load time): for
        processes loading files another process has just checked (``almp serve`` workers).
        """
        root = Path(root).resolve()
        facts_path = root / FACTS_FILE
        facts_doc = load_file(facts_path)
        dictionary = build_dictionary(facts_doc)
        errors: list[PolicyError] = []
        policies: list[Policy] = []
        files = edition_files(root)
        for path in files:
            try:
                doc = load_file(path)
                bundle = make_bundle(doc.text, str(path.relative_to(root)), facts_doc.text)
                bundle = attach_shared_texts(bundle, doc.data, root)  # service catalogue, region groups
                policy = compile_policy(doc, dictionary, bundle)
            except PolicyErrors as exc:
                if only is None or path.resolve() in only:
                    errors.extend(exc.errors)
                continue
            errors.extend(_check_placement(policy, path, root, doc.location))
            if analyse_bands and (only is None or path.resolve() in only):
                errors.extend(check_bands(policy, doc.location))
            policies.append(policy)
        errors.extend(_check_windows(policies))
        if only is not None:
            errors = [e for e in errors if Path(e.location.file).resolve() in only or not e.location.file]
        if errors:
            raise PolicyErrors(errors)
        return cls(root, dictionary, facts_doc.text, policies)

    # -- lookup ------------------------------------------------------------------------------
    def editions(self, policy_id: str) -> list[Policy]:
        if not _ID.match(policy_id or ""):
            raise PolicyNotFound(_("'{id}' is not a policy id (authority/programme)", id=policy_id))
        if policy_id not in self.by_id:
            near = closest(policy_id, self.by_id)
            raise PolicyNotFound(_("no policy '{id}'", id=policy_id)
                                 + ("; " + _("did you mean '{name}'?", name=near) if near else ""))
        return self.by_id[policy_id]

    def get(self, policy_id: str, version: str | None = None, as_of: dt.date | None = None) -> Policy:
        """The pinned ``version``, or the non-draft edition in force on ``as_of``."""
        editions = self.editions(policy_id)
        if version is not None:
            for policy in editions:
                if policy.version == version:
                    return policy
            raise PolicyNotFound(_("policy '{id}' has no version '{version}' (versions: {versions})", id=policy_id,
                                   version=version, versions=", ".join(p.version for p in editions)))
        if as_of is None:
            raise PolicyNotFound(_("give as_of (the date of the application) or a version"))
        live = [p for p in editions if p.status != "draft" and p.in_force(as_of)]
        if not live:
            still = _("open")
            windows = "; ".join(f"{p.version}: {date(p.valid_from)}..{date(p.valid_to) if p.valid_to else still}"
                                for p in editions)
            raise PolicyNotFound(_("no edition of '{id}' is in force on {as_of} ({windows})", id=policy_id,
                                   as_of=date(as_of), windows=windows))
        return live[0]


def _check_placement(policy: Policy, path: Path, root: Path, locate) -> list[PolicyError]:
    errors = []
    rel = path.relative_to(root)
    expected_id = f"{rel.parts[0]}/{rel.parts[1]}"
    if policy.id != expected_id:
        errors.append(PolicyError(Code.POLICY_PLACEMENT_ERROR, f"id '{policy.id}' does not match the folder "
                                  f"'{expected_id}'", locate(("id",)), f"set id: {expected_id} or move the file"))
    if policy.version != path.stem:
        errors.append(PolicyError(Code.POLICY_PLACEMENT_ERROR, f"version '{policy.version}' does not match the "
                                  f"file name '{path.name}'", locate(("version",)),
                                  f"rename the file to {policy.version}.yaml or set version: \"{path.stem}\""))
    return errors


def _check_windows(policies: list[Policy]) -> list[PolicyError]:
    errors = []
    by_id: dict[str, list[Policy]] = {}
    for p in policies:
        by_id.setdefault(p.id, []).append(p)
    for editions in by_id.values():
        editions = sorted(editions, key=lambda p: p.valid_from)
        for a, b in zip(editions, editions[1:]):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                loc = _window_location(b)
                errors.append(PolicyError(
                    Code.POLICY_WINDOW_OVERLAP,
                    f"the window of version '{b.version}' ({b.valid_from}..{b.valid_to or 'open'}) overlaps "
                    f"version '{a.version}' ({a.valid_from}..{a.valid_to or 'open'}, {a.file})", loc,
                    f"end version '{a.version}' before {b.valid_from} (valid_to: "
                    f"{b.valid_from - dt.timedelta(days=1)}) or move this valid_from"))
    return errors


def _window_location(policy: Policy) -> SourceLocation:
    doc = load_text(policy.bundle["policy"], policy.file)
    return doc.location(("valid_from",))
