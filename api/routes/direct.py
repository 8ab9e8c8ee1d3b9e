"""``POST /v1/eligibility`` served by a plain Starlette route, for the common well-formed request.

FastAPI's dependency solving for the documented route (two auth schemes, a header, the body) cost
about a sixth of a request's CPU. The direct route does the same steps by hand: read the body once
(through the same bounds), parse it with the same exact-number reader, check the key, validate once
with the same wire model, then decide. Whatever it does not accept as plainly good (no key, an
unknown, expired or revoked key, a missing role, a body that is not a JSON object of the request's
shape, a bad Idempotency-Key, another content type) it hands, body and all, to the documented
FastAPI route, which answers exactly as it always did: the error answers, their codes and the
OpenAPI entry have one source.
"""
from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.routing import Match, Route

from ..exact_json import parse_body
from ..wire import EligibilityRequest

PATH = "/v1/eligibility"
ROLE = "evaluate"


def _presented(headers) -> str | None:
    # as the documented route reads them: X-API-Key, else an Authorization: Bearer token
    header = headers.get("x-api-key")
    if header:
        return header
    authorization = headers.get("authorization")
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


def _json_content(headers) -> bool:
    content_type = headers.get("content-type")
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "application/json"


def _active_key(request: Request):
    presented = _presented(request.headers)
    if not presented:
        return None
    key = request.app.state.keys.lookup(presented)
    if key is None or (key.attributes and key.state() != "active") or not key.allows(ROLE):
        return None
    return key


_DOCUMENTED = "almp.documented_route"  # scope flag: route this request past the direct route


class DirectRoute(Route):
    """Matches ``POST PATH`` unless the request was handed back to the documented route."""

    def matches(self, scope):
        if scope.get(_DOCUMENTED):
            return Match.NONE, {}
        return super().matches(scope)


async def eligibility(request: Request):
    from .decisions import _answer
    raw = await request.body()  # bounded by BodyLimit like every route: 413 before or while reading
    headers = request.headers
    idempotency_key = headers.get("idempotency-key")
    key = _active_key(request)
    checked = None
    if (key is not None and raw and _json_content(headers)
            and (idempotency_key is None or 1 <= len(idempotency_key) <= 255)):
        try:
            value = parse_body(raw)
            if isinstance(value, dict):
                checked = EligibilityRequest.model_validate(value, from_attributes=True)
        except Exception:  # noqa: BLE001 - bad JSON, BodyProblems, ValidationError: the documented route says it
            checked = None
    if checked is None:
        return _Documented(raw)
    service = request.app.state.service
    return _answer(await service.eligibility(checked.model_dump(), caller=key.caller,
                                             idempotency_key=idempotency_key))


def direct_route() -> Route:
    return DirectRoute(PATH, eligibility, methods=["POST"], include_in_schema=False)


class _Documented:
    """Hands the request, with the body already read, to the app's routing past the direct route."""

    def __init__(self, raw: bytes):
        self.raw = raw

    async def __call__(self, scope, receive, send):
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": self.raw, "more_body": False}
        await scope["app"].router({**scope, _DOCUMENTED: True}, replay, send)
