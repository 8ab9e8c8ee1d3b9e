"""Decisioni (revisore): find stored decisions, read one with its reasons, trace and edition text,
replay it, re-evaluate it under another edition, and check the integrity of the log.

Every page that shows a person's facts is a read of personal data and is logged (who, what,
which decision). Searches go by POST so that a pseudonym never lands in a URL or a server log.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import PolicyNotFound
from engine.statement import StatementError

from ..access import UNSPECIFIED, reading_for
from ..service import DecisionNotFound, StoredInputMismatch
from ..store.sealing import PersonalDataErased
from ..store.repository import get_bundle, verify_chain
from .search import Criteria, callers as search_callers, find, pseudonym_column
from .session import User, check_csrf, log_read, need
from .views import page

router = APIRouter()
Auditor = Annotated[User, Depends(need("revisore"))]
OUTCOMES = {"": "qualsiasi", "ammesso": "ammesso", "non-ammesso": "non ammesso"}
KINDS = {"": "qualsiasi", "eligibility": "ammissibilità", "batch": "ammissibilità (lotto)", "plan": "piano (PIP)",
         "claim": "rendicontazione"}


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
        return (), "Il codice fiscale indicato non è valido (controlli il carattere di controllo)."
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
    except DecisionNotFound:
        raise PolicyNotFound(f"nessuna decisione '{decision_id[:64]}'") from None


def record(request: Request, user: User, action: str, decision, outcome: str = "ok") -> None:
    """A read of a stored decision goes into the read log (api.access: who, which decision, channel
    'console'), as the API's reads do, and the console's own log line; never the facts themselves."""
    log_read(user, action, decision.id)
    service(request).record_read(caller=user.name, decision_id=decision.id, what=action, via=VIA,
                                 outcome=outcome)


VIA = "console"


def _decision_page(request: Request, user: User, decision_id: str, **extra):
    svc = service(request)
    decision = _decision(request, decision_id)
    record(request, user, "read", decision, "erased" if decision.erased else "ok")
    others = []
    try:
        others = [p for p in svc.registry.editions(decision.policy_id) if p.version != decision.version]
    except PolicyNotFound:
        pass
    labels = _fact_words(svc.registry.dictionary)
    if decision.erased:  # the subject's facts were erased: what stays readable is the countable summary
        subject, statement, statement_error = {}, None, "i dati personali della decisione sono stati cancellati."
    else:
        subject = decision.input.get("person") or decision.input.get("subject") or decision.input.get("plan") \
            or decision.input.get("claim") or {}
        statement, statement_error = _statement_html(svc, user, decision.id)
    from .. import integrity  # a row that fails its hash or chain checks is shown flagged, never as sound
    with svc.store.reading() as session:
        checked = integrity.check(session, decision.id) or {"status": "failed", "problems": []}
    return page(request, "decisione.html", user=user, d=decision, facts=subject, others=others,
                chain=chain_status(request), read=_reader(svc.registry.dictionary), statement=statement,
                fact_label=labels[0], fact_value=labels[1], kinds=KINDS,
                statement_error=statement_error,
                integrity_problems=[integrity.describe(p) for p in checked["problems"]]
                if checked["status"] == "failed" else None, **extra)


def _statement_html(svc, user: User, decision_id: str) -> tuple[Markup | None, str]:
    """The statement of reasons inline (the engine's own escaped HTML, as GET /v1/decisions/{id}/statement
    gives it); a decision whose statement cannot be made still opens, saying why."""
    try:
        with reading_for(UNSPECIFIED, via=VIA):
            return Markup(svc.statements.html_fragment(decision_id, caller=user.name)), ""
    except (StatementError, PolicyNotFound) as exc:
        return None, str(exc)
    except PersonalDataErased:
        return None, "i dati personali della decisione sono stati cancellati."


def _fact_words(dictionary):
    """A fact as a person reads it: its Italian label, and its value in words (sì/no, the dictionary's value
    labels, region names, dd/mm/yyyy dates), for the facts table and the trace."""
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
            return "non applicabile"
        if isinstance(v, bool):
            return "sì" if v else "no"
        if isinstance(v, list):
            return ", ".join(value(name, item) for item in v) if v else "nessuna"
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
    """A trace condition as an Italian sentence, with the parameter values it was evaluated with."""
    from engine.expr.italian import describe

    def read(entry: dict) -> str:
        return describe(entry.get("condition") or "", dictionary, entry.get("parameters") or {})
    return read


@router.get("/decisioni/{decision_id}")
async def decisione(request: Request, decision_id: str, user: Auditor):
    return _decision_page(request, user, decision_id)


@router.post("/decisioni/{decision_id}/riesegui")
async def riesegui(request: Request, decision_id: str, user: Auditor):
    """Replay under the exact stored edition: identical, or every difference."""
    await check_csrf(request)
    decision = _decision(request, decision_id)
    try:
        replay = await run_in_threadpool(service(request).replay, decision.id)
    except PersonalDataErased:
        record(request, user, "replay", decision, "erased")
        return _decision_page(request, user, decision.id)
    record(request, user, "replay", decision)
    return _decision_page(request, user, decision.id, replay=replay)


@router.post("/decisioni/{decision_id}/rivaluta")
async def rivaluta(request: Request, decision_id: str, user: Auditor):
    """What-if: the same facts under another edition of the programme (nothing stored)."""
    await check_csrf(request)
    form = await request.form(max_fields=10, max_files=0)
    version = str(form.get("edizione") or "")[:64]
    decision = _decision(request, decision_id)
    try:
        whatif = await run_in_threadpool(service(request).replay, decision.id, version)
        error = ""
        record(request, user, "what-if", decision)
    except PersonalDataErased:
        whatif, error = None, "i dati personali della decisione sono stati cancellati."
        record(request, user, "what-if", decision, "erased")
    except StoredInputMismatch as exc:
        whatif, error = None, "; ".join(p.message for p in exc.problems[:5])
    except PolicyNotFound as exc:
        whatif, error = None, str(exc)
    return _decision_page(request, user, decision.id, whatif=whatif, whatif_version=version, whatif_error=error)


STATEMENT_FILES = {"pdf": "application/pdf", "odt": "application/vnd.oasis.opendocument.text"}


@router.get("/decisioni/{decision_id}/motivazione.{fmt}")
async def motivazione(request: Request, decision_id: str, fmt: str, user: Auditor):
    """The statement of reasons as a file: PDF/A for the archive, or ODT to edit (the API's own renderer)."""
    if fmt not in STATEMENT_FILES:
        raise StarletteHTTPException(404)
    decision = _decision(request, decision_id)
    try:
        body = await run_in_threadpool(_document, service(request), decision.id, fmt, user.name)
    except PersonalDataErased:
        return page(request, "errore.html", status_code=410, user=user, title="Motivazione non disponibile",
                    message="I dati personali di questa decisione sono stati cancellati.")
    except StatementError as exc:
        return page(request, "errore.html", status_code=409, user=user, title="Motivazione non disponibile",
                    message="La motivazione di questa decisione non si può produrre con questa versione.",
                    detail=str(exc))
    return Response(body, media_type=STATEMENT_FILES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="motivazione-{decision.id}.{fmt}"'})


def _document(svc, decision_id: str, fmt: str, caller: str) -> bytes:
    with reading_for(UNSPECIFIED, via=VIA):  # a context variable: set in the thread that reads
        return svc.statements.document(decision_id, fmt, caller=caller)


@router.get("/decisioni/{decision_id}/edizione")
async def edizione(request: Request, decision_id: str, user: Auditor):
    """The exact edition text that made the decision, from the store (not today's file)."""
    decision = _decision(request, decision_id)
    with service(request).store.reading() as session:
        bundle = get_bundle(session, decision.content_hash)
    if bundle is None:
        raise PolicyNotFound(f"il testo dell'edizione {decision.content_hash} non è nel registro")
    lines = bundle["policy"].splitlines()
    return page(request, "edizione_registrata.html", user=user, d=decision, lines=lines,
                file=bundle.get("policy_file", ""))
