"""The web console: an app of its own, mounted at ``/console`` by the API app.

It has its own middleware (the signed session cookie) and error pages, so nothing of it runs
on the JSON API's requests. It calls the same service objects the API routes call, so the
JSON API stays the single source of every answer.
"""
from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from engine.errors import PolicyNotFound

from ..language import LANG_COOKIE, query_lang
from . import session
from .texts import t
from .views import HERE, page, root

log = logging.getLogger("almp.console")

SECURITY_HEADERS = {
    # scripts and styles only from this server (htmx and Bootstrap Italia are vendored); inline
    # styles are allowed because Bootstrap Italia's components set them.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_console(parent: FastAPI) -> FastAPI:
    """The console app; ``parent`` holds the service and the key ring (``parent.state``)."""
    console = FastAPI(title="almp console", docs_url=None, redoc_url=None, openapi_url=None)
    console.state.service = lambda: parent.state.service
    console.state.keys = lambda: parent.state.keys
    console.add_middleware(_LazySessions)

    @console.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(root(request) + "/static/"):
            # pages may show personal data: never keep them in a shared or browser cache
            response.headers["Cache-Control"] = "no-store"
        chosen = query_lang(request.scope.get("query_string") or b"")
        if chosen:  # the switch's choice, remembered for the browser session (api.language reads it)
            response.set_cookie(LANG_COOKIE, chosen, path=root(request) or "/", httponly=True, samesite="lax")
        return response

    console.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _routes(console)
    _errors(console)
    for module in _pages():
        console.include_router(module.router)
    return console


class _LazySessions:
    """Starlette's signed-cookie sessions, built at the console's first request: the secret (file) is
    read or made only when someone uses the console, not whenever an API app is created."""

    def __init__(self, app):
        self.app = app
        self.inner = None

    async def __call__(self, scope, receive, send):
        if self.inner is None:
            self.inner = SessionMiddleware(self.app, secret_key=session.secret(), session_cookie=session.COOKIE,
                                           max_age=session.MAX_AGE, path="/console", same_site="strict",
                                           https_only=False)
        await self.inner(scope, receive, send)


def _pages():
    from . import bozza, confronta, decisioni, programmi, verifica
    return (programmi, confronta, verifica, bozza, decisioni)


def _routes(console: FastAPI) -> None:
    @console.get("/", include_in_schema=False)
    async def home(request: Request):
        user = session.current_user(request)
        if user is None:
            return RedirectResponse(root(request) + "/accesso", status_code=303)
        return page(request, "home.html", user=user)

    @console.get("/accesso", include_in_schema=False)
    async def sign_in_form(request: Request, dopo: str = ""):
        return page(request, "accesso.html", dopo=_safe_next(dopo), error="")

    @console.post("/accesso", include_in_schema=False)
    async def sign_in(request: Request, chiave: str = Form("", max_length=200), dopo: str = Form("", max_length=500)):
        await session.check_csrf(request)
        user = session.sign_in(request, chiave)
        if user is None:
            return page(request, "accesso.html", status_code=401, dopo=_safe_next(dopo),
                        error=t("console.signin.unknown_key"))
        log.info("console sign-in: %s (%s)", user.name, ", ".join(sorted(user.roles)))
        return RedirectResponse(root(request) + (_safe_next(dopo) or "/"), status_code=303)

    @console.post("/esci", include_in_schema=False)
    async def sign_out(request: Request):
        await session.check_csrf(request)
        session.sign_out(request)
        return RedirectResponse(root(request) + "/accesso", status_code=303)


def _safe_next(path: str) -> str:
    """Only a path inside the console (never another site) is followed after sign-in."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return ""
    return path


def _errors(console: FastAPI) -> None:
    @console.exception_handler(session.SignInRequired)
    async def sign_in_required(request: Request, _exc):
        here = request.url.path[len(root(request)):]
        if request.headers.get("HX-Request"):
            return page(request, "errore.html", status_code=401, title=t("console.error.session_expired"),
                        message=t("console.error.session_expired_text"))
        target = root(request) + "/accesso" + (f"?dopo={quote(here)}" if request.method == "GET" else "")
        return RedirectResponse(target, status_code=303)

    @console.exception_handler(session.RoleRequired)
    async def role_required(request: Request, exc: session.RoleRequired):
        return page(request, "errore.html", status_code=403, title=t("console.error.forbidden"),
                    message=t("console.error.forbidden_text", role=session.role_label(exc.role)))

    @console.exception_handler(PolicyNotFound)
    async def not_found(request: Request, exc: PolicyNotFound):
        return page(request, "errore.html", status_code=404, title=t("console.error.not_found"),
                    message=t("console.error.not_found_text"), detail=str(exc))

    @console.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 403 and exc.detail == "csrf":
            return page(request, "errore.html", status_code=403, title=t("console.error.csrf"),
                        message=t("console.error.csrf_text"))
        titles = {404: "console.error.page_not_found", 405: "console.error.not_allowed"}
        return page(request, "errore.html", status_code=exc.status_code,
                    title=t(titles.get(exc.status_code, "console.error.bad_request")),
                    message=exc.detail if isinstance(exc.detail, str) and exc.status_code == 400 else "")

    @console.exception_handler(Exception)
    async def backstop(request: Request, exc: Exception):
        incident = uuid.uuid4().hex[:12]
        log.exception("console: unexpected error %s", incident)
        return page(request, "errore.html", status_code=500, title=t("console.error.internal"),
                    message=t("console.error.internal_text", incident=incident))
