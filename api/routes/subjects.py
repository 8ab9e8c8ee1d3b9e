"""Erasure of a data subject (admin role): GDPR art. 17 without breaking the decision chain."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import InputErrors, InputProblem
from engine.i18n import _, date

from .. import pseudonym
from ..deps import Admin, ServiceDep, request_language
from ..exact_json import ExactJSONResponse, ExactJSONRoute
from ..store.sealing import PersonalDataErased
from ..wire import Problem, ValidationErrorOut

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, default_response_class=ExactJSONResponse)


class EraseRequest(BaseModel):
    """Who to erase: their pseudonym (as shown on their decisions), or their codice fiscale (never stored).

    In the body, not the URL: a codice fiscale must not reach access logs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject": "ps1:" + "0" * 64, "why": "richiesta dell'interessato del 29/11/2026, prot. 1234"}]})
    subject: Annotated[str | None, Field(default=None, pattern=r"^ps1:[0-9a-f]{64}$",
                                         description="the subject pseudonym")] = None
    codice_fiscale: Annotated[str | None, Field(default=None, min_length=11, max_length=32,
                                                description="the subject's codice fiscale (only its pseudonym "
                                                            "is computed; it is not stored)")] = None
    why: Annotated[str, Field(min_length=1, max_length=200, description="the ground, e.g. the request's "
                                                                          "protocol number")]

    @model_validator(mode="after")
    def one_of(self):
        if (self.subject is None) == (self.codice_fiscale is None):
            raise ValueError(_("give exactly one of subject and codice_fiscale"))
        return self


class ErasedOut(BaseModel):
    subject: str
    keys_erased: int = Field(description="data keys destroyed (0: nothing left to erase)")
    decisions: int = Field(description="decisions whose personal facts are now unreadable")


@router.post("/subjects/erase", response_model=ErasedOut, tags=["audit"],
             responses={401: {"model": Problem}, 403: {"model": Problem},
                        422: {"model": ValidationErrorOut, "description": "bad body"}})
def erase(request: EraseRequest, service: ServiceDep, key: Admin):
    """Erase a subject's personal facts: their data key is destroyed, their decisions stay in the chain with
    outcome, band and edition; reading or replaying them then answers 410 ``personal_data_erased``."""
    subject = request.subject
    if subject is None:
        try:
            subject = pseudonym.of_codice_fiscale(request.codice_fiscale)
        except ValueError as exc:
            raise InputErrors([InputProblem(("codice_fiscale",), "value_error", str(exc))]) from None
    done = service.erase_subject(subject, by=key.caller, why=request.why)
    return ExactJSONResponse({"subject": subject, "keys_erased": done.keys, "decisions": done.decisions})


def erased_body(exc: PersonalDataErased, lang: str) -> dict:
    """The 410 body: which decision, since when; never anything of the person."""
    if exc.erased_at is None:
        return {"detail": _("the personal data of this decision cannot be read (its key is missing or the "
                            "record was altered)", lang=lang),
                "code": "personal_data_unreadable", "decision_id": exc.decision_id, "erased_at": None}
    return {"detail": _("personal data erased on {date}", lang=lang, date=date(exc.erased_at.date(), lang=lang)),
            "code": "personal_data_erased", "decision_id": exc.decision_id,
            "erased_at": exc.erased_at.date().isoformat()}


def add_handlers(app) -> None:
    @app.exception_handler(PersonalDataErased)
    async def personal_data_erased(request: Request, exc: PersonalDataErased):
        lang = request_language(request)
        return ExactJSONResponse(erased_body(exc, lang), status_code=410, headers={"Content-Language": lang})
