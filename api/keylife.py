"""API key life cycle in the key file: add with an expiry, list, revoke, rotate; who and when recorded.

Every change rewrites the file atomically (a new file, fsync, rename) under an exclusive lock
(``<file>.lock``), so a running service (which re-reads the file when it changes) never sees half
a file, and two operators never lose each other's change. The life cycle stays in the file, as
attributes of each key's line (``api.keys``): ``created=``, ``expires=``, ``revoked=``/``revoked_by=``,
``rotated=``/``rotated_by=``/``rotated_to=``. Keys from ``ALMP_API_KEYS`` are changed there.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.i18n import _

from .keys import ROLES, ApiKey, KeyFileError, digest, moment_text, new_key, parse_entry


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path) + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _write(path: Path, lines: list[str]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _line(key_digest: str, roles, name: str, attributes: dict) -> str:
    parts = [key_digest, ",".join(sorted(set(roles)))] + ([name] if name else [])
    return " ".join(parts + [f"{k}={v}" for k, v in attributes.items()])


def _check_name(name: str) -> None:
    if any(c.isspace() for c in name) or "#" in name or "=" in name:
        raise KeyFileError(_("a key name may not contain spaces, '#' or '='"))


def _check_who(who: str) -> str:
    who = "".join(who.split()).replace("#", "")[:64]
    return who or "unknown"


@dataclass(frozen=True)
class Listed:
    key: ApiKey
    line: int


def entries(path: Path) -> list[Listed]:
    out = []
    for number, text in enumerate(_lines(path), 1):
        try:
            entry = parse_entry(text, f"{path}:{number}")
        except KeyFileError:
            continue  # the service skips it too (and says so at start)
        if entry is not None:
            out.append(Listed(entry, number))
    return out


def add(path: Path, roles: list[str], name: str = "", *, expires: dt.datetime | None = None,
        now: dt.datetime | None = None) -> str:
    """Create a key, record its hash with its creation time (and expiry), return the key (seen only now)."""
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise KeyFileError(_("unknown role(s) {roles}; roles are {known}", roles=", ".join(bad) or "–",
                             known=", ".join(ROLES)))
    _check_name(name)
    now = now or dt.datetime.now(dt.timezone.utc)
    attributes = {"created": moment_text(now)}
    if expires is not None:
        attributes["expires"] = moment_text(expires)
    key = new_key()
    with _locked(path):
        _write(path, _lines(path) + [_line(digest(key), roles, name, attributes)])
    return key


def find(path: Path, selector: str) -> Listed:
    """The one key named ``selector``, or whose id (``key:<12 hex>``) or sha256 starts with it."""
    wanted = selector.strip().lower().removeprefix("key:").removeprefix("sha256:")
    found = [e for e in entries(path) if e.key.name == selector.strip()
             or (len(wanted) >= 8 and e.key.digest.split(":")[1].startswith(wanted))]
    if not found:
        raise KeyFileError(_("no key '{selector}' in {path}", selector=selector[:80], path=path))
    if len(found) > 1:
        raise KeyFileError(_("'{selector}' names {n} keys in {path}: give the key id (almp keys list)",
                             selector=selector[:80], n=len(found), path=path))
    return found[0]


def _rewrite(path: Path, target: Listed, attributes: dict, extra_line: str | None = None) -> None:
    lines = _lines(path)
    key = target.key
    current = parse_entry(lines[target.line - 1], f"{path}:{target.line}") if len(lines) >= target.line else None
    if current is None or current.digest != key.digest:
        raise KeyFileError(_("{path} changed while it was read; try again", path=path))
    comment = lines[target.line - 1].partition("#")[2]
    lines[target.line - 1] = _line(key.digest, key.roles, key.name, {**key.attributes, **attributes}) + \
        (f"  #{comment}" if comment else "")
    if extra_line:
        lines.append(extra_line)
    _write(path, lines)


def revoke(path: Path, selector: str, *, by: str, now: dt.datetime | None = None) -> ApiKey:
    now = now or dt.datetime.now(dt.timezone.utc)
    with _locked(path):
        target = find(path, selector)
        if target.key.state(now) == "revoked":
            raise KeyFileError(_("{key} is already revoked", key=target.key.key_id))
        _rewrite(path, target, {"revoked": moment_text(now), "revoked_by": _check_who(by)})
    return target.key


def rotate(path: Path, selector: str, *, by: str, grace: dt.timedelta = dt.timedelta(0),
           now: dt.datetime | None = None) -> tuple[str, ApiKey]:
    """A new key with the same roles and name; the old one expires after ``grace`` (0: at once)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with _locked(path):
        target = find(path, selector)
        old = target.key
        if old.state(now) != "active":
            raise KeyFileError(_("{key} is not active: add a new key instead", key=old.key_id))
        key = new_key()
        new_digest = digest(key)
        ends = now + grace
        current_expiry = old.when("expires")
        if current_expiry is not None and current_expiry < ends:
            ends = current_expiry
        attributes = {"created": moment_text(now)}
        if current_expiry is not None and current_expiry > now:
            attributes["expires"] = old.attributes["expires"]  # the new key keeps the old one's end, if any
        _rewrite(path, target, {"expires": moment_text(ends), "rotated": moment_text(now),
                                "rotated_by": _check_who(by), "rotated_to": "key:" + new_digest.split(":")[1][:12]},
                 extra_line=_line(new_digest, old.roles, old.name, attributes))
    return key, old
