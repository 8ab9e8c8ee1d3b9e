"""The language of each request: its ``lang`` query field, else its Accept-Language header, else Italian.

``RequestLanguage`` (ASGI middleware, outermost) sets it in the request's own context
(``engine.i18n`` keeps the language in a ``ContextVar``), so every message built while the
request is handled, in the event loop or in a worker thread (``asyncio.to_thread`` and
Starlette's thread pool copy the context), speaks the caller's language, and two requests in
different languages at once cannot swap. The server's own locale (LANG) is not the caller's
wish: with neither field nor header the answer is Italian.

The web console (``/console``) asks the same way with one step more: a person who picked a language
with the console's switch (remembered in the ``almp_lang`` cookie, set by the console when a page is
asked for with ``lang``) keeps it over whatever the browser's Accept-Language says; with no choice
made, the browser's header is respected, and Italian is the default.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from engine.i18n import DEFAULT_LANGUAGE, LANGUAGES, enter, leave

ACCEPT_LANGUAGE_DOC = ("Language of the human-readable texts of the answer (error details included): "
                       "`it` (default) or `en`, as in `Accept-Language: en-GB,en;q=0.9`. Error codes stay "
                       "English identifiers.")
_CONSOLE = "/console"
LANG_COOKIE = "almp_lang"  # the console's remembered choice (api.console.app sets it)


def accepted(header: str | None) -> str | None:
    """The language almp speaks that ``header`` (an Accept-Language value) prefers, or None.

    The range with the highest q wins, the first one on a tie; ``en-GB`` counts as ``en``, ``*``
    as Italian; ``q=0`` (or a q that is not a number from 0 to 1) excludes a range.
    """
    if not header:
        return None
    best, best_q = None, 0.0
    for part in header.split(",", 32)[:32]:  # a header of thousands of ranges is not read to the end
        tag, _, params = part.partition(";")
        primary = tag.strip().split("-", 1)[0].lower()
        if primary == "*":
            lang = DEFAULT_LANGUAGE
        elif primary in LANGUAGES:
            lang = primary
        else:
            continue
        q = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.split(";", 1)[0].strip())
                except ValueError:
                    continue
                if not 0 <= q <= 1:
                    continue
        if q > best_q:
            best, best_q = lang, q
            if q == 1.0:
                break  # nothing later can beat it: ties go to the first
    return best


def _query_lang(query_string: bytes) -> str | None:
    if b"lang=" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1")):
        if name == "lang" and value in LANGUAGES:
            return value
    return None


def scope_language(scope) -> str:
    """The language a request asks for (see the module docstring)."""
    asked = _query_lang(scope.get("query_string") or b"")
    if asked:
        return asked
    headers = scope.get("headers") or ()
    if scope.get("path", "").startswith(_CONSOLE):
        chosen = cookie_lang(headers)
        if chosen:
            return chosen
    for name, value in headers:
        if name == b"accept-language":
            return accepted(value.decode("latin-1")) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def cookie_lang(headers) -> str | None:
    """The language remembered in the console's ``almp_lang`` cookie, when it names one almp speaks."""
    for name, value in headers:
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, chosen = part.strip().partition("=")
            if key == LANG_COOKIE and chosen in LANGUAGES:
                return chosen
    return None


class RequestLanguage:
    """ASGI middleware: each HTTP request is handled in the language it asks for, and every error answer
    (4xx, 5xx) says which in ``Content-Language`` (answers that set their own, statements and 410s, keep it).
    The backstop's 500 is sent outside every middleware: it sets the header itself (``error_headers``)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        lang = scope_language(scope)
        token = enter(lang)

        async def send_saying_the_language(message):
            if message["type"] == "http.response.start" and message["status"] >= 400:
                headers = list(message.get("headers") or ())
                if not any(name.lower() == b"content-language" for name, _value in headers):
                    headers.append((b"content-language", lang.encode("ascii")))
                    message = {**message, "headers": headers}
            await send(message)
        try:
            await self.app(scope, receive, send_saying_the_language)
        finally:
            leave(token)


def error_headers(scope) -> dict:
    """The language header of an error answer sent where RequestLanguage cannot add it."""
    return {"Content-Language": scope_language(scope)}


query_lang = _query_lang  # the console remembers a language asked for this way
