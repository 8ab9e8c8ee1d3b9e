"""What one request may hold, and how much of a bad one is said back.

A request is bounded before any work is spent on it: its body in bytes (413 past
MAX_BODY_BYTES, from the Content-Length header when there is one, before anything is read),
its text (no lone surrogates: they cannot be written as UTF-8, hashed or stored), then, in
the engine, its facts, lines and list items (by what the edition can take). An error
answer lists at most MAX_ERRORS problems, then says how many more there were; a field name is
echoed at most SHOWN_CHARS characters long.
"""
from __future__ import annotations

import json
import re

from fastapi import HTTPException

from engine.errors import Code, InputProblem
from engine.i18n import _

MAX_BODY_BYTES = 1024 * 1024  # a person is about 1 KB, a claim of a year's services some 100 KB
MAX_ERRORS = 50
SHOWN_CHARS = 64

# A lone surrogate can only come from a \uD800-\uDFFF escape: bodies without one are not walked.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(status_code=413, detail=too_large(limit))


def too_large(limit: int) -> str:
    return _("the request body is larger than {kib} KiB; nothing was read or stored", kib=limit // 1024)


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's limit, before the route reads any of it.

    A declared Content-Length over the limit is answered at once, unread; a body sent in chunks
    is counted as it is read and refused (``BodyTooLarge``, answered by the app's error handler)
    as soon as it passes the limit. (Starlette's own limiter rewrites the app's JSON 413 into
    plain text, so the service keeps its own.)
    """

    def __init__(self, app, default: int = MAX_BODY_BYTES, by_path: dict[str, int] | None = None):
        self.app = app
        self.default = default
        self.by_path = by_path or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.by_path.get(scope.get("path", ""), self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            body = json.dumps({"detail": too_large(limit)}, ensure_ascii=False).encode("utf-8")
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                    (b"content-length", str(len(body)).encode("ascii"))]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message
        await self.app(scope, counted, send)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyProblems(HTTPException):
    """A body refused before it reaches its route: 422 with every problem, in the usual error shape.

    An ``HTTPException`` so that FastAPI passes it through while it reads the body (any other
    exception there becomes an undocumented 400).
    """

    def __init__(self, items: list[dict]):
        super().__init__(status_code=422, detail=items)


def shown_text(text: str) -> str:
    """``text`` as it may be echoed: at most SHOWN_CHARS characters, any lone surrogate escaped."""
    cut = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8") if _LONE_SURROGATE.search(cut) else cut


def safe_loc(loc) -> list:
    return [shown_text(part) if isinstance(part, str) else part for part in loc]


def error_items(items: list[dict]) -> list[dict]:
    """At most MAX_ERRORS items (their paths and messages made safe to echo), then one saying how many more."""
    out = [{"loc": safe_loc(item.get("loc", ())), "msg": _short(str(item.get("msg", ""))),
            "type": str(item.get("type", ""))} for item in items[:MAX_ERRORS]]
    if len(items) > MAX_ERRORS:
        out.append({"loc": ["body"], "msg": _("… and {more} more problems (the first {listed} are listed)",
                                              more=len(items) - MAX_ERRORS, listed=MAX_ERRORS),
                    "type": Code.TOO_MANY_ERRORS})
    return out


def _short(message: str, limit: int = 512) -> str:
    message = message if len(message) <= limit else message[:limit] + "…"
    return message.encode("utf-8", "backslashreplace").decode("utf-8") if _LONE_SURROGATE.search(message) else message


def check_body(raw: bytes, value, root: tuple = ("body",)) -> None:
    """Raise ``BodyProblems`` for a parsed body holding text that is not Unicode."""
    if _SURROGATE_ESCAPE.search(raw) is None:
        return
    problems = text_problems(value, root)
    if problems:
        raise BodyProblems(error_items([{"loc": list(p.path), "msg": p.message, "type": p.code} for p in problems]))


def text_problems(value, path: tuple) -> list[InputProblem]:
    """The lone surrogates of one parsed JSON value, by path (names and texts)."""
    problems: list[InputProblem] = []
    _walk(value, path, problems)
    return problems


def _walk(value, path: tuple, problems: list) -> None:
    if len(problems) > MAX_ERRORS:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if _LONE_SURROGATE.search(key):
                problems.append(InputProblem(path + (key,), Code.INVALID_TEXT,
                                             _("the name is not valid Unicode text (a lone surrogate)")))
                continue
            _walk(item, path + (key,), problems)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, path + (i,), problems)
    elif isinstance(value, str) and _LONE_SURROGATE.search(value):
        problems.append(InputProblem(path, Code.INVALID_TEXT, _("not valid Unicode text (a lone surrogate)")))
