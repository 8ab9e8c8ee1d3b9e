"""Drafts in memory: compile a pasted edition against the published ones, run its tests, diff it,
simulate it. Nothing here writes a policy file: drafts never change the published editions.

Each step calls the engine the way the CLI does (``almp validate``, ``almp test``, ``almp diff``,
``almp simulate``), on the draft's text instead of a file.
"""
from __future__ import annotations

import datetime as dt
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.avviso import simulate as sim
from engine.avviso.diff import diff_documents, sentences
from engine.avviso.policytests import load_cases, run_case
from engine.avviso.scaffold import ScaffoldError, base_edition, set_top_level
from engine.avviso.synthetic import write_population
from engine.decide.backends import ReferenceBackend
from engine.errors import PolicyError, PolicyErrors, SourceLocation
from engine.i18n import language
from engine.policy.bands import check_bands
from engine.policy.catalogue import attach_shared_texts
from engine.policy.compiler import compile_policy, make_bundle
from engine.values import plain
from engine.policy.loader import load_text
from engine.policy.registry import Registry, _check_windows

from .texts import t

MAX_DRAFT_BYTES = 512 * 1024
POPULATION_SIZE = 4000  # enough for shares to a tenth of a percent; a few seconds on one core
POPULATION_SEED = 1


@dataclass
class Draft:
    text: str
    policy: object | None = None
    errors: list = field(default_factory=list)  # PolicyError
    base: object | None = None  # the published edition it is compared with

    @property
    def ok(self) -> bool:
        return self.policy is not None and not self.errors


def scaffold(registry: Registry, policy_id: str, version: str, valid_from: dt.date,
             from_version: str | None = None) -> tuple[str, object]:
    """The text ``almp new-avviso`` would write: the edition in force before ``valid_from`` (or
    ``from_version``), as a draft with the new version and window."""
    base = registry.get(policy_id, from_version) if from_version else \
        base_edition(registry.editions(policy_id), valid_from)
    later = [p for p in registry.editions(policy_id) if p.valid_from > valid_from]
    valid_to = min(p.valid_from for p in later) - dt.timedelta(days=1) if later else None
    text = base.bundle["policy"]
    text = set_top_level(text, "version", f'"{version}"')
    text = set_top_level(text, "status", "draft")
    text = set_top_level(text, "valid_from", valid_from.isoformat())
    text = set_top_level(text, "valid_to", valid_to.isoformat() if valid_to else "null", after="valid_from")
    return text, base


