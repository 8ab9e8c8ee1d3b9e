"""Who is using the console: sign-in with an API key, console roles, CSRF tokens, the session secret.

The session is a signed cookie (Starlette's SessionMiddleware, itsdangerous) holding only the
sha256 digest of the key, a CSRF token and the sign-in time: no personal data, and the key is
looked up again on every request, so removing it from the key file ends its sessions.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request

from ..keys import ApiKey, KeyRing, digest

COOKIE = "almp_console"
MAX_AGE = 8 * 3600  # one working day; the signature carries its time, so an old cookie is refused
SECRET_FILE = "almp-console.secret"

# Console role -> the API role a key needs for it (``admin`` holds every role).
ROLES = {
    "operatore": "evaluate",      # checks people, records decisions
    "funzionario": "policy",      # reads and drafts editions, simulates
    "revisore": "audit",          # reads, replays and verifies decisions
    "amministratore": "admin",
}
ROLE_LABELS = {role: f"console.role.{role}" for role in ROLES}  # catalogue keys


def role_label(role: str) -> str:
    from .texts import t
    return t(ROLE_LABELS[role])

reads_log = logging.getLogger("almp.console.reads")


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset  # console roles

    def can(self, role: str) -> bool:
        return role in self.roles or "amministratore" in self.roles

    @property
    def role_labels(self) -> list[str]:
        return [role_label(r) for r in ROLES if r in self.roles]


def console_roles(key: ApiKey) -> frozenset:
    return frozenset(role for role, api_role in ROLES.items() if key.allows(api_role))


def secret() -> str:
    """``ALMP_CONSOLE_SECRET``, else a random secret kept in a 0600 file that every worker shares."""
    explicit = os.environ.get("ALMP_CONSOLE_SECRET")
    if explicit:
        return explicit
    path = Path(os.environ.get("ALMP_CONSOLE_SECRET_FILE") or SECRET_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    for _ in range(50):  # another worker may be writing it this instant
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
        time.sleep(0.01)
    raise RuntimeError(f"{path}: empty console secret file; delete it and restart")


def _keys(request: Request) -> KeyRing:
    return request.app.state.keys()


def _key_by_digest(ring: KeyRing, key_digest: str) -> ApiKey | None:
    current = ring.by_digest(key_digest) if hasattr(ring, "by_digest") else ring._current().get(key_digest)
    return current


def current_user(request: Request) -> User | None:
    key_digest = request.session.get("key")
    if not key_digest:
        return None
    key = _key_by_digest(_keys(request), key_digest)
    if key is None:
        request.session.pop("key", None)
        return None
    return User(key.caller, console_roles(key))


def sign_in(request: Request, presented: str) -> User | None:
    key = _keys(request).lookup(presented.strip()) if presented else None
    if key is None:
        return None
    request.session.clear()
    request.session.update({"key": digest(presented.strip()), "csrf": secrets.token_urlsafe(32),
                            "since": int(time.time())})
    return User(key.caller, console_roles(key))


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or htmx header)."""
    expected = request.session.get("csrf")
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "csrf")


class SignInRequired(Exception):
    pass


class RoleRequired(Exception):
    def __init__(self, role: str):
        self.role = role


def need(role: str | None = None):
    """A dependency: the signed-in user holding ``role`` (any role when None)."""

    async def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise SignInRequired()
        if role is not None and not user.can(role):
            raise RoleRequired(role)
        return user
    return dependency


def log_read(user: User, what: str, decision_id: str) -> None:
    """Every read of personal data (facts of a person) is logged: who, what, which decision; never the data."""
    reads_log.info("console read: %s by %s of decision %s", what, user.name, decision_id)
