"""Request dependencies: the service, and who is calling with which role."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from engine.i18n import _

from .keys import ApiKey
from .language import scope_language
from .service import Service

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                               description="an API key created with `almp keys add --role ROLE`")
_bearer = HTTPBearer(auto_error=False, description="the same API key as a bearer token")


async def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def require(role: str):
    """A dependency admitting keys that hold ``role`` (or admin): 401 without a valid key, 403 without the role.

    ``async`` (it never blocks: a dict lookup and a stat of the key file) so FastAPI runs it on the
    event loop instead of sending every request through the thread pool.
    """

    async def check(request: Request, header: Annotated[str | None, Security(_api_key_header)] = None,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None) -> ApiKey:
        presented = header or (bearer.credentials if bearer else None)
        if not presented:
            raise HTTPException(401, _("an API key is required (header X-API-Key or Authorization: Bearer)"),
                                headers={"WWW-Authenticate": "Bearer"})
        key = request.app.state.keys.lookup(presented)
        if key is None:
            raise HTTPException(401, _("unknown API key"), headers={"WWW-Authenticate": "Bearer"})
        if key.attributes:  # a key with a life cycle: refused once expired or revoked, saying which and since when
            refused = _refusal(key, request)
            if refused is not None:
                raise refused
        if not key.allows(role):
            raise HTTPException(403, _("this key lacks the '{role}' role", role=role))
        return key
    return check


def request_language(request: Request) -> str:
    """``lang`` query field, else Accept-Language (by its q values), else Italian (api.language)."""
    return scope_language(request.scope)


def _refusal(key: ApiKey, request: Request) -> HTTPException | None:
    from engine.i18n import date
    state = key.state()
    if state == "active":
        return None
    lang = request_language(request)
    if state == "revoked":
        code, msg = "api_key_revoked", _("this API key was revoked on {date}", lang=lang,
                                         date=date(key.when("revoked").date(), lang=lang))
    else:
        code, msg = "api_key_expired", _("this API key expired on {date}", lang=lang,
                                         date=date(key.when("expires").date(), lang=lang))
        if key.attributes.get("rotated_to"):
            code, msg = "api_key_rotated", _("this API key was replaced on {date}: use the new key", lang=lang,
                                             date=date(key.when("expires").date(), lang=lang))
    return HTTPException(401, {"code": code, "msg": msg},
                         headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{code}"'})


Evaluator = Annotated[ApiKey, Depends(require("evaluate"))]
Auditor = Annotated[ApiKey, Depends(require("audit"))]
Admin = Annotated[ApiKey, Depends(require("admin"))]
