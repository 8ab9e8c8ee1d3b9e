"""API keys: only their sha256 is ever stored; each key carries roles.

A key file has one key per line: ``sha256:<hex> <role>[,<role>...] [name] [attribute=value ...]``
(``#`` starts a comment). Attributes record each key's life cycle (``api.keylife`` writes them):
``created=``, ``expires=`` (a UTC time, or a date: the key stops working when that day begins),
``revoked=`` and ``revoked_by=``, ``rotated=``, ``rotated_by=`` and ``rotated_to=`` (the new key's
id). An expired or revoked key is refused with 401 and a precise code. ``ALMP_API_KEYS`` holds the same entries separated by ``;``. The file is
``ALMP_API_KEYS_FILE``, by default ``almp-keys.txt`` in the working directory.

A malformed line is skipped and said once (one warning naming file:line), not a failure of every
request; a key file that cannot be read at all leaves only the ``ALMP_API_KEYS`` keys in use,
and /v1/health says so (``KeyRing.state``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.i18n import _

log = logging.getLogger("almp.keys")

# policy: the officer's role in the web console (read and draft editions, simulate); no API route needs it yet
ROLES = ("evaluate", "audit", "admin", "policy")
DEFAULT_FILE = "almp-keys.txt"


class KeyFileError(ValueError):
    pass


@dataclass(frozen=True)
class ApiKey:
    digest: str
    roles: frozenset
    name: str
    attributes: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def caller(self) -> str:
        return self.name or "key:" + self.digest.split(":")[1][:12]

    def allows(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    @property
    def key_id(self) -> str:
        return "key:" + self.digest.split(":")[1][:12]

    def when(self, attribute: str) -> dt.datetime | None:
        return _moment(self.attributes.get(attribute), attribute, "")

    def state(self, now: dt.datetime | None = None) -> str:
        """"active", "expired" or "revoked" at ``now``."""
        now = now or dt.datetime.now(dt.timezone.utc)
        revoked = self.when("revoked")
        if revoked is not None and revoked <= now:
            return "revoked"
        expires = self.when("expires")
        if expires is not None and expires <= now:
            return "expired"
        return "active"


ATTRIBUTES = ("created", "expires", "revoked", "revoked_by", "rotated", "rotated_by", "rotated_to")
_MOMENTS = ("created", "expires", "revoked", "rotated")


def _moment(text: str | None, attribute: str, where: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise KeyFileError(_("{where}: {attribute}={value} is not a date (YYYY-MM-DD) or a UTC time "
                             "(YYYY-MM-DDTHH:MM:SSZ)", where=where, attribute=attribute, value=text[:40])) from None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def moment_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def keys_file(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("ALMP_API_KEYS_FILE") or DEFAULT_FILE)


def parse_entry(text: str, where: str) -> ApiKey | None:
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    parts = text.split()
    if len(parts) < 2 or not parts[0].startswith("sha256:") or len(parts[0]) != 71:
        raise KeyFileError(_("{where}: expected 'sha256:<64 hex> <roles> [name]'", where=where))
    roles = frozenset(r.strip() for r in parts[1].split(",") if r.strip())
    unknown = roles - set(ROLES)
    if unknown or not roles:
        raise KeyFileError(_("{where}: unknown role(s) {roles}; roles are {known}", where=where,
                             roles=", ".join(sorted(unknown)) or "–", known=", ".join(ROLES)))
    names, attributes = [], {}
    for token in parts[2:]:
        attribute, equals, value = token.partition("=")
        if equals and attribute in ATTRIBUTES:
            if attribute in _MOMENTS:
                _moment(value, attribute, where)  # refused here (file:line), not at each request
            attributes[attribute] = value
        else:
            names.append(token)  # a name written by hand may hold spaces
    return ApiKey(parts[0].lower(), roles, " ".join(names), attributes)


def parse_keys(text: str, where: str, separator: str = "\n", skipped: list[str] | None = None) -> dict[str, ApiKey]:
    """The keys of ``text``; a malformed line raises KeyFileError, or, given ``skipped``, is left out and
    its problem (file:line) appended there."""
    keys = {}
    for number, line in enumerate(text.split(separator), 1):
        try:
            entry = parse_entry(line, f"{where}:{number}")
        except KeyFileError as exc:
            if skipped is None:
                raise
            skipped.append(_("{problem} (line skipped: the other keys stay in use)", problem=exc))
            continue
        if entry is not None:
            keys[entry.digest] = entry
    return keys


class KeyRing:
    """The configured keys; the file is re-read when it changes, so adding a key needs no restart."""

    def __init__(self, path: Path | None = None, env_text: str | None = None):
        self.path = path
        env_skipped: list[str] = []
        self.env_keys = parse_keys(env_text or "", "ALMP_API_KEYS", ";", env_skipped)
        self._stamp = None
        self._file_keys: dict[str, ApiKey] = {}
        self._file_skipped: list[str] = []
        self.unreadable: str | None = None  # why the key file cannot be read, while it cannot
        self._lock = threading.Lock()
        for problem in env_skipped:
            log.warning("%s", problem)
        self._env_skipped = env_skipped

    @classmethod
    def from_environment(cls, path: str | None = None) -> "KeyRing":
        return cls(keys_file(path), os.environ.get("ALMP_API_KEYS", ""))

    def _current(self) -> dict[str, ApiKey]:
        if self.path is None:
            return self.env_keys
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._read_file(stamp is not None)
            return {**self._file_keys, **self.env_keys}

    def _read_file(self, exists: bool) -> None:
        # Said once per change of the file (one line each, file:line), never once per request.
        try:
            text = self.path.read_text(encoding="utf-8") if exists else ""
        except (OSError, UnicodeDecodeError) as exc:
            # no stale keys: a key revoked by rewriting the file must not outlive it
            self._file_keys, self._file_skipped = {}, []
            self.unreadable = _("{path}: the key file cannot be read ({error}); only the keys of ALMP_API_KEYS "
                                "are in use", path=self.path, error=exc.__class__.__name__)
            log.warning("%s", self.unreadable)
            return
        skipped: list[str] = []
        self._file_keys = parse_keys(text, str(self.path), skipped=skipped)
        self._file_skipped, self.unreadable = skipped, None
        for problem in skipped:
            log.warning("%s", problem)

    def state(self) -> str:
        """"ok", "lines_skipped" (malformed lines left out) or "unreadable" (the key file cannot be read)."""
        self._current()
        if self.unreadable:
            return "unreadable"
        return "lines_skipped" if self._file_skipped or self._env_skipped else "ok"

    def lookup(self, presented: str) -> ApiKey | None:
        return self._current().get(digest(presented))


def new_key() -> str:
    return "almp_" + secrets.token_urlsafe(32)


def add_key(path: Path, roles: list[str], name: str = "", expires=None) -> str:
    """Create a key, record its hash (and creation time, expiry) in ``path``, return the key (seen only now)."""
    from .keylife import add
    return add(path, roles, name, expires=expires)
