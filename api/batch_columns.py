"""A batch chunk decided a column at a time, its stored texts built once per kind of answer.

The line-by-line path (``api.batch.decide_line``) validates, checks, decides, explains and writes
each decision on its own: tens of µs per line. Here the lines that are plainly well formed -
an object of the batch line's fields, parsed without a fraction (numbers stay exact), no codice
fiscale, every fact the edition reads given - are grouped by edition and date and:

- checked a column at a time (``engine.decide.columns.ColumnPreparer``, the row path's own checks);
- matched by the batch backend's compiled stages, as ``evaluate`` does;
- explained once per distinct (rules fired, bands fired, points, regions named): every part of a
  result but the trace depends on those alone, so its texts (clear, sealed and answered) are
  written once and shared; only the trace, the person's text and the request hash are per line.

Any other line (and any line the columns reject) is decided by ``decide_line``: its answer and
errors are exactly the line path's. ``tests/api/test_batch_columns.py`` checks both paths give the
same stored texts.
"""
from __future__ import annotations

import datetime as dt
import threading

import orjson
from pydantic import ValidationError

from engine.decide.evaluate import decide as decide_stages, explainer
from engine.decide.columns import ColumnPreparer
from engine.decide.partial import full_backend
from engine.errors import PolicyNotFound
from engine.policy.codice_fiscale import FIELD

from . import jsontext
from .store import sealing, trace_plans
from .store.repository import CLEAR_INPUT, PendingDecision, request_hashes_of

KIND = "batch"
_FIELDS = frozenset({"ref", "policy", "version", "as_of", "person"})
_PLAIN = frozenset({str, int, bool, type(None)})
_MAX_REF = 128


class Fast:
    """A line decided here: its pending decision and the pieces of its answer line but the decision id."""

    __slots__ = ("number", "ref", "pending", "pieces")

    def __init__(self, number: int, ref, pending: PendingDecision, pieces: tuple):
        self.number, self.ref, self.pending, self.pieces = number, ref, pending, pieces

    def answer(self, decision_id: str) -> str:
        """The answer line's canonical text, as ``jsontext.canonical`` writes ``{line, ref, status, decision_id,
        **result}`` (keys sorted, merged with the result's)."""
        own = [("decision_id", jsontext.canonical(decision_id)), ("line", str(self.number)),
               ("ref", jsontext.canonical(self.ref)), ("status", "200")]
        parts = sorted(own + list(self.pieces))
        return "{" + ",".join(f'"{key}":{text}' for key, text in parts) + "}"


def _plain_value(value) -> bool:
    """JSON read without a fraction or a huge integer (orjson gives floats for both; the line path Decimals)."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is dict:
        return all(_plain_value(v) for v in value.values())
    if kind is list:
        return all(_plain_value(v) for v in value)
    return False


def parse(raw: bytes):
    """The line's object when it is plainly a well-formed batch line, else None (the line path decides it)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or not _FIELDS.issuperset(data) or type(data.get("person")) is not dict:
        return None
    if type(data.get("policy")) is not str or type(data.get("as_of")) is not str:
        return None
    ref, version = data.get("ref"), data.get("version")
    if not (ref is None or type(ref) is int or type(ref) is str and len(ref) <= _MAX_REF):
        return None
    if not (version is None or type(version) is str):
        return None
    if FIELD in data["person"] or not _plain_value(data["person"]):
        return None
    return data


class _Edition:
    """What deciding a chunk on one edition needs, built once per edition and date."""

    def __init__(self, service, policy, as_of: dt.date, version, caller: str):
        self.policy, self.as_of = policy, as_of
        self.preparer = ColumnPreparer(policy)
        self.explain = explainer(policy)
        self.trace_json = trace_plans.reference(self.explain.trace_plan)  # the clear reference to the trace's plan
        self.backend = full_backend(policy, "batch")
        self.required = frozenset(policy.dictionary.closure(set(policy.needed_inputs)))
        self.usable = set(self.explain.reads) <= set(self.preparer.reads)
        facts = policy.dictionary.facts
        self.regions = tuple(sorted(name for name, fact in facts.items() if fact.values_from == "regions"))
        stored = {"policy": policy.id, "version": version, "as_of": as_of.isoformat()}
        self.input_json = jsontext.canonical({k: v for k, v in stored.items() if k in CLEAR_INPUT})
        # {"kind", "body": {"caller", "request": {"as_of", "person", "policy", "version"}}}, keys in canonical order
        self.request_head = ('{"body":{"caller":' + jsontext.canonical(caller) + ',"request":{"as_of":'
                             + jsontext.canonical(stored["as_of"]) + ',"person":')
        self.request_tail = (',"policy":' + jsontext.canonical(policy.id) + ',"version":'
                             + jsontext.canonical(version) + '}},"kind":' + jsontext.canonical(KIND) + "}")
        basis, self.authority = service.statements.basis_for(policy)
        self.basis = jsontext.canonical(basis)
        self.engine_version = service.engine_version
        self.answers: dict = {}  # (fired, banded, points, regions) -> texts shared by every such decision

    def texts(self, env: dict, fired, banded, points, regions: tuple) -> tuple:
        key = (fired, banded, points, regions)
        found = self.answers.get(key)
        if found is None:
            result = self.explain(env, self.as_of, fired, banded, points, "batch", compact=True)
            body = {k: v for k, v in result.items() if k != "trace"}
            if regions:
                from engine.policy.regions import canonical_regions
                named = canonical_regions(self.policy.dictionary, dict(regions))
                if named:
                    body["regions"] = named
            clear, personal = sealing.split(body)
            found = (jsontext.canonical(body), jsontext.canonical(clear), jsontext.canonical(personal),
                     tuple((k, jsontext.canonical(v)) for k, v in body.items()), result["eligible"])
            if len(self.answers) < 4096:
                self.answers[key] = found
        return found


