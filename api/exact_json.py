"""FastAPI plumbing so request and response bodies keep numbers exact (Decimal, never float)."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from . import jsontext


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = jsontext.loads(await self.body())
        return self._json


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
