"""Verifica una persona: a form built from the edition's facts, answers as facts are entered, and a
decision stored only when the operator submits it.

Nothing typed here is stored or logged until "Registra la decisione"; the live answers are
computed in memory and sent back to the same page (POST bodies, never URLs).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup

from engine.decide.screening import editions_in_force
from engine.errors import InputErrors, PolicyNotFound
from engine.i18n import language
from engine.policy.codice_fiscale import FIELD as CF_FIELD
from engine.policy.contract import fact_contract
from engine.statement import DecisionRecord, StatementError, build_statement, render_html

from .. import jsontext, subjects
from ..service import run_engine
from ..store.repository import IdempotencyConflict
from .session import User, check_csrf, need
from .texts import t
from .views import fragment, page

router = APIRouter()
Operator = Annotated[User, Depends(need("operatore"))]
ALL = "*"  # every programme in force: screening
MAX_FIELDS = 200
MAX_VALUE = 64


def service(request: Request):
    return request.app.state.service()


@dataclass
class Field:
    name: str
    label: str
    description: str
    kind: str  # date | int | decimal | boolean | enum | list | text
    values: tuple
    nullable: bool
    labels: dict  # value -> Italian words (the contract's titles of the allowed values)
    value: object = None  # what the operator entered (text, or a list for list facts)
    minimum: object = None
    maximum: object = None
    needed: bool = True  # the contract's x-almp-required-for-decided


def _choices(registry, as_of: dt.date) -> list:
    """(value, label) for the programme select: every person programme, newest edition first."""
    out = [(ALL, t("console.check.all_programmes"))]
    for policy_id, editions in sorted(registry.by_id.items()):
        for policy in reversed(editions):
            if policy.subject == "person" and policy.status != "draft":
                out.append((f"{policy.id}@{policy.version}", f"{policy.title} ({policy.version})"))
    return out


def editions_for(registry, choice: str, as_of: dt.date) -> list:
    if choice == ALL:
        return editions_in_force(registry, as_of)
    policy_id, _, version = choice.partition("@")
    return [registry.get(policy_id, version or None, as_of)]


def _allowed(any_of: list) -> tuple[tuple, dict]:
    """The values to offer and their Italian titles. A region is accepted by its code, its ISTAT code
    and its name: the form offers one entry per region (the code, titled by the official name)."""
    values, labels, seen = [], {}, {}
    for choice in any_of:
        value, title = choice.get("const"), str(choice.get("title", ""))
        if value is None:
            continue  # null: the form's own "non applicabile"
        plain = title.removesuffix(" (codice ISTAT)")
        if plain in seen:
            if not str(seen[plain]).isdigit() or str(value).isdigit():
                continue
            values.remove(seen[plain])  # a name beats an ISTAT code as the value sent
            del labels[seen[plain]]
        elif values and value == title and labels[values[-1]].endswith(" " + title):
            continue  # an autonomous province by name, after its ISTAT code
        seen[plain] = value
        values.append(value)
        labels[value] = plain
    return tuple(values), labels


def _field(name: str, schema: dict) -> Field:
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    nullable = "null" in types
    labels: dict = {}
    values: tuple = ()
    if "array" in types:
        kind = "list"
        values, labels = _allowed((schema.get("items") or {}).get("anyOf") or [])
    elif "anyOf" in schema:
        kind = "enum"
        values, labels = _allowed(schema["anyOf"])
    elif "boolean" in types:
        kind = "boolean"
    elif "integer" in types:
        kind = "int"
    elif schema.get("format") == "date":
        kind = "date"
    elif "number" in types:
        kind = "decimal"
    else:
        kind = "text"
    # the contract's descriptions are the dictionary's notes in English: the form shows the Italian title only
    return Field(name, schema.get("title") or name, "", kind, values, nullable, labels,
                 minimum=schema.get("minimum"), maximum=schema.get("maximum"),
                 needed=bool(schema.get("x-almp-required-for-decided")))


def fields_for(editions: list) -> list[Field]:
    """The form, from the editions' fact contracts (engine.policy.contract: the JSON Schema the API
    publishes at /v1/policies/{id}/{version}/facts), in the fact dictionary's order."""
    properties: dict = {}
    needed: set = set()
    dictionary = None
    for policy in editions:
        dictionary = policy.dictionary
        for name, schema in fact_contract(policy)["properties"].items():
            properties.setdefault(name, schema)
            if schema.get("x-almp-required-for-decided"):
                needed.add(name)
    if dictionary is None:
        return []
    order = {name: i for i, name in enumerate(dictionary.facts)}
    out = []
    for name in sorted(properties, key=lambda n: (n != CF_FIELD, order.get(n, len(order)), n)):
        field = _field(name, {**properties[name], "x-almp-required-for-decided": name in needed})
        if name == CF_FIELD:
            field.kind, field.label = "text", t("console.check.cf_label")
            field.description = t("console.check.cf_help")
        out.append(field)
    return out


