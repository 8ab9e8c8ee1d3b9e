"""Decisioni (revisore): find stored decisions, read one with its reasons, trace and edition text,
replay it, re-evaluate it under another edition, and check the integrity of the log.

Every page that shows a person's facts is a read of personal data and is logged (who, what,
which decision, why). Searches go by POST so that a pseudonym never lands in a URL or a server log.

Why: before a stored decision is opened, replayed or re-evaluated the auditor states a purpose (a
category and a short reference, posted, never in the URL), recorded with every read-log entry of
that decision as the API's ``X-Purpose`` is, under the API's rules (``api.access.clean_purpose``:
at most 200 printable characters; with ``ALMP_REQUIRE_PURPOSE=1`` it cannot be left out). The session
remembers it for that decision (a few at a time), so reloading the page or downloading the statement
reads under the same purpose; the replay form offers to change it.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.concurrency import run_in_threadpool
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import PolicyNotFound
from engine.i18n import language
from engine.statement import StatementError

from .. import access
from ..access import reading_for
from ..service import DecisionNotFound, StoredInputMismatch
from ..store.sealing import PersonalDataErased
from ..store.repository import get_bundle, verify_chain
from .search import Criteria, callers as search_callers, find, pseudonym_column
from .session import User, check_csrf, log_read, need
from .texts import t
from .views import page, root

router = APIRouter()
Auditor = Annotated[User, Depends(need("revisore"))]
# form value -> catalogue key of its words
OUTCOMES = {"": "console.search.any", "ammesso": "console.check.possible_eligible",
            "non-ammesso": "console.check.possible_not_eligible"}
KINDS = {"": "console.search.any", "eligibility": "console.kind.eligibility", "batch": "console.kind.batch",
         "plan": "console.kind.plan", "claim": "console.kind.claim"}


def service(request: Request):
    return request.app.state.service()


class ChainStatus:
    """The last verification of the hash chain (rows checked, up to which, when), shared by the pages."""

    def __init__(self):
        self.report = None
        self.when: dt.datetime | None = None
        self.error = ""
        self._lock = threading.Lock()

    def run(self, store) -> None:
        """As ``almp audit verify``: the hash chain, and the signed checkpoints when there are any."""
        from ..store.checkpoint import CheckpointError, Sink, trusted_public_key
        with self._lock:
            self.error = ""
            try:
                checkpoints = Sink().read()
                public = trusted_public_key() if checkpoints else None
            except (CheckpointError, OSError, ValueError) as exc:
                checkpoints, public, self.error = None, None, str(exc)
            with store.reading() as session:
                self.report = verify_chain(session, checkpoints, public)
            self.when = dt.datetime.now(dt.timezone.utc)


def chain_status(request: Request) -> ChainStatus:
    state = request.app.state
    if not hasattr(state, "chain_status"):
        state.chain_status = ChainStatus()
    return state.chain_status


def _date(text) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text or "").strip()[:10]) if text else None
    except ValueError:
        return None


def subject_pseudonyms(text: str, callers) -> tuple[tuple[str, ...], str]:
    """The pseudonyms a subject is stored under, computed here and never kept, with a notice when the
    text cannot be one: a codice fiscale (checked), a pseudonym (ps1:…), or a caller's subject id
    (its pseudonym is scoped to the caller, so one per caller in the log)."""
    from stdnum.it import codicefiscale

    from .. import pseudonym
    text = "".join(str(text or "").split())[:pseudonym.MAX_IDENTIFIER]
    if not text:
        return (), ""
    if pseudonym.is_pseudonym(text.lower()):
        return (text.lower(),), ""
    if codicefiscale.is_valid(text):
        return (pseudonym.of_codice_fiscale(text),), ""
    if len(text) in (11, 16) and text.isalnum() and any(c.isdigit() for c in text):
        return (), t("console.search.bad_cf")
    return tuple(pseudonym.of_subject_id(text, caller) for caller in callers()), ""


def _criteria(form, callers) -> tuple[Criteria, str]:
    """Search criteria from the form; a codice fiscale or subject id is turned into its pseudonym here, never kept."""
    pseudonyms, notice = subject_pseudonyms(form.get("soggetto"), callers)
    if str(form.get("soggetto") or "").strip() and not pseudonyms:
        pseudonyms = ("-",)  # a bad code, or a subject id no caller has used: nothing can match
    criteria = Criteria(
        decision_id=str(form.get("id") or "").strip()[:64],
        pseudonyms=pseudonyms,
        programme=str(form.get("programma") or "").strip()[:128],
        version=str(form.get("edizione") or "").strip()[:64],
        outcome=str(form.get("esito") or "") if form.get("esito") in OUTCOMES else "",
        kind=str(form.get("tipo") or "") if form.get("tipo") in KINDS else "",
        start=_date(form.get("dal")), end=_date(form.get("al")))
    return criteria, notice


def _search_page(request: Request, user: User, criteria: Criteria, notice: str = ""):
    svc = service(request)
    with svc.store.reading() as session:
        found, more = find(session, criteria)
    return page(request, "decisioni.html", user=user, criteria=criteria, found=found, more=more, notice=notice,
                programmes=sorted(svc.registry.by_id), outcomes=OUTCOMES, kinds=KINDS,
                chain=chain_status(request), subject_search=pseudonym_column() is not None)


@router.get("/decisioni")
async def decisioni(request: Request, user: Auditor):
    return _search_page(request, user, Criteria())


@router.post("/decisioni")
async def cerca(request: Request, user: Auditor):
    await check_csrf(request)
    form = await request.form(max_fields=50, max_files=0)
    store = service(request).store

    def callers():
        with store.reading() as session:
            return search_callers(session)
    criteria, notice = _criteria(form, callers)
    if criteria.pseudonyms:
        log_read(user, "decision search by subject", "-")
    return _search_page(request, user, criteria, notice)


@router.post("/decisioni/catena")
async def verifica_catena(request: Request, user: Auditor):
    await check_csrf(request)
    await run_in_threadpool(chain_status(request).run, service(request).store)
    return _search_page(request, user, Criteria())


def _decision(request: Request, decision_id: str):
    try:
        return service(request).get(decision_id[:64])
    except DecisionNotFound as exc:  # its text says the id back only when shaped like one (not a codice fiscale)
        raise PolicyNotFound(str(exc)) from None


def record(request: Request, user: User, action: str, decision, purpose: str, outcome: str = "ok") -> None:
    """A read of a stored decision goes into the read log (api.access: who, which decision, why, channel
    'console'), as the API's reads do, and the console's own log line; never the facts themselves."""
    log_read(user, action, decision.id)
    service(request).record_read(caller=user.name, decision_id=decision.id, what=action, via=VIA,
                                 outcome=outcome, purpose=purpose)


VIA = "console"

# -- the purpose of a read ------------------------------------------------------------------------------------
# form value -> catalogue key console.purpose.category.<value>; the log records the Italian words (the
# register's language, whatever the page's), then the auditor's reference
PURPOSES = ("compliance", "appeal", "access_request", "inspection", "error_report", "other")
MAX_DETAIL = 120
KEEP = 8  # decisions whose purpose the session remembers (the cookie stays small)


class PurposeProblem(Exception):
    def __init__(self, key: str, status: int):
        super().__init__(key)
        self.key, self.status = key, status


def purpose_of(form) -> tuple[str, str, str]:
    """(category, detail, the text to record) from the purpose fields; PurposeProblem when they will not do."""
    category = str(form.get("scopo") or "").strip()
    detail = " ".join(str(form.get("dettaglio") or "").split())
    if len(detail) > MAX_DETAIL:
        raise PurposeProblem("console.purpose.too_long", 422)
    if category and category not in PURPOSES:
        raise PurposeProblem("console.purpose.unknown", 422)
    if category == "other" and not detail:
        raise PurposeProblem("console.purpose.say_what", 422)
    if category and category != "other":
        words = t(f"console.purpose.category.{category}", lang="it")
        text = f"{words}: {detail}" if detail else words
    else:
        text = detail
    try:
        return category, detail, access.clean_purpose(text)
    except access.PurposeRequired:
        raise PurposeProblem("console.purpose.required", 428) from None
    except access.BadPurpose:
        raise PurposeProblem("console.purpose.bad", 422) from None


def stated(request: Request, decision_id: str) -> tuple[str, str, str] | None:
    """The purpose this session stated for the decision, or None."""
    kept = (request.session.get("purposes") or {}).get(decision_id)
    if not kept:
        return None
    try:
        return purpose_of({"scopo": kept[0], "dettaglio": kept[1]})
    except PurposeProblem:  # the rules changed since (ALMP_REQUIRE_PURPOSE set): ask again
        return None


def remember(request: Request, decision_id: str, category: str, detail: str) -> None:
    kept = dict(request.session.get("purposes") or {})
    kept.pop(decision_id, None)
    kept[decision_id] = [category, detail]
    while len(kept) > KEEP:
        kept.pop(next(iter(kept)))
    request.session["purposes"] = kept


def _purpose_page(request: Request, user: User, decision_id: str, problem: PurposeProblem | None = None,
                  category: str = "", detail: str = ""):
    return page(request, "scopo.html", status_code=problem.status if problem else 200, user=user,
                decision_id=decision_id, purposes=PURPOSES, required=access.purpose_required(),
                purpose_error=t(problem.key, limit=MAX_DETAIL) if problem else "", category=category,
                detail=detail, max_detail=MAX_DETAIL)


def _decision_page(request: Request, user: User, decision_id: str, purpose: tuple[str, str, str], **extra):
    svc = service(request)
    decision = _decision(request, decision_id)
    record(request, user, "read", decision, purpose[2], "erased" if decision.erased else "ok")
    others = []
    try:
        others = [p for p in svc.registry.editions(decision.policy_id) if p.version != decision.version]
    except PolicyNotFound:
        pass
    labels = _fact_words(svc.registry.dictionary)
    if decision.erased:  # the subject's facts were erased: what stays readable is the countable summary
        subject, statement, statement_error = {}, None, t("console.decision.erased_short")
    else:
        subject = decision.input.get("person") or decision.input.get("subject") or decision.input.get("plan") \
            or decision.input.get("claim") or {}
        statement, statement_error = _statement_html(svc, user, decision.id, purpose[2])
    from .. import integrity  # a row that fails its hash or chain checks is shown flagged, never as sound
    with svc.store.reading() as session:
        checked = integrity.check(session, decision.id) or {"status": "failed", "problems": []}
    return page(request, "decisione.html", user=user, d=decision, facts=subject, others=others,
                chain=chain_status(request), read=_reader(svc.registry.dictionary), statement=statement,
                fact_label=labels[0], fact_value=labels[1], kinds=KINDS,
                statement_error=statement_error, purpose=purpose, purposes=PURPOSES,
                required=access.purpose_required(), max_detail=MAX_DETAIL,
                integrity_problems=[integrity.describe(p) for p in checked["problems"]]
                if checked["status"] == "failed" else None, **extra)


def _statement_html(svc, user: User, decision_id: str, purpose: str) -> tuple[Markup | None, str]:
    """The statement of reasons inline (the engine's own escaped HTML, as GET /v1/decisions/{id}/statement
    gives it); a decision whose statement cannot be made still opens, saying why."""
    try:
        with reading_for(purpose, via=VIA):
            return Markup(svc.statements.html_fragment(decision_id, caller=user.name, lang=language())), ""
    except (StatementError, PolicyNotFound) as exc:
        return None, str(exc)
    except PersonalDataErased:
        return None, t("console.decision.erased_short")


def _fact_words(dictionary):
    """A fact as a person reads it: its label (the dictionary's, Italian), and its value in words (yes/no in the
    page's language, the dictionary's value labels, region names, dates), for the facts table and the trace."""
    from engine.policy.facts import REGIONS_ENUM
    from engine.policy.regions import regions

    from .fmt import date
    region_names = {r.almp_code: r.name for r in regions()}
    facts = getattr(dictionary, "facts", {}) or {}

    def label(name: str) -> str:
        fact = facts.get(name)
        return fact.label if fact is not None else name

    def value(name: str, v) -> str:
        fact = facts.get(name)
        if v is None:
            return t("console.word.not_applicable")
        if isinstance(v, bool):
            return t("console.word.yes") if v else t("console.word.no")
        if isinstance(v, list):
            return ", ".join(value(name, item) for item in v) if v else t("console.word.none")
        words = dict(getattr(fact, "value_labels", None) or {}) if fact is not None else {}
        if fact is not None and getattr(fact, "values_from", None) == REGIONS_ENUM:
            words = {**region_names, **words}
        text = str(v)
        if text in words:
            return words[text]
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return date(text)
        return text
    return label, value


def _reader(dictionary):
    """A trace condition as a sentence in the page's language, with the parameter values it was evaluated with."""
    from engine.expr.italian import describe

    def read(entry: dict) -> str:
        return describe(entry.get("condition") or "", dictionary, entry.get("parameters") or {})
    return read


