"""The read log for auditors (audit role), and the purpose every read of a decision carries."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query

from engine.i18n import _

from .. import access
from ..deps import Auditor, ServiceDep
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from ..wire import Problem

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)

PURPOSE_DOC = ("why the decision is read, recorded in the read log (1-200 characters: a category or a file "
               "reference such as 'ricorso prot. 123', never a person's name). Header X-Purpose or query "
               "field purpose; 'unspecified' when absent, unless the service requires it "
               "(ALMP_REQUIRE_PURPOSE=1: 428 purpose_required)")


# what clean_purpose takes, as the schema says it (checked by clean_purpose, which names the field): no
# control character other than whitespace (collapsed)
PURPOSE_TEXT = {"pattern": r"^[^\x00-\x08\x0e-\x1b\x7f]{0,200}$"}


async def read_purpose(x_purpose: Annotated[str | None, Header(alias="X-Purpose", description=PURPOSE_DOC,
                                                               json_schema_extra=PURPOSE_TEXT)] = None,
                       purpose: Annotated[str | None, Query(description=PURPOSE_DOC,
                                                            json_schema_extra=PURPOSE_TEXT)] = None) -> str:
    try:
        return access.clean_purpose(x_purpose if x_purpose is not None else purpose)
    except access.PurposeRequired:
        raise HTTPException(428, {"code": "purpose_required",
                                  "msg": _("say why this decision is read: header X-Purpose or query field purpose")})
    except access.BadPurpose as exc:
        raise HTTPException(422, [{"loc": ["header", "X-Purpose"], "msg": str(exc), "type": "purpose_invalid"}])


Purpose = Annotated[str, Depends(read_purpose)]
PURPOSE_RESPONSES = {428: {"model": Problem, "description": "a purpose is required (ALMP_REQUIRE_PURPOSE=1)"}}


@router.get("/audit/reads", tags=["audit"], responses={401: {"model": Problem}, 403: {"model": Problem}})
def reads(service: ServiceDep, key: Auditor,
          decision_id: Annotated[str | None, Query(max_length=64)] = None,
          subject: Annotated[str | None, Query(pattern=r"^ps1:[0-9a-f]{64}$")] = None,
          caller: Annotated[str | None, Query(max_length=128)] = None,
          since: Annotated[dt.date | None, Query(alias="from", description="YYYY-MM-DD")] = None,
          until: Annotated[dt.date | None, Query(alias="to", description="YYYY-MM-DD")] = None,
          after: Annotated[int, Query(ge=0, le=2**62, description="the last seq already seen (paging)")] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          check: Annotated[bool, Query(description="also walk the whole read log's chain (slow on a long "
                                                   "log; `almp audit verify` always does)")] = True):
    """Who read or replayed which decision, when, why (purpose), through what, in chain order; and whether the
    read log's chain is intact. Filter by decision, subject pseudonym, caller or days (UTC, inclusive)."""
    with service.store.reading() as session:
        entries = access.listing(session, decision_id=decision_id, subject=subject, caller=caller, since=since,
                                 until=until, after=after, limit=limit)
        report = access.verify(session) if check else None
    chain = None if report is None else {"ok": report.ok, "entries": report.checked, "problem": report.problem,
                                         "first_bad_seq": report.seq}
    return ExactJSONResponse({"chain": chain,
                              "reads": entries, "next_after": entries[-1]["seq"] if entries else None})


__all__ = ["Purpose", "PURPOSE_RESPONSES", "router"]
