"""POST /v1/eligibility/batch: up to 10,000 persons as JSON lines in, one JSON line out per person.

Each line is decided on the batch path (the edition compiled to Python; partial answers on the
same path) and stored as a decision of kind ``batch`` (replayed on that path too), a chunk of
lines per transaction (``api.store.bulk``); its answer line is written only once its row is committed,
so a line received is a decision stored. The answer line of a line that cannot be decided carries
``status`` 4xx and ``detail`` in the shape of a 422 body, with paths from the line (``["line", n,
"person", "birth_date"]``).
"""
from __future__ import annotations

import asyncio
import json

from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from engine.decide.partial import evaluate_available
from engine.errors import InputErrors, PolicyNotFound
from engine.i18n import _

from . import batch_columns, jsontext, subjects
from .limits import error_items, text_problems
from .problems import validation_message
from .screening import pending_eligibility
from .store import bulk
from .store.repository import AppendedRow, IdempotencyConflict
from .store.sealing import PersonalDataErased

STORE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)

MAX_LINES = 10_000
MAX_LINE_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
CHUNK = 2_000  # lines decided together and stored in one transaction
KIND = "batch"


class BatchTooLarge(ValueError):
    pass


async def read_lines(stream) -> list[bytes]:
    """The non-empty lines of the body, bounded (``BatchTooLarge`` past the limits)."""
    buffer = bytearray()
    async for chunk in stream:
        buffer += chunk
        if len(buffer) > MAX_BODY_BYTES:
            raise BatchTooLarge(_("the body is larger than {mib} MiB", mib=MAX_BODY_BYTES // (1024 * 1024)))
    lines = [line for line in bytes(buffer).split(b"\n") if line.strip()]
    if len(lines) > MAX_LINES:
        raise BatchTooLarge(_("at most {limit} persons per request, got {count}; split the batch",
                              limit=MAX_LINES, count=len(lines)))
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES:
            raise BatchTooLarge(_("line {number} is longer than {kib} KiB", number=number, kib=MAX_LINE_BYTES // 1024))
    return lines


def _error(number: int, ref, status: int, items: list[dict]) -> dict:
    return {"line": number, "ref": ref, "status": status, "detail": error_items(items)}


def _parse(number: int, raw: bytes, model):
    """(request dict, ref) or an error line."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (_("invalid JSON at column {column}", column=exc.colno) if isinstance(exc, json.JSONDecodeError)
                 else _("the line is not UTF-8 text"))
        return _error(number, None, 422, [{"loc": ["line", number], "msg": where, "type": "json_invalid"}])
    except (ValueError, RecursionError):  # an integer of too many digits, nesting too deep
        return _error(number, None, 422, [{"loc": ["line", number], "msg": _("invalid JSON"),
                                           "type": "json_invalid"}])
    bad_text = text_problems(data, ("line", number))
    if bad_text:
        return _error(number, None, 422, [{"loc": list(p.path), "msg": p.message, "type": p.code} for p in bad_text])
    ref = data.get("ref") if isinstance(data, dict) and isinstance(data.get("ref"), (str, int)) else None
    try:
        request = model.model_validate(data)
    except ValidationError as exc:
        return _error(number, ref, 422, [{"loc": ["line", number, *e.get("loc", ())], "msg": validation_message(e),
                                          "type": e.get("type", "")} for e in exc.errors()])
    return request.model_dump(), ref


def decide_line(service, number: int, body: dict, ref, caller: str, idempotency_key: str | None):
    """(pending decision, None) or (None, error line)."""
    as_of = body["as_of"]
    try:
        policy = service.registry.get(body["policy"], body.get("version"), as_of)
        person, subject = subjects.for_storage(body["person"], as_of)
        result = evaluate_available(policy, person, as_of, "batch", compact=True)  # its trace sealed as a record
    except PolicyNotFound as exc:
        return None, _error(number, ref, 404, [{"loc": ["line", number, "policy"], "msg": str(exc),
                                                "type": "not_found"}])
    except InputErrors as exc:
        return None, _error(number, ref, 422, [
            {"loc": ["line", number, *(p.path if p.path[:1] == ("person",) else ("person", *p.path))],
             "msg": p.message, "type": p.code} for p in exc.problems])
    key = f"{idempotency_key}/{number}" if idempotency_key else None
    return pending_eligibility(service, policy, person, as_of, result, caller=caller, idempotency_key=key,
                               version=body.get("version"), kind=KIND, subject=subject), None


def _answer(number: int, ref, outcome) -> dict:
    found, _created = outcome
    if hasattr(found, "values"):  # a new row: its canonical result text
        decision_id, result = found.values["id"], jsontext.loads(found.pending.answer_result_json)
    else:  # an idempotent retry: the stored decision
        decision_id, result = found.id, found.result
    return {"line": number, "ref": ref, "status": 200, "decision_id": decision_id, **result}


def _decide_chunk(service, lines: list[bytes], start: int, model, caller: str, idempotency_key: str | None) -> list:
    """(number, ref, pending decision or None, error line or None, ``batch_columns.Fast`` or None) for each
    line of one chunk: plainly well-formed lines decided together on the columns, the others one by one."""
    numbers = range(start + 1, min(start + CHUNK, len(lines)) + 1)
    fast = batch_columns.decide_lines(service, lines, numbers, model, caller, idempotency_key)
    out = []
    for number in numbers:
        found = fast.get(number)
        if found is not None:
            out.append((number, found.ref, found.pending, None, found))
            continue
        parsed = _parse(number, lines[number - 1], model)
        if isinstance(parsed, dict):
            out.append((number, None, None, parsed, None))
            continue
        body, ref = parsed
        pending, error = decide_line(service, number, body, ref, caller, idempotency_key)
        out.append((number, ref, pending, error, None))
    return out


class _Retried(Exception):
    """An idempotency key of the chunk was used before: nothing of it stored, the committer answers it."""


def _store_chunk(service, pendings: list) -> list | None:
    """The chunk's decisions stored in one transaction (``bulk.append_bulk``), committed on return; their
    outcomes, or None when a line's idempotency key was used before (nothing stored)."""
    store, noted = service.store, []
    try:
        with store.transaction() as session:
            outcomes = bulk.append_bulk(session, pendings, getattr(store, "stored_texts", None), noted)
            if outcomes is None:
                raise _Retried
    except _Retried:
        return None
    if hasattr(store, "stored_texts"):
        store.stored_texts.confirm(noted)  # only once committed
    return outcomes


async def _outcomes(service, pendings: list) -> list:
    """Per pending decision: its committed outcome, or the exception that refused it."""
    if not pendings:
        return []
    try:
        stored = await asyncio.to_thread(_store_chunk, service, pendings)
    except STORE_DOWN:
        raise
    except Exception:  # noqa: BLE001 - not the store being down: the committer stores (or refuses) each alone
        stored = None
    if stored is not None:
        return stored
    out = []
    for future in [service.committer.submit(pending) for pending in pendings]:
        try:
            out.append(await asyncio.wrap_future(future))
        except STORE_DOWN:
            raise
        except Exception as exc:  # noqa: BLE001 - that line's own refusal (409, 410)
            out.append(exc)
    return out


def _line(number: int, ref, outcome) -> dict:
    if isinstance(outcome, IdempotencyConflict):
        return _error(number, ref, 409, [{"loc": ["line", number], "type": "idempotency_conflict",
                                          "msg": _("Idempotency-Key '{key}' was already used with "
                                                   "another request body", key=outcome)}])
    if isinstance(outcome, PersonalDataErased):  # a retry of a decision whose subject was erased since
        return _error(number, ref, 410, [{"loc": ["line", number], "type": "personal_data_erased",
                                          "msg": _("decision {id}: personal data erased", id=outcome.decision_id)}])
    if isinstance(outcome, Exception):
        raise outcome
    return _answer(number, ref, outcome)


async def answer_lines(service, lines: list[bytes], model, *, caller: str, idempotency_key: str | None = None):
    """The answer, one encoded JSON line per input line, in input order, each after its row is committed.

    Chunks are decided in a worker thread (the event loop stays free for other requests) while the chunk
    before is being stored, and each chunk is stored in one transaction (``_store_chunk``)."""
    def decide(start: int):
        return asyncio.ensure_future(asyncio.to_thread(_decide_chunk, service, lines, start, model, caller,
                                                       idempotency_key))
    following = decide(0) if lines else None
    for start in range(0, len(lines), CHUNK):
        decided = await following
        following = decide(start + CHUNK) if start + CHUNK < len(lines) else None
        pendings = [pending for _, _, pending, _, _ in decided if pending is not None]
        try:
            outcomes = iter(await _outcomes(service, pendings))
        except STORE_DOWN:  # nothing of this chunk was stored; say so and stop
            if following is not None:
                await following
            number, ref = next(((n, r) for n, r, p, _, _ in decided if p is not None), decided[0][:2])
            yield (jsontext.canonical(_error(number, ref, 503, [{
                "loc": ["line", number], "type": "store_unavailable",
                "msg": _("the decision store is unavailable: this line was not stored, and the lines after "
                         "it may not have been. Retry from this line with the same Idempotency-Key "
                         "(lines already stored are answered again, never stored twice)")}])) + "\n").encode("utf-8")
            return
        out = []
        for number, ref, pending, error, fast in decided:
            if pending is None:
                out.append(jsontext.canonical(error) + "\n")
                continue
            outcome = next(outcomes)
            row = outcome[0] if type(outcome) is tuple else None
            if fast is not None and isinstance(row, AppendedRow) and row.pending is pending:
                out.append(fast.answer(row.id) + "\n")  # the answer's text from pieces written once
            else:
                out.append(jsontext.canonical(_line(number, ref, outcome)) + "\n")
        yield "".join(out).encode("utf-8")