_PREPARED: dict = {}
_LOCK = threading.Lock()


def _edition(service, policy, as_of, version, caller) -> _Edition:
    key = (policy.content_hash, id(policy), as_of, version, caller, id(service))
    with _LOCK:
        found = _PREPARED.get(key)
    if found is None or found.policy is not policy:
        found = _Edition(service, policy, as_of, version, caller)
        with _LOCK:
            if len(_PREPARED) > 256:
                _PREPARED.clear()
            _PREPARED[key] = found
    return found


def decide_lines(service, lines: list[bytes], numbers: range, model, caller: str,
                 idempotency_key: str | None) -> dict:
    """{line number: Fast} for the lines of ``numbers`` decided here; the others are left to the line path."""
    groups: dict = {}
    for number in numbers:
        data = parse(lines[number - 1])
        if data is not None:
            groups.setdefault((data["policy"], data.get("version"), data["as_of"]), []).append((number, data))
    out: dict = {}
    for (policy_id, version, as_of_text), members in groups.items():
        try:  # the line's envelope checked by the line model itself, once per group
            envelope = model.model_validate({"policy": policy_id, "version": version, "as_of": as_of_text,
                                             "person": {}}).model_dump()
            policy = service.registry.get(envelope["policy"], envelope["version"], envelope["as_of"])
        except (ValidationError, PolicyNotFound):
            continue
        if policy.subject != "person":
            continue
        edition = _edition(service, policy, envelope["as_of"], envelope["version"], caller)
        if edition.usable:
            _decide_group(edition, members, caller, idempotency_key, out)
    return out


def _person_text(person: dict) -> str:
    """``jsontext.canonical(person)`` of a person ``parse`` let through (text, 64-bit integers, booleans, null,
    objects and lists only): those are the values canonical hands to orjson as they are, so it is called at
    once, without canonical's walk over every value to check their types."""
    try:
        return orjson.dumps(person, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # orjson refuses it (e.g. a lone surrogate): canonical says why, or writes it
        return jsontext.canonical(person)


def _decide_group(edition: _Edition, members: list, caller: str, idempotency_key: str | None, out: dict) -> None:
    required = edition.required
    members = [(number, data) for number, data in members if required.issubset(data["person"])]
    if not members:
        return
    chunk = edition.preparer.from_rows([data["person"] for _, data in members], edition.as_of)
    reads = edition.preparer.reads
    columns = [chunk.columns[name] for name in reads]
    decide, plan = decide_stages, edition.backend
    policy, regions_of = edition.policy, edition.regions
    problems = chunk.problems
    for index, values in enumerate(zip(*columns)):
        if index in problems:
            continue  # the line path names its problems
        number, data = members[index]
        person = data["person"]
        env = dict(zip(reads, values))
        fired, banded, points = decide(policy, env, plan)
        regions = tuple((name, person[name]) for name in regions_of if person.get(name) is not None)
        if any(type(value) is not str for _, value in regions):
            continue
        answer, clear, personal, pieces, eligible = edition.texts(env, fired, banded, points, regions)
        trace = edition.explain.trace(env, fired, banded, points, eligible and edition.explain.has_bands)
        person_text = _person_text(person)
        req_hash, legacy_hash = request_hashes_of(edition.request_head + person_text + edition.request_tail)
        pending = PendingDecision.made(
            kind=KIND, policy=policy, as_of=edition.as_of, engine_version=edition.engine_version, caller=caller,
            idempotency_key=f"{idempotency_key}/{number}" if idempotency_key else None, req_hash=req_hash,
            input_json=edition.input_json, result_json=clear, trace_json=edition.trace_json, subject=None,
            statement_basis=edition.basis, authority=edition.authority,
            personal_json='{"input":{"person":' + person_text + '},"result":' + personal + ',"trace":' + trace.record()
                          + "}",
            answer_result_json=answer, answer_trace_json=trace, legacy_req_hash=legacy_hash, trace_plan=trace.plan)
        ref = data.get("ref")
        out[number] = Fast(number, ref, pending, pieces)