def read_form(form, fields: list[Field]) -> tuple[dict, list[Field]]:
    """Facts entered (only those given: an empty field is an unknown fact) and the fields with their values."""
    facts = {}
    for field in fields:
        key = f"f_{field.name}"
        if field.kind == "list":
            chosen = [v for v in form.getlist(key) if v in field.values][:MAX_FIELDS]
            field.value = chosen
            if form.get(f"{key}__noto"):
                facts[field.name] = chosen
            continue
        text = (form.get(key) or "").strip()[:MAX_VALUE]
        field.value = text
        if not text:
            continue
        if text == "__null__" and field.nullable:
            facts[field.name] = None
        elif field.kind == "boolean":
            facts[field.name] = {"si": True, "no": False}.get(text, text)
        elif field.kind == "int":
            facts[field.name] = int(text) if text.lstrip("-").isdigit() else text
        else:
            facts[field.name] = text
    return facts, fields


def evaluate_one(service, policy, facts: dict, as_of: dt.date) -> dict:
    """The answer for one edition from the facts known so far (nothing stored)."""
    needed = policy.dictionary.closure(set(policy.needed_inputs))
    mine = {k: v for k, v in facts.items() if k in needed or k == CF_FIELD}
    missing = [policy.dictionary.facts[n] for n in sorted(needed - set(mine))]
    out = {"policy": policy, "missing": missing, "problems": [], "result": None, "state": "da-completare",
           "open": None}
    try:
        # the same run as POST /v1/eligibility, so the page and the API cannot disagree
        result = run_engine("eligibility", policy, mine, as_of)
    except InputErrors as exc:
        out["problems"] = [p for p in exc.problems if p.code != "missing_fact"]
        if out["problems"]:
            out["state"] = "errore"
        return out
    out["result"] = result
    # the engine answers from the facts given: decided (even with facts missing) or still open
    out["state"] = {"eligible": "ammesso", "not_eligible": "non-ammesso"}.get(result.get("outcome"), "da-completare")
    if result.get("outcome") == "undetermined":
        # partial evaluation: which facts are still needed, the one that settles most first, and what
        # the answer can still become
        out["result"] = None
        out["open"] = _open(policy, result)
        out["missing"] = [policy.dictionary.facts[n] for n in result.get("missing", [])] or missing
        return out
    out["missing"] = [policy.dictionary.facts[n] for n in result.get("missing", [])]
    out["services"] = _services(policy, (result.get("band") or {}).get("id")) if result["eligible"] else []
    out["statement"] = preview_statement(service, policy, mine, result, as_of)
    return out


def preview_statement(service, policy, facts: dict, result: dict, as_of: dt.date) -> Markup | None:
    """The statement of an answer not yet recorded, in the page's language: the engine's own template, headed as a
    simulation that is not a decision. Its section ids are made unique per programme (screening
    shows several on one page)."""
    trace = result.get("trace")
    if hasattr(trace, "entries"):  # the service keeps an eligibility trace compact (engine.decide.Trace)
        result = {**result, "trace": trace.entries()}
    try:
        person, _subject = subjects.for_storage(facts, as_of)
        basis, authority = service.statements.basis_for(policy)
        record = DecisionRecord(kind="eligibility", as_of=as_of, result=result,
                                input={"policy": policy.id, "version": policy.version, "as_of": as_of.isoformat(),
                                       "person": person})
        html = render_html(build_statement(record, policy, authority, lang=language()), fragment=True)
    except (InputErrors, StatementError):
        return None
    prefix = "m-" + "".join(c if c.isalnum() else "-" for c in policy.key)
    return Markup(html.replace(' id="s-', f' id="{prefix}-s-').replace('aria-labelledby="s-',
                                                                        f'aria-labelledby="{prefix}-s-'))


def _open(policy, result: dict) -> dict:
    possible = result.get("possible") or {}
    ask = [(policy.dictionary.facts[a["fact"]], a.get("settles")) for a in result.get("ask_next") or []
           if a.get("fact") in policy.dictionary.facts]
    return {"ask_next": ask[0] if ask else None, "outcomes": possible.get("outcomes") or [],
            "bands": possible.get("bands") or [], "amount": possible.get("amount"), "exact": result.get("exact")}


def _services(policy, band_id) -> list:
    costs = getattr(policy, "costs", None)
    if costs is None:
        return []
    return [s for s in costs.services if s.allows(band_id)]


_ORDER = {"ammesso": 0, "da-completare": 1, "errore": 2, "non-ammesso": 3}


def answers(service, editions: list, facts: dict, as_of: dt.date) -> list[dict]:
    out = [evaluate_one(service, p, facts, as_of) for p in editions]
    return sorted(out, key=lambda a: (_ORDER[a["state"]], a["policy"].title))


