"""Rendering pages: the Jinja2 environment (autoescaped), the texts and formats of the request's language,
and what every page needs (menu, language switch)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from engine.i18n import LANGUAGES

from . import fmt
from .session import current_user, csrf_token
from .texts import GLOBALS, t

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(fmt.FILTERS)
templates.env.globals.update(GLOBALS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

# (path, catalogue key of its label, console role needed or None): the main menu, in the order of the work.
MENU = [
    ("/programmi", "console.nav.programmes", None),
    ("/confronta", "console.nav.compare", "funzionario"),
    ("/verifica", "console.nav.check", "operatore"),
    ("/bozza", "console.nav.draft", "funzionario"),
    ("/decisioni", "console.nav.decisions", "revisore"),
]


def root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def page(request: Request, name: str, status_code: int = 200, **context):
    user = context.pop("user", None) or current_user(request)
    base = root(request)
    menu = [(base + path, t(label), path) for path, label, role in MENU
            if user is not None and (role is None or user.can(role))]
    here = request.url.path[len(base):] if request.url.path.startswith(base) else request.url.path
    context.update({"user": user, "root": base, "static": base + "/static", "csrf": csrf_token(request),
                    "menu": menu, "here": here, "languages": switch(request)})
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def switch(request: Request) -> list[tuple[str, str]]:
    """(language, link) for the language switch: this page again with ``lang`` (the console remembers it).

    The page's own query fields are kept (the console never puts personal data in them)."""
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "lang"]
    return [(code, request.url.path + "?" + urlencode(query + [("lang", code)])) for code in LANGUAGES]


def fragment(request: Request, name: str, **context):
    """A piece of a page, for htmx: same template engine, no layout."""
    context.update({"root": root(request), "csrf": csrf_token(request)})
    return templates.TemplateResponse(request, name, context)