def _to_decision(request: Request, decision_id: str) -> RedirectResponse:
    return RedirectResponse(f"{root(request)}/decisioni/{quote(decision_id, safe='')}", status_code=303)


@router.get("/decisioni/{decision_id}")
async def decisione(request: Request, decision_id: str, user: Auditor):
    """The decision, read under the purpose this session stated for it; else the question why."""
    decision = _decision(request, decision_id)
    purpose = stated(request, decision.id)
    if purpose is None:
        return _purpose_page(request, user, decision.id)
    return _decision_page(request, user, decision.id, purpose)


@router.post("/decisioni/{decision_id}")
async def apri(request: Request, decision_id: str, user: Auditor):
    """The purpose stated: remembered for this decision, then the decision itself (a GET: reloading is harmless)."""
    await check_csrf(request)
    form = await request.form(max_fields=10, max_files=0)
    decision = _decision(request, decision_id)
    try:
        category, detail, _text = purpose_of(form)
    except PurposeProblem as problem:
        return _purpose_page(request, user, decision.id, problem, str(form.get("scopo") or "")[:32],
                             str(form.get("dettaglio") or "")[:MAX_DETAIL])
    remember(request, decision.id, category, detail)
    return _to_decision(request, decision.id)


async def _acting(request: Request, decision_id: str, user: User):
    """What a replay or what-if acts on: (form, decision, purpose), or the page asking why.

    The purpose is the form's when it has the fields (remembered), else the one stated before.
    """
    await check_csrf(request)
    form = await request.form(max_fields=10, max_files=0)
    decision = _decision(request, decision_id)
    try:
        if "scopo" in form:
            category, detail, text = purpose_of(form)
            remember(request, decision.id, category, detail)
            purpose = (category, detail, text)
        else:
            purpose = stated(request, decision.id)
    except PurposeProblem as problem:
        return _purpose_page(request, user, decision.id, problem)
    if purpose is None:
        return _purpose_page(request, user, decision.id)
    return form, decision, purpose


