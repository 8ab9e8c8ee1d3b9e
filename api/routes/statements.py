"""The statement of reasons of a stored decision (audit role): JSON, HTML, PDF/A or ODT."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from engine.i18n import _, language
from engine.statement import MEDIA_TYPES, StatementError

from .. import access
from ..deps import Auditor
from .reads import Purpose
from ..exact_json import ExactJSONResponse
from ..wire import Problem

router = APIRouter(prefix="/v1", default_response_class=ExactJSONResponse)

# media type -> format, in our order of preference for "*/*"
_ACCEPTED = {"application/json": "json", "text/html": "html", "application/pdf": "pdf",
             "application/vnd.oasis.opendocument.text": "odt"}
_FILE_NAMES = {"pdf": "pdf", "odt": "odt"}


def negotiate(accept: str | None) -> str | None:
    """The format for an ``Accept`` header (quality values honoured); None when nothing we make is acceptable."""
    if not accept or not accept.strip():
        return "json"
    offers = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        quality = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in _ACCEPTED:
            offers.append((-quality, 0, position, _ACCEPTED[media]))
        elif media in ("*/*", "application/*"):
            offers.append((-quality, 1, position, "json"))
        elif media == "text/*":
            offers.append((-quality, 1, position, "html"))
    return min(offers)[3] if offers else None


_DOCUMENTS = {media: {} for media in ("text/html", "application/pdf", "application/vnd.oasis.opendocument.text")}


@router.get("/decisions/{decision_id}/statement", tags=["audit"],
            responses={200: {"description": "the statement of reasons: structured JSON (`almp-statement/1`), "
                                            "accessible HTML, PDF/A-2a for the archive, or editable ODT",
                             "content": {"application/json": {}, **_DOCUMENTS}},
                       401: {"model": Problem, "description": "no or unknown API key"},
                       403: {"model": Problem, "description": "the key lacks the role"},
                       404: {"model": Problem, "description": "no such decision, or no such edition to compare with"},
                       406: {"model": Problem, "description": "none of the formats in Accept is produced"},
                       409: {"model": Problem, "description": "the decision's statement template is not available "
                                                              "in this version, or its record does not match its "
                                                              "edition"},
                       422: {"description": "bad format, lang or compare parameter"}})
def statement(decision_id: str, request: Request, key: Auditor, purpose: Purpose,
              format: Annotated[Literal["json", "html", "pdf", "odt"] | None,
                                Query(description="overrides Accept")] = None,
              lang: Annotated[Literal["it", "en"] | None,
                              Query(description="Italian (default) or English; without it, Accept-Language "
                                                "chooses")] = None,
              compare: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                                   description="another edition (version) of the same programme: "
                                                               "adds what the outcome would have been under it")]
              = None,
              accept: Annotated[str | None, Header(include_in_schema=False)] = None):
    """The Italian statement of reasons (l. 241/1990 art. 3; the art. 10-bis notice for a refusal) of a stored
    decision: facts established with their origin, each condition with its legal reference, the outcome with its
    arithmetic, and the appeal clause of the authority. Built only from the stored decision, its edition's stored
    texts and the template version and authority text recorded with it: the same decision always gives the same
    text. Every read is recorded."""
    lang = lang or language()  # the request's language (api.language): Accept-Language, else Italian
    fmt = format or negotiate(accept)
    if fmt is None:
        return ExactJSONResponse({"detail": _("none of the media types in Accept is produced; use one of {types}",
                                              types=", ".join(_ACCEPTED))}, status_code=406)
    service = request.app.state.service
    try:
        with access.reading_for(purpose):  # the statement's read is recorded with it (api.statements)
            body = service.statements.document(decision_id, fmt, caller=key.caller, lang=lang, compare=compare)
    except StatementError as exc:
        return ExactJSONResponse({"detail": str(exc)}, status_code=409)
    headers = {"Content-Language": lang, "Vary": "Accept, Accept-Language"}
    if fmt in _FILE_NAMES:
        headers["Content-Disposition"] = f'attachment; filename="motivazione-{decision_id}.{_FILE_NAMES[fmt]}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)
