"""Confronta (funzionario): what changes between two editions of a programme, in an officer's words,
and the budget effect on the same synthetic population."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from engine.avviso.report import cost_chart, people_chart
from engine.errors import PolicyNotFound

from . import drafts
from .bozza import DIFF_KINDS, DIFF_SECTIONS
from .session import User, need
from .views import page

router = APIRouter()
Officer = Annotated[User, Depends(need("funzionario"))]


@router.get("/confronta")
async def confronta(request: Request, user: Officer, programma: str = "", da: str = "", a: str = "",
                    simula: str = ""):
    registry = request.app.state.service().registry
    programmes = [(pid, eds[-1].title, [p.version for p in eds]) for pid, eds in sorted(registry.by_id.items())
                  if len(eds) > 1]
    context = {"programmes": programmes, "choice": programma[:128], "first": None, "second": None,
               "changes": [], "sim": None, "charts": ("", ""), "notice": "", "sections": DIFF_SECTIONS,
               "kinds": DIFF_KINDS}
    if programma and da and a:
        try:
            first, second = registry.get(programma[:128], da[:64]), registry.get(programma[:128], a[:64])
        except PolicyNotFound as exc:
            context["notice"] = str(exc)
        else:
            context.update(first=first, second=second, changes=drafts.diff(first, second))
            if simula:
                sim = await run_in_threadpool(drafts.simulate, registry, first, second)
                context.update(sim=sim, charts=(people_chart(sim["editions"]), cost_chart(sim["editions"])))
    return page(request, "confronta.html", user=user, **context)