@router.post("/decisioni/{decision_id}/riesegui")
async def riesegui(request: Request, decision_id: str, user: Auditor):
    """Replay under the exact stored edition: identical, or every difference."""
    acting = await _acting(request, decision_id, user)
    if not isinstance(acting, tuple):
        return acting
    _form, decision, purpose = acting
    try:
        replay = await run_in_threadpool(service(request).replay, decision.id)
    except PersonalDataErased:
        record(request, user, "replay", decision, purpose[2], "erased")
        return _decision_page(request, user, decision.id, purpose)
    record(request, user, "replay", decision, purpose[2])
    return _decision_page(request, user, decision.id, purpose, replay=replay)


@router.post("/decisioni/{decision_id}/rivaluta")
async def rivaluta(request: Request, decision_id: str, user: Auditor):
    """What-if: the same facts under another edition of the programme (nothing stored)."""
    acting = await _acting(request, decision_id, user)
    if not isinstance(acting, tuple):
        return acting
    form, decision, purpose = acting
    version = str(form.get("edizione") or "")[:64]
    try:
        whatif = await run_in_threadpool(service(request).replay, decision.id, version)
        error = ""
        record(request, user, "what-if", decision, purpose[2])
    except PersonalDataErased:
        whatif, error = None, t("console.decision.erased_short")
        record(request, user, "what-if", decision, purpose[2], "erased")
    except StoredInputMismatch as exc:
        whatif, error = None, "; ".join(p.message for p in exc.problems[:5])
    except PolicyNotFound as exc:
        whatif, error = None, str(exc)
    return _decision_page(request, user, decision.id, purpose, whatif=whatif, whatif_version=version,
                          whatif_error=error)


