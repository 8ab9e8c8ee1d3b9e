"""Subject pseudonyms: a keyed hash (HMAC-SHA256) of a codice fiscale or of a caller's own subject id.

Decisions record the pseudonym, never the identifier, so auditors can find every decision
about one person (search by the pseudonym of a codice fiscale they hold) while the store
holds nothing that names anyone. The key lives outside the database (file named by
``ALMP_PSEUDONYM_KEY_FILE``, default ``./almp-pseudonym.key``, made on first use): without
it a pseudonym cannot be recomputed from a guessed codice fiscale, which a plain hash
would allow (codici fiscali are few enough to enumerate).

    from api.pseudonym import of_codice_fiscale, of_subject_id
    of_codice_fiscale("RSSMRA80A01F205X")          # 'ps1:9c0e…'
    of_subject_id("sportello-42", caller="cpi-milano")

Changing the key changes every pseudonym: keep it with the database backups.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import threading
from pathlib import Path

from .keymaterial import key_path, read_or_create

KEY_ENV = "ALMP_PSEUDONYM_KEY_FILE"
DEFAULT_KEY_FILE = "almp-pseudonym.key"
PREFIX = "ps1:"  # the scheme: bump it if the key or the construction ever changes
PATTERN = re.compile(r"^ps1:[0-9a-f]{64}$")
MAX_IDENTIFIER = 256


class Pseudonymiser:
    """Pseudonyms under one key."""

    def __init__(self, key: bytes):
        if len(key) < 32:
            raise ValueError("a pseudonym key needs at least 32 bytes")
        self._key = key

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "Pseudonymiser":
        return cls(read_or_create(key_path(KEY_ENV, DEFAULT_KEY_FILE, path)))

    def _mac(self, text: str) -> str:
        return PREFIX + hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def of_codice_fiscale(self, codice_fiscale: str) -> str:
        """The pseudonym of a person by codice fiscale (case and spaces do not matter)."""
        return self._mac("cf:" + _clean(codice_fiscale, "codice fiscale").upper())

    def of_subject_id(self, subject_id: str, caller: str) -> str:
        """The pseudonym of a caller's own identifier for a subject (scoped to that caller)."""
        return self._mac("id:" + _clean(caller, "caller") + "\x00" + _clean(subject_id, "subject id"))


def _clean(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be text")
    text = "".join(text.split())
    if not text or len(text) > MAX_IDENTIFIER:
        raise ValueError(f"{what} must be 1 to {MAX_IDENTIFIER} characters")
    return text


_default: dict[str, Pseudonymiser] = {}
_lock = threading.Lock()


def default() -> Pseudonymiser:
    """The service's pseudonymiser, keyed by the configured key file (read once per path)."""
    path = str(key_path(KEY_ENV, DEFAULT_KEY_FILE))
    with _lock:
        if path not in _default:
            _default[path] = Pseudonymiser.from_file(path)
        return _default[path]


def of_codice_fiscale(codice_fiscale: str) -> str:
    return default().of_codice_fiscale(codice_fiscale)


def of_subject_id(subject_id: str, caller: str) -> str:
    return default().of_subject_id(subject_id, caller)


def is_pseudonym(text: str) -> bool:
    return isinstance(text, str) and PATTERN.match(text) is not None
