"""FastAPI plumbing so request and response bodies keep numbers exact (Decimal, never float)."""
from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from engine.i18n import _

from . import jsontext
from .limits import BodyProblems, check_body


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raw = await self.body()
            self._json = parse_body(raw)
        return self._json


def parse_body(raw: bytes):
    """The body's JSON value; 422 (never FastAPI's undocumented 400) for a body that is not JSON text.

    ``json.JSONDecodeError`` is left to FastAPI, which answers 422 ``json_invalid`` with its position.
    """
    try:
        value = jsontext.loads(raw)
        check_body(raw, value)
    except (json.JSONDecodeError, BodyProblems):
        raise
    except UnicodeDecodeError:
        raise BodyProblems([{"loc": ["body"], "msg": _("the body is not UTF-8 text"), "type": "json_invalid"}]) from None
    except RecursionError:
        raise BodyProblems([{"loc": ["body"], "msg": _("the JSON is nested too deep"),
                             "type": "json_invalid"}]) from None
    except ValueError:  # e.g. an integer of more digits than Python converts
        raise BodyProblems([{"loc": ["body"], "msg": _("invalid JSON: a number has too many digits"),
                             "type": "json_invalid"}]) from None
    return value


class ExactJSONRoute(APIRoute):
    """Routes whose JSON bodies are parsed with Decimal fractions (FastAPI's default is float)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))
        return exact_handler


class ExactJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content).encode("utf-8")