STATEMENT_FILES = {"pdf": "application/pdf", "odt": "application/vnd.oasis.opendocument.text"}


@router.get("/decisioni/{decision_id}/motivazione.{fmt}")
async def motivazione(request: Request, decision_id: str, fmt: str, user: Auditor):
    """The statement of reasons as a file: PDF/A for the archive, or ODT to edit (the API's own renderer)."""
    if fmt not in STATEMENT_FILES:
        raise StarletteHTTPException(404)
    decision = _decision(request, decision_id)
    purpose = stated(request, decision.id)
    if purpose is None:  # a statement is a read too: say why first
        return _to_decision(request, decision.id)
    try:
        body = await run_in_threadpool(_document, service(request), decision.id, fmt, user.name, language(),
                                       purpose[2])
    except PersonalDataErased:
        return page(request, "errore.html", status_code=410, user=user, title=t("console.decision.statement_unavailable"),
                    message=t("console.decision.erased_sentence"))
    except StatementError as exc:
        return page(request, "errore.html", status_code=409, user=user, title=t("console.decision.statement_unavailable"),
                    message=t("console.decision.statement_version"),
                    detail=str(exc))
    return Response(body, media_type=STATEMENT_FILES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="motivazione-{decision.id}.{fmt}"'})


def _document(svc, decision_id: str, fmt: str, caller: str, lang: str, purpose: str) -> bytes:
    with reading_for(purpose, via=VIA):  # a context variable: set in the thread that reads
        return svc.statements.document(decision_id, fmt, caller=caller, lang=lang)


@router.get("/decisioni/{decision_id}/edizione")
async def edizione(request: Request, decision_id: str, user: Auditor):
    """The exact edition text that made the decision, from the store (not today's file)."""
    decision = _decision(request, decision_id)
    with service(request).store.reading() as session:
        bundle = get_bundle(session, decision.content_hash)
    if bundle is None:
        raise PolicyNotFound(t("console.decision.no_edition_text", hash=decision.content_hash))
    lines = bundle["policy"].splitlines()
    return page(request, "edizione_registrata.html", user=user, d=decision, lines=lines,
                file=bundle.get("policy_file", ""))
