"""Rendering pages: the Jinja2 environment (autoescaped), it-IT filters, and what every page needs."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from . import fmt
from .session import current_user, csrf_token

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(fmt.FILTERS)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

# (path, label, console role needed or None): the main menu, in the order of the work.
MENU = [
    ("/programmi", "Programmi", None),
    ("/confronta", "Confronta", "funzionario"),
    ("/verifica", "Verifica una persona", "operatore"),
    ("/bozza", "Bozza", "funzionario"),
    ("/decisioni", "Decisioni", "revisore"),
]


def root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def page(request: Request, name: str, status_code: int = 200, **context):
    user = context.pop("user", None) or current_user(request)
    base = root(request)
    menu = [(base + path, label, path) for path, label, role in MENU
            if user is not None and (role is None or user.can(role))]
    here = request.url.path[len(base):] if request.url.path.startswith(base) else request.url.path
    context.update({"user": user, "root": base, "static": base + "/static", "csrf": csrf_token(request),
                    "menu": menu, "here": here})
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def fragment(request: Request, name: str, **context):
    """A piece of a page, for htmx: same template engine, no layout."""
    context.update({"root": root(request), "csrf": csrf_token(request)})
    return templates.TemplateResponse(request, name, context)