def _as_of(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return dt.date.today()


async def _state(request: Request):
    form = await request.form(max_fields=MAX_FIELDS * 4, max_files=0)
    registry = service(request).registry
    as_of = _as_of(form.get("data"))
    choice = (form.get("programma") or ALL)[:200]
    try:
        editions = editions_for(registry, choice, as_of)
    except PolicyNotFound as exc:
        return form, as_of, choice, [], [], {}, str(exc)
    facts, fields = read_form(form, fields_for(editions))
    return form, as_of, choice, editions, fields, facts, ""


@router.get("/verifica")
async def verifica(request: Request, user: Operator, programma: str = ALL, data: str = ""):
    registry = service(request).registry
    as_of = _as_of(data)
    try:
        editions = editions_for(registry, programma[:200], as_of)
        notice = ""
    except PolicyNotFound as exc:
        editions, notice = [], str(exc)
    return page(request, "verifica.html", user=user, choices=_choices(registry, as_of), choice=programma,
                as_of=as_of, fields=fields_for(editions), editions=editions, answers=[], notice=notice,
                token=secrets.token_urlsafe(16))


@router.post("/verifica")
async def verifica_form(request: Request, user: Operator):
    """The whole form again (programme or date changed): the fields follow the editions chosen."""
    await check_csrf(request)
    form, as_of, choice, editions, fields, facts, notice = await _state(request)
    registry = service(request).registry
    results = answers(service(request), editions, facts, as_of) if facts else []
    return page(request, "verifica.html", user=user, choices=_choices(registry, as_of), choice=choice, as_of=as_of,
                fields=fields, editions=editions, answers=results, notice=notice,
                token=(form.get("token") or secrets.token_urlsafe(16))[:64])


@router.post("/verifica/esito")
async def verifica_esito(request: Request, user: Operator):
    """Live answer (htmx): the outcome for the facts entered so far."""
    await check_csrf(request)
    _form, as_of, _choice, editions, _fields, facts, notice = await _state(request)
    return fragment(request, "_esito.html", answers=answers(service(request), editions, facts, as_of),
                    as_of=as_of, notice=notice, user=user)


@router.post("/verifica/registra")
async def registra(request: Request, user: Operator):
    """Store a decision for every programme the facts decide (as POST /v1/eligibility would)."""
    await check_csrf(request)
    form, as_of, choice, editions, fields, facts, notice = await _state(request)
    svc = service(request)
    results = answers(svc, editions, facts, as_of)
    token = (form.get("token") or "")[:64]
    if choice == ALL:
        return await _register_screening(request, user, svc, form, as_of, fields, editions, facts, results, token)
    stored = []
    for answer in results:
        if answer["result"] is None:
            continue
        policy = answer["policy"]
        needed = policy.dictionary.closure(set(policy.needed_inputs))
        body = {"policy": policy.id, "version": policy.version, "as_of": as_of,
                "person": {k: v for k, v in facts.items() if k in needed or k == CF_FIELD}}
        # the form's token makes a double submit return the same decisions, never new ones
        key = f"console:{token}:{policy.key}" if token else None
        try:
            answer = await svc.eligibility(body, caller=user.name, idempotency_key=key)
        except IdempotencyConflict:
            return page(request, "verifica.html", status_code=409, user=user,
                        choices=_choices(svc.registry, as_of), choice=choice, as_of=as_of, fields=fields,
                        editions=editions, answers=results, token=secrets.token_urlsafe(16),
                        notice=t("console.check.conflict"))
        stored.append({"id": answer.decision_id, "policy": policy, "result": jsontext.loads(answer.text),
                       "created": answer.created})
    if not stored:
        return page(request, "verifica.html", status_code=422, user=user,
                    choices=_choices(svc.registry, as_of), choice=choice, as_of=as_of, fields=fields,
                    editions=editions, answers=results, token=token,
                    notice=t("console.check.nothing_to_record"))
    return page(request, "registrata.html", user=user, stored=stored, as_of=as_of)


async def _register_screening(request, user, svc, form, as_of, fields, editions, facts, results, token):
    """Screening submitted: one decision per programme in force, stored exactly as POST /v1/screening does."""
    from ..screening import screening
    body = {"as_of": as_of, "person": facts, "authority": None}
    try:
        answer = await screening(svc, body, caller=user.name,
                                 idempotency_key=f"console:{token}:screening" if token else None)
    except (IdempotencyConflict, InputErrors) as exc:
        notice = (t("console.check.conflict") if isinstance(exc, IdempotencyConflict) else
                  t("console.check.to_correct", problems="; ".join(p.message for p in exc.problems[:5])))
        return page(request, "verifica.html", status_code=409 if isinstance(exc, IdempotencyConflict) else 422,
                    user=user, choices=_choices(svc.registry, as_of), choice=ALL, as_of=as_of, fields=fields,
                    editions=editions, answers=results, token=secrets.token_urlsafe(16), notice=notice)
    by_key = {(p.id, p.version): p for p in editions}
    stored = [{"id": r["decision_id"], "policy": by_key.get((r["policy"], r["version"])), "result": r,
               "created": True} for r in answer["results"]]
    return page(request, "registrata.html", user=user, stored=[s for s in stored if s["policy"] is not None],
                as_of=as_of)
