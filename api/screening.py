"""Screening: one person against every programme in force on a date, one stored decision per programme."""
from __future__ import annotations

import asyncio
import datetime as dt

from engine.decide.screening import screen
from engine.errors import InputErrors, InputProblem

from . import subjects
from .store import repository


def pending_eligibility(service, policy, person: dict, as_of: dt.date, result: dict, *, caller: str,
                        idempotency_key: str | None, version: str | None, kind: str = "eligibility",
                        subject: str | None = None) -> repository.PendingDecision:
    """A decision of ``kind`` built exactly as a single POST /v1/eligibility would store it."""
    stored_input = {"policy": policy.id, "version": version, "as_of": as_of.isoformat(), "person": person}
    req_hash, legacy_hash = repository.request_hashes(kind, {"caller": caller, "request": stored_input})
    basis, authority = service.statements.basis_for(policy)  # as Service.prepare: its statement never changes
    return repository.PendingDecision.build(kind=kind, policy=policy, as_of=as_of, input=stored_input, result=result,
                                            engine_version=service.engine_version, caller=caller,
                                            idempotency_key=idempotency_key, req_hash=req_hash, subject=subject,
                                            statement_basis=basis, authority=authority, legacy_req_hash=legacy_hash)


SUMMARY = ("outcome", "eligible", "band", "benefit", "reasons", "missing", "ask_next", "possible", "provisional",
           "regions")


async def screening(service, body: dict, *, caller: str, idempotency_key: str | None = None) -> dict:
    """Decide and store every edition in force on ``as_of``; answers once every row is committed."""
    # checked and decided in a worker thread, so the event loop stays free for other requests
    decided, pending = await asyncio.to_thread(_decide_all, service, body, caller, idempotency_key)
    futures = [service.committer.submit(p) for p in pending]
    outcomes = [await asyncio.wrap_future(f) for f in futures]
    results = []
    for (policy, result), (found, _created) in zip(decided, outcomes):
        entry = {"decision_id": found.id if hasattr(found, "id") else found.values["id"], "policy": policy.id,
                 "version": policy.version, "title": policy.title}
        entry.update({k: result[k] for k in SUMMARY if k in result})
        results.append(entry)
    return {"as_of": body["as_of"].isoformat(), "authority": body.get("authority"), "results": results}


def _decide_all(service, body: dict, caller: str, idempotency_key: str | None) -> tuple[list, list]:
    as_of = body["as_of"]
    person, subject = subjects.for_storage(body["person"], as_of)
    try:
        decided = screen(service.registry, person, as_of, body.get("authority"), "durable")
    except InputErrors as exc:
        raise InputErrors([p if p.path[:1] in (("person",), ("authority",))
                           else InputProblem(("person", *p.path), p.code, p.message) for p in exc.problems]) from None
    pending = [pending_eligibility(service, policy, person, as_of, result, caller=caller,
                                   idempotency_key=f"{idempotency_key}/{policy.id}" if idempotency_key else None,
                                   version=policy.version, subject=subject)
               for policy, result in decided]
    return decided, pending