def compile_draft(registry: Registry, text: str) -> Draft:
    """Every problem of the draft at its line (schema, expressions, bands, windows against the editions)."""
    draft = Draft(text)
    if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
        draft.errors = [PolicyError("policy_yaml_error", t("console.draft.draft_too_big", kb=MAX_DRAFT_BYTES // 1024),
                                    SourceLocation("bozza.yaml"))]
        return draft
    try:
        doc = load_text(text, "bozza.yaml")
        data = doc.data if isinstance(doc.data, dict) else {}
        file = f"{data.get('id', 'bozza')}/{data.get('version', 'bozza')}.yaml"
        doc = load_text(text, file)
        bundle = attach_shared_texts(make_bundle(text, file, registry.facts_text), doc.data, registry.root)
        policy = compile_policy(doc, registry.dictionary, bundle)
    except PolicyErrors as exc:
        draft.errors = exc.errors
        return draft
    errors = list(check_bands(policy, doc.location))
    published = [p for p in registry.policies if p.id == policy.id and p.version != policy.version]
    errors += [e for e in _check_windows(published + [policy]) if e.location.file == file]
    draft.policy, draft.errors = policy, errors
    draft.base = in_force_before(registry, policy)
    return draft


def in_force_before(registry: Registry, policy):
    """The published edition the draft follows (or replaces): the latest non-draft starting no later."""
    try:
        editions = registry.editions(policy.id)
    except Exception:  # noqa: BLE001 - a draft of a new programme has nothing to compare with
        return None
    same = [p for p in editions if p.version == policy.version and p.status != "draft"]
    if same:
        return same[0]
    try:
        return base_edition(editions, policy.valid_from + dt.timedelta(days=1))
    except ScaffoldError:
        return None


def with_draft(registry: Registry, draft) -> Registry:
    """A registry where the draft stands beside the published editions (replacing its own version)."""
    policies = [p for p in registry.policies if not (p.id == draft.id and p.version == draft.version)] + [draft]
    return Registry(registry.root, registry.dictionary, registry.facts_text, policies)


@dataclass
class CaseOutcome:
    name: str
    line: int
    failures: list


def run_draft_tests(registry: Registry, draft, base=None) -> tuple[list[CaseOutcome], str]:
    """The cases beside the base edition (the one compared with), pinned to the draft, as ``new-avviso``
    copies them."""
    base = base if base is not None else in_force_before(registry, draft)
    source = base if base is not None else draft
    tests = registry.root / Path(source.bundle["policy_file"]).with_suffix(".tests.yaml")
    if not tests.is_file():
        return [], ""
    combined = with_draft(registry, draft)
    out = []
    for case, line, policy_id, _version in load_cases(tests):
        case = {**case}
        case.pop("version", None)
        failures = run_case(combined, case, policy_id, draft.version, ReferenceBackend)
        out.append(CaseOutcome(case["name"], line, [in_words(f) for f in failures]))
    return out, str(tests.relative_to(registry.root))


# what ``almp test`` checks of a case, in an officer's words (catalogue keys console.case.<key>)
CASE_KEYS = ("eligible", "band", "amount", "duration_months", "points", "reasons", "dote", "total", "payable",
             "outcome", "instalments", "lines", "not_paid", "violations")
_FAILURE = re.compile(r"^(\w+): expected (.*), got (.*)$", re.S)
_ERROR = re.compile(r"^expected an? (\w+) error, got a (decision|result)$")


MONEY_KEYS = {"amount", "dote", "total", "payable", "outcome"}


def _shown(text: str, key: str) -> str:
    words = {"True": "console.word.yes", "False": "console.word.no", "None": "console.word.nothing"}
    text = text.strip()
    if text in words:
        return t(words[text])
    text = text.strip("'")
    if key in MONEY_KEYS and re.fullmatch(r"-?\d+(\.\d+)?", text):
        from .fmt import euro
        return euro(text)
    return text


def in_words(failure: str) -> str:
    """A failed check of ``engine.avviso.policytests`` (English, for the CLI's logs) as the console says it."""
    match = _FAILURE.match(failure)
    if match:
        key, want, got = match.groups()
        return t("console.case.failure", what=t(f"console.case.{key}") if key in CASE_KEYS else key,
                 want=_shown(want, key), got=_shown(got, key))
    match = _ERROR.match(failure)
    if match:
        return t("console.case.expected_error", kind=match.group(1))
    for english, key in (("input error: ", "console.case.input_error"), ("error: ", "console.case.error")):
        if failure.startswith(english):
            return t(key, message=failure[len(english):])
    return failure


def diff(base, draft) -> list:
    """The changes from ``base`` to ``draft``, each with its sentence in an officer's words (``almp diff``'s)."""
    old, new = plain(base.document), plain(draft.document)
    changes = diff_documents(old, new)
    return [Worded(change, sentence) for change, sentence in
            zip(changes, sentences(changes, old, new, getattr(draft, "dictionary", None), language()))]


@dataclass
class Worded:
    change: object
    sentence: str

    @property
    def section(self) -> str:
        return self.change.section

    @property
    def kind(self) -> str:
        return self.change.kind


# -- simulation on a synthetic population ------------------------------------------------------
_populations: dict = {}
_lock = threading.Lock()


def population(registry: Registry, region: str, as_of: dt.date) -> Path:
    """A synthetic population (the same seed every time, so two runs compare), made once per region and date."""
    key = (region, as_of)
    with _lock:
        path = _populations.get(key)
        if path is None or not path.exists():
            folder = Path(tempfile.mkdtemp(prefix="almp-console-pop-"))
            path = folder / f"{region}-{as_of.isoformat()}.csv"
            write_population(registry.dictionary, path, POPULATION_SIZE, region, POPULATION_SEED, as_of)
            _populations[key] = path
        return path


def region_of(policy) -> str:
    authority = policy.id.split("/")[0]
    return authority if authority in ("lombardia", "basilicata") else "italia"


def simulate(registry: Registry, first, second, as_of: dt.date | None = None) -> dict:
    """Both editions over the same synthetic population: people per fascia, commitments, budget effect."""
    as_of = as_of or second.valid_from
    path = population(registry, region_of(second), as_of)
    tally = sim.run([first, second], path, as_of, workers=1)
    summaries = [sim.summarise(p, s, tally.people, {}) for p, s in zip((first, second), tally.states)]
    return {"population": t("console.draft.population", n=tally.people, region=region_of(second),
                            seed=POPULATION_SEED), "as_of": as_of.isoformat(), "people": tally.people,
            "editions": summaries, "comparison": sim.compare(summaries[0], summaries[1], tally.transitions)}
