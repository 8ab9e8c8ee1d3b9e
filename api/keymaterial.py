"""Secret key material kept outside the database: where each key lives and how it is made once.

Someone who can write to the database must not also hold the keys that make its records
trustworthy (checkpoint signing), searchable without clear identifiers (pseudonyms) or
readable (personal facts). Each key is a file named by an environment variable, like the
API key file; the default is a file in the working directory. A missing key file is
created on first use with O_EXCL, so several workers starting together agree on one key.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from engine.i18n import _

log = logging.getLogger("almp.keys")


class KeyMaterialError(RuntimeError):
    """A key file exists but cannot be read or does not hold a key of the expected form."""


def key_path(env: str, default: str, explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get(env) or default)


def read_or_create(path: Path, *, size: int = 32, create: bool = True) -> bytes:
    """The ``size`` random bytes held (base64) in ``path``; made and written (mode 0600) if absent."""
    try:
        return _decode(path, path.read_text(encoding="ascii"), size)
    except FileNotFoundError:
        if not create:
            raise KeyMaterialError(_("{path}: key file not found", path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyMaterialError(_("{path}: cannot read key file ({error})", path=path,
                                 error=exc.__class__.__name__)) from None
    material = secrets.token_bytes(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _decode(path, path.read_text(encoding="ascii"), size)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(material).decode("ascii") + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.warning(_("created key file {path} (keep it outside the database and back it up)", path=path))
    return material


def _decode(path: Path, text: str, size: int) -> bytes:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    try:
        material = base64.b64decode(lines[-1], validate=True) if lines else b""
    except ValueError:
        material = b""
    if len(material) != size:
        raise KeyMaterialError(_("{path}: expected {size} random bytes in base64 on the last line", path=path,
                                 size=size))
    return material
