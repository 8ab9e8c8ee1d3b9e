"""Bozza (funzionario): start a draft edition from new-avviso, by pasting or uploading; validate it
live with messages at the line; run its tests; diff it against the edition in force; simulate it
on a synthetic population; download it. Drafts live in the page only: no file is written.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from engine.avviso.report import cost_chart, people_chart
from engine.avviso.scaffold import ScaffoldError
from engine.errors import PolicyNotFound

from . import drafts
from .session import User, check_csrf, need
from .texts import t
from .views import fragment, page

router = APIRouter()
Officer = Annotated[User, Depends(need("funzionario"))]
# section or kind of a change -> catalogue key of its words, in the order the page shows them
DIFF_SECTIONS = {section: f"console.diff.section.{section}" for section in
                 ("eligibility", "parameters", "bands", "points", "other", "dates", "budget", "metadata")}
DIFF_KINDS = {kind: f"console.diff.kind.{kind}" for kind in ("added", "removed", "changed")}


def service(request: Request):
    return request.app.state.service()


def _programmes(registry) -> list:
    return [(pid, editions[-1].title, [p.version for p in editions]) for pid, editions in sorted(registry.by_id.items())]


async def _form(request: Request) -> dict:
    form = await request.form(max_fields=20, max_files=1, max_part_size=drafts.MAX_DRAFT_BYTES)
    text = form.get("testo") or ""
    if not isinstance(text, str):
        text = ""
    return {"text": text[:drafts.MAX_DRAFT_BYTES * 2], "compare": str(form.get("confronto") or "")[:64],
            "form": form}


def _compare_with(registry, draft: drafts.Draft, version: str):
    """The edition the officer chose to compare with, else the one in force before the draft."""
    if draft.policy is None:
        return None
    if version:
        try:
            return registry.get(draft.policy.id, version)
        except PolicyNotFound:
            return draft.base
    return draft.base


def _respond(request: Request, user: User, name: str, **context):
    """A fragment for htmx, the whole page (with the draft kept in the textarea) for a plain post."""
    if request.headers.get("HX-Request"):
        return fragment(request, name, **context)
    registry = service(request).registry
    return page(request, "bozza.html", user=user, programmes=_programmes(registry), result=name, **context)


@router.get("/bozza")
async def bozza(request: Request, user: Officer, programma: str = "", versione: str = "", dal: str = "",
                da_edizione: str = ""):
    registry = service(request).registry
    text, notice, draft = "", "", None
    if programma:
        try:
            valid_from = dt.date.fromisoformat(dal[:10]) if dal else dt.date.today()
            text, _base = drafts.scaffold(registry, programma[:128], (versione or "bozza")[:64], valid_from,
                                          da_edizione[:64] or None)
            draft = drafts.compile_draft(registry, text)
        except (ScaffoldError, PolicyNotFound, ValueError) as exc:
            notice = str(exc)
    return page(request, "bozza.html", user=user, programmes=_programmes(registry), text=text, draft=draft,
                notice=notice, result=None, choice=programma, version=versione, valid_from=dal,
                from_version=da_edizione)


@router.post("/bozza/carica")
async def carica(request: Request, user: Officer):
    """An uploaded file becomes the draft in the editor (UTF-8 YAML, at most 512 KB)."""
    await check_csrf(request)
    form = await request.form(max_fields=5, max_files=1, max_part_size=drafts.MAX_DRAFT_BYTES)
    upload = form.get("file")
    notice, text = "", ""
    if upload is None or isinstance(upload, str):
        notice = t("console.draft.choose_file")
    else:
        raw = await upload.read(drafts.MAX_DRAFT_BYTES + 1)
        if len(raw) > drafts.MAX_DRAFT_BYTES:
            notice = t("console.draft.too_big", kb=drafts.MAX_DRAFT_BYTES // 1024)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                notice = t("console.draft.not_utf8")
    registry = service(request).registry
    draft = drafts.compile_draft(registry, text) if text else None
    return page(request, "bozza.html", user=user, programmes=_programmes(registry), text=text, draft=draft,
                notice=notice, result="_bozza_validazione.html" if draft else None)


@router.post("/bozza/valida")
async def valida(request: Request, user: Officer):
    await check_csrf(request)
    data = await _form(request)
    draft = await run_in_threadpool(drafts.compile_draft, service(request).registry, data["text"])
    return _respond(request, user, "_bozza_validazione.html", text=data["text"], draft=draft)


@router.post("/bozza/test")
async def esegui_test(request: Request, user: Officer):
    await check_csrf(request)
    data = await _form(request)
    registry = service(request).registry
    draft = await run_in_threadpool(drafts.compile_draft, registry, data["text"])
    cases, file = ([], "")
    if draft.policy is not None:
        cases, file = await run_in_threadpool(drafts.run_draft_tests, registry, draft.policy,
                                              _compare_with(registry, draft, data["compare"]))
    return _respond(request, user, "_bozza_test.html", text=data["text"], draft=draft, cases=cases, tests_file=file)


@router.post("/bozza/confronta")
async def confronta(request: Request, user: Officer):
    await check_csrf(request)
    data = await _form(request)
    registry = service(request).registry
    draft = await run_in_threadpool(drafts.compile_draft, registry, data["text"])
    other = _compare_with(registry, draft, data["compare"])
    changes = drafts.diff(other, draft.policy) if other is not None and draft.policy is not None else []
    return _respond(request, user, "_bozza_diff.html", text=data["text"], draft=draft, other=other,
                    changes=changes, sections=DIFF_SECTIONS, kinds=DIFF_KINDS)


@router.post("/bozza/simula")
async def simula(request: Request, user: Officer):
    await check_csrf(request)
    data = await _form(request)
    registry = service(request).registry
    draft = await run_in_threadpool(drafts.compile_draft, registry, data["text"])
    other = _compare_with(registry, draft, data["compare"])
    result = None
    if draft.ok and other is not None:
        result = await run_in_threadpool(drafts.simulate, registry, other, draft.policy)
    charts = (people_chart(result["editions"]), cost_chart(result["editions"])) if result else ("", "")
    return _respond(request, user, "_bozza_simulazione.html", text=data["text"], draft=draft, other=other,
                    sim=result, charts=charts)


@router.post("/bozza/scarica")
async def scarica(request: Request, user: Officer):
    """The draft as a file, named as it would be under policies/ (the officer commits it for review)."""
    await check_csrf(request)
    data = await _form(request)
    draft = drafts.compile_draft(service(request).registry, data["text"])
    name = f"{draft.policy.version}.yaml" if draft.policy is not None else "bozza.yaml"
    return Response(data["text"].encode("utf-8"), media_type="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
